"""Jira's error body `{"errorMessages": [...], "errors": {...}}` and the JSON responses it rides on."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

JSON_TYPE = "application/json;charset=UTF-8"  # what Jira sends (atlassian-python-api checks it on 401)

ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."


class JiraJSON(Response):
    media_type = JSON_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class JiraError(Exception):
    """Raised by handlers; rendered as Jira's ErrorCollection with the given status."""

    def __init__(self, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(messages or errors)
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"errorMessages": self.messages, "errors": self.errors}

    def response(self) -> Response:
        return JiraJSON(self.body(), status_code=self.status, headers=self.headers)


def bad_request(message: str) -> JiraError:
    return JiraError(400, [message])


def field_errors(errors: dict[str, str]) -> JiraError:
    return JiraError(400, errors=errors)


def not_found(message: str = ISSUE_NOT_FOUND) -> JiraError:
    return JiraError(404, [message])


LOCKED = "You do not have permission to edit or transition this issue."


def locked(message: str = LOCKED) -> JiraError:
    # The spec documents a missing edit or transition permission as a 400 of both operations.
    return JiraError(400, [message])
