"""What every /services/data call goes through: version check, session, daily API limit, error shape,
and the `Sforce-Limit-Info` header."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from emulators.salesforce.defaults import API_VERSIONS
from emulators.salesforce.errors import (
    SOQL_FIELD_HINT,
    ApiError,
    RecordError,
    SfError,
    error_response,
    invalid_session,
    json_parser_error,
    not_found,
    request_limit_exceeded,
)
from emulators.salesforce.oauth import TokenStore
from emulators.salesforce.org import Org
from emulators.salesforce.schema import SObjectDef
from emulators.salesforce.store import Record


@dataclass
class Call:
    request: Request
    org: Org
    user_id: str
    version: str

    def sobject(self, name: str | None = None) -> SObjectDef:
        obj = self.org.schema.get(name or self.request.path_params["sobject"])
        if obj is None:
            raise not_found()
        return obj

    async def body(self) -> tuple[Any, str]:
        """The parsed JSON body and its text (parser errors quote positions in it)."""
        raw = (await self.request.body()).decode("utf-8", errors="replace")
        try:
            return json.loads(raw), raw
        except json.JSONDecodeError as exc:
            raise json_parser_error(f"{exc.msg} at [line:{exc.lineno}, column:{exc.colno}]") from None

    def record_url(self, sobject: str, record_id: str) -> str:
        return f"/services/data/v{self.version}/sobjects/{sobject}/{record_id}"

    def render(self, obj: SObjectDef, record: Record, fields: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": {"type": obj.name, "url": self.record_url(obj.name, record["Id"])}}
        if not fields:
            out.update((name, record.get(name)) for name in obj.fields)
            return out
        for name in (n.strip() for n in fields.split(",") if n.strip()):
            field = obj.field(name)
            if field is None:
                raise SfError(400, ApiError("INVALID_FIELD", f"No such column '{name}' on entity '{obj.name}'. "
                                                             f"{SOQL_FIELD_HINT}"))
            out[field.name] = record.get(field.name)
        return out


Handler = Callable[[Call], Awaitable[Response]]


class Api:
    def __init__(self, org: Org, tokens: TokenStore) -> None:
        self.org = org
        self.tokens = tokens

    def endpoint(self, handler: Handler, authenticated: bool = True) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                response = await handler(self._call(request, authenticated))
            except SfError as exc:
                response = error_response(exc.status, exc.errors)
            except RecordError as exc:
                response = error_response(exc.status, exc.errors)
            if authenticated:
                response.headers["Sforce-Limit-Info"] = \
                    f"api-usage={self.org.usage.used}/{self.org.config['api_daily_max']}"
            return response

        return run

    def _call(self, request: Request, authenticated: bool) -> Call:
        raw_version = request.path_params.get("version", "")
        version = raw_version[1:] if raw_version.startswith("v") else ""
        if raw_version and version not in API_VERSIONS:
            raise not_found()
        if not authenticated:
            return Call(request, self.org, "", version)
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        user_id = self.tokens.access_user(token.strip()) if scheme.lower() in ("bearer", "oauth") else None
        if user_id is None:
            raise invalid_session()
        usage = self.org.usage
        usage.roll(self.org.clock.now_ms())
        if usage.used >= self.org.config["api_daily_max"]:
            raise request_limit_exceeded()
        usage.used += 1
        return Call(request, self.org, user_id, version)
