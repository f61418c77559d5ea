"""Typed errors. Each carries a stable code, the record it concerns (if any) and the fix.

Every error a user can meet says what to do about it: `str(err)` is
"[CODE] message (record ...) -- fix: ...".

Each error also says whether it is worth retrying (`transient`): a 503, a dropped connection or a
locked database may pass on the next try, an invalid mapping, refused credentials, a missing
permission or a spent daily API limit will not. The operators fail terminal errors at once
(`AirflowFailException`) and leave transient ones to Airflow's retries (`is_transient`).
Package-specific classes live beside their package (`state`, `hooks`, `http`, `reconcile`, `pii`, ...)
and derive from the ones here.
"""

from __future__ import annotations

from typing import Any

# HTTP statuses that say "not now" rather than "not like this": timeout, too early, too many requests,
# and server-side failures (except 501/505, which will not change on a retry).
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 507, 509}) | frozenset(range(520, 531))


def transient_status(status: int | None) -> bool:
    return status in _TRANSIENT_STATUSES


class SfJiraError(Exception):
    """Base of every sfjira error. `transient` (class default, overridable per raise) says whether
    running the same task again, unchanged, may succeed; by default a typed error needs a person."""

    code = "SFJIRA_ERROR"
    transient = False

    def __init__(self, message: str, *, fix: str = "", record: Any = None, code: str | None = None,
                 transient: bool | None = None) -> None:
        self.message = message
        self.fix = fix
        self.record = record
        if code:
            self.code = code
        if transient is not None:
            self.transient = transient
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
    """An external API refused a call. `status` is the HTTP status, `code` the API's error code.

    Transient when the status says so (408, 425, 429, 5xx); a 4xx or a broken contract is not. A call
    that never got an answer passes `transient=` itself (a reset connection is, a TLS failure is not)."""

    code = "API_ERROR"
    # Subclasses whose meaning outweighs the status (a spent daily limit is answered with 403) set this.
    ignores_status = False

    def __init__(self, message: str, *, status: int | None = None, fix: str = "", record: Any = None,
                 code: str | None = None, transient: bool | None = None) -> None:
        self.status = status
        if transient is None and status is not None and not self.ignores_status:
            transient = transient_status(status)
        super().__init__(message, fix=fix, record=record, code=code, transient=transient)


class ApiLimitExceeded(ApiError):
    """A daily/rate budget is spent: stop instead of hammering the API. Terminal: the daily budget does
    not come back within Airflow's retry delays (a short rate-limit window passes `transient=True`)."""

    code = "REQUEST_LIMIT_EXCEEDED"
    ignores_status = True


class AuthError(ApiError):
    """Credentials refused or the connection misconfigured: terminal, unless the token endpoint itself
    answered 5xx/429 (then its status makes it transient)."""

    code = "AUTH_FAILED"


class InsecureTransport(AuthError):
    """A connection would send credentials without TLS (INSECURE_HTTP) or without checking the
    server's certificate (INSECURE_TLS). Raised before anything is sent."""

    code = "INSECURE_HTTP"


class StateStoreError(SfJiraError):
    """Terminal (a broken rule, bad input, an old schema) unless raised with `transient=True` (the
    database is unreachable or locked right now: see `state.errors.db_error`)."""

    code = "STATE_STORE"


class ConfigError(SfJiraError, ValueError):
    """A setting (connection extra, DAG run param, hook argument taken from data) has a value sfjira
    cannot use. Also a ValueError, so callers written against the old bare ValueErrors still catch it."""

    code = "CONFIG_INVALID"


def is_transient(exc: BaseException) -> bool:
    """Worth an Airflow retry? sfjira errors say so themselves; anything else (a bug, a library error
    nobody typed yet) is retried as Airflow always did."""
    if isinstance(exc, SfJiraError):
        return exc.transient
    return True
