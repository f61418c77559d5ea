"""Salesforce's error shapes and the texts of the errors the emulator gives.

Single-record endpoints answer `[{"message", "errorCode", "fields"}]`; inside sObject Collections results
each item carries `{"statusCode", "message", "fields"}`. The texts follow what real orgs return.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

SOQL_FIELD_HINT = ("If you are attempting to use a custom field, be sure to append the '__c' after the custom "
                   "field name. Please reference your WSDL or the describe call for the appropriate names.")
ROLLED_BACK = "Record rolled back because not all records were valid and the request was using AllOrNone header"


@dataclass(frozen=True)
class ApiError:
    code: str
    message: str
    fields: tuple[str, ...] = field(default_factory=tuple)

    def as_rest(self) -> dict[str, Any]:
        return {"message": self.message, "errorCode": self.code, "fields": list(self.fields)}

    def as_item(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}


class SfError(Exception):
    """The whole call fails (bad JSON, unknown field, bad session, ...)."""

    def __init__(self, status: int, *errors: ApiError) -> None:
        super().__init__("; ".join(f"{e.code}: {e.message}" for e in errors))
        self.status = status
        self.errors = list(errors)


class RecordError(Exception):
    """One record fails; in a collection the others still go on (unless allOrNone)."""

    def __init__(self, *errors: ApiError, status: int = 400) -> None:
        super().__init__("; ".join(f"{e.code}: {e.message}" for e in errors))
        self.status = status
        self.errors = list(errors)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # ensure_ascii=False: real orgs send UTF-8, and unicode test data must round-trip unescaped.
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(payload, status_code=status, media_type="application/json;charset=UTF-8", headers=headers)


def error_response(status: int, errors: list[ApiError]) -> Response:
    return json_response([e.as_rest() for e in errors], status)


def not_found() -> SfError:
    return SfError(404, ApiError("NOT_FOUND", "The requested resource does not exist"))


def invalid_session() -> SfError:
    return SfError(401, ApiError("INVALID_SESSION_ID", "Session expired or invalid"))


def request_limit_exceeded() -> SfError:
    return SfError(403, ApiError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))


def entity_deleted() -> ApiError:
    return ApiError("ENTITY_IS_DELETED", "entity is deleted")


def no_such_column(sobject: str, name: str) -> SfError:
    return SfError(400, ApiError("INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}"))


def json_parser_error(message: str) -> SfError:
    return SfError(400, ApiError("JSON_PARSER_ERROR", message))


def malformed_id(label: str, value: object, fields: tuple[str, ...] = ("Id",)) -> ApiError:
    return ApiError("MALFORMED_ID", f"{label}: id value of incorrect type: {value}", fields)


def soql_error(code: str, query: str, pos: int, detail: str) -> SfError:
    """Salesforce points at the offending spot: the query line, a caret, `ERROR at Row:R:Column:C`."""
    before = query[:pos]
    row = before.count("\n") + 1
    line_start = before.rfind("\n") + 1
    line_end = query.find("\n", pos)
    line = query[line_start:line_end if line_end >= 0 else len(query)]
    column = pos - line_start + 1
    message = f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{detail}"
    return SfError(400, ApiError(code, message))
