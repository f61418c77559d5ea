"""Typed errors. Each carries a stable code, the record it concerns (if any) and the fix.

Every error a user can meet says what to do about it: `str(err)` is
"[CODE] message (record ...) -- fix: ...".
"""

from __future__ import annotations

from typing import Any


class SfJiraError(Exception):
    code = "SFJIRA_ERROR"

    def __init__(self, message: str, *, fix: str = "", record: Any = None, code: str | None = None) -> None:
        self.message = message
        self.fix = fix
        self.record = record
        if code:
            self.code = code
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" (record {self.record})" if self.record is not None else ""
        fix = f" -- fix: {self.fix}" if self.fix else ""
        return f"[{self.code}] {self.message}{where}{fix}"


class MappingError(SfJiraError):
    """A mapping file is invalid. Carries the file, line and field."""

    code = "MAPPING_INVALID"

    def __init__(self, message: str, *, file: str, field: str = "", line: int | None = None, fix: str = "",
                 code: str | None = None) -> None:
        self.file = file
        self.field = field
        self.line = line
        super().__init__(message, fix=fix, code=code)

    def __str__(self) -> str:
        loc = self.file + (f":{self.line}" if self.line else "")
        field = f" field `{self.field}`:" if self.field else ""
        fix = f" -- fix: {self.fix}" if self.fix else ""
        return f"{loc}:{field} [{self.code}] {self.message}{fix}"


class TransformError(SfJiraError):
    code = "TRANSFORM_FAILED"


class ApiError(SfJiraError):
    """An external API refused a call. `status` is the HTTP status, `code` the API's error code."""

    code = "API_ERROR"

    def __init__(self, message: str, *, status: int | None = None, fix: str = "", record: Any = None,
                 code: str | None = None) -> None:
        self.status = status
        super().__init__(message, fix=fix, record=record, code=code)


class ApiLimitExceeded(ApiError):
    """A daily/rate budget is spent: stop instead of hammering the API."""

    code = "REQUEST_LIMIT_EXCEEDED"


class AuthError(ApiError):
    code = "AUTH_FAILED"


class InsecureTransport(AuthError):
    """A connection would send credentials without TLS (INSECURE_HTTP) or without checking the
    server's certificate (INSECURE_TLS). Raised before anything is sent."""

    code = "INSECURE_HTTP"


class StateStoreError(SfJiraError):
    code = "STATE_STORE"
