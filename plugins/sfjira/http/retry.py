"""When to retry an HTTP call and how long to wait: one policy for the Salesforce and Jira hooks.

The policy is pure (no I/O): it looks at the method, the status or the exception, the attempt
number and the time already spent, and answers with a `Decision`. `ResilientSession` carries it out.

Rules:
- 429, 500, 502, 503, 504 and transport errors are retried with exponential backoff and
  "equal jitter" (half of the step fixed, half random), capped per wait by `max_delay`.
- `Retry-After` (delta seconds or an HTTP-date) is honoured: the wait is at least that long. Without
  it, Jira Cloud's `X-RateLimit-Reset` (an ISO 8601 instant, `yyyy-MM-ddTHH:mmZ`) says until when.
- A successful answer with `X-RateLimit-Remaining: 0` and a reset time (Retry-After or
  X-RateLimit-Reset) means the next call would be refused: `pace` says how long to hold it back
  (capped by `max_delay`), so the client waits before the 429 instead of after it.
- The sum of all waits is capped by `max_total`. A 429 whose Retry-After does not fit the remaining
  budget, or a 429 still answered on the last attempt, stops with `limit_exceeded` instead of
  hammering the API.
- POST is not idempotent (bulk create, comments): it is only retried when the server said it did
  nothing (429, 503) or when the request never left (connect errors). Every other method is.
"""

from __future__ import annotations

import math
import random
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import urllib3

from sfjira.exceptions import ConfigError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# The server answered without doing the work, so even a POST may be sent again.
NOT_PROCESSED_STATUSES = frozenset({429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or HTTP-date); None if absent/invalid."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def parse_rate_limit_reset(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds until an `X-RateLimit-Reset` instant (Jira Cloud: `2026-11-29T12:00Z`, any ISO 8601 form with
    a zone is taken); None if absent or not a timestamp."""
    if value is None or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def server_wait(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """How long the server asked us to wait: Retry-After, else X-RateLimit-Reset; None if neither says."""
    retry_after = parse_retry_after(headers.get("Retry-After"), now)
    if retry_after is not None:
        return retry_after
    return parse_rate_limit_reset(headers.get("X-RateLimit-Reset"), now)


def transport_transient(exc: BaseException) -> bool:
    """A transport error that may pass on another try (refused, reset, timed out); a refused certificate,
    a TLS protocol mismatch and a bad URL are configuration and will not. A connection reset or closed
    in the middle of TLS also surfaces as an SSLError: that one is transient like any other reset."""
    if isinstance(exc, requests.exceptions.InvalidURL) or _tls_misconfigured(exc):
        return False
    return isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout)


_TLS_CONFIG_REASONS = ("WRONG_VERSION_NUMBER", "UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION",
                       "NO_PROTOCOLS_AVAILABLE", "CERTIFICATE_VERIFY_FAILED")


def _tls_misconfigured(exc: BaseException) -> bool:
    """Whether a certificate or protocol refusal is somewhere in the chain requests/urllib3 wrap around it."""
    todo: list[Any] = [exc]
    seen: set[int] = set()
    while todo:
        err = todo.pop()
        if not isinstance(err, BaseException) or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, ssl.SSLCertVerificationError) or getattr(err, "reason", None) in _TLS_CONFIG_REASONS:
            return True
        todo += [*err.args, getattr(err, "reason", None), err.__cause__, err.__context__]
    return isinstance(exc, requests.exceptions.SSLError) and "certificate verify failed" in str(exc).lower()


def _sent_nothing(exc: BaseException) -> bool:
    """True when the request certainly never reached the server (safe to resend any method)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)  # requests wraps urllib3's MaxRetryError(reason=...)
    return isinstance(inner, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError)


@dataclass(frozen=True)
class Decision:
    """What to do after one attempt. `delay` is in seconds; `reason` is for the log and errors."""

    retry: bool
    delay: float = 0.0
    reason: str = ""
    limit_exceeded: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, honouring Retry-After, with a cap on the total wait.

    :param max_attempts: attempts in all, the first one included (>= 1).
    :param base_delay: first backoff step in seconds; step n waits about base_delay * 2**(n-1).
    :param max_delay: cap on one backoff step (a longer Retry-After is still honoured).
    :param max_total: cap on the sum of all waits for one call, in seconds.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_total: float = 90.0
    retry_statuses: frozenset[int] = RETRY_STATUSES
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"retry max_attempts must be >= 1, got {self.max_attempts}",
                              fix="set the connection extra retry_max_attempts to 1 or more")
        for name in ("base_delay", "max_delay", "max_total"):
            if getattr(self, name) < 0:
                raise ConfigError(f"retry {name} must be >= 0 seconds, got {getattr(self, name)}",
                                  fix=f"set the connection extra retry_{name} to 0 or more seconds")

    @classmethod
    def from_extras(cls, extras: Mapping[str, Any]) -> RetryPolicy:
        """Build from connection extras `retry_max_attempts`, `retry_base_delay`, `retry_max_delay`,
        `retry_max_total` (all optional)."""
        kwargs: dict[str, Any] = {}
        for key, cast in (("max_attempts", int), ("base_delay", float), ("max_delay", float),
                          ("max_total", float)):
            raw = extras.get(f"retry_{key}")
            if raw not in (None, ""):
                try:
                    kwargs[key] = cast(raw)
                except (TypeError, ValueError):
                    raise ConfigError(f"connection extra retry_{key} must be a number, got {raw!r}",
                                      fix=f"write retry_{key} as a plain number in the connection's extra") \
                        from None
        return cls(**kwargs)

    def backoff(self, attempt: int) -> float:
        """Wait after failed attempt number `attempt` (1-based), with equal jitter."""
        step = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return step / 2 + self.rng.uniform(0, step / 2)

    def _wait(self, attempt: int, waited: float, retry_after: float | None, reason: str,
              limit_on_overflow: bool) -> Decision:
        if attempt >= self.max_attempts:
            return Decision(False, reason=f"{reason}; gave up after {attempt} attempts",
                            limit_exceeded=limit_on_overflow)
        delay = self.backoff(attempt)
        if retry_after is not None:
            delay = max(delay, retry_after)
        budget = self.max_total - waited
        if delay > budget:
            if retry_after is not None and retry_after > budget:
                why = f"{reason}; Retry-After {retry_after:.0f}s exceeds the remaining retry budget {budget:.0f}s"
            else:
                why = f"{reason}; retry budget of {self.max_total:.0f}s spent"
            return Decision(False, reason=why, limit_exceeded=limit_on_overflow)
        return Decision(True, delay=delay, reason=reason)

    def for_response(self, method: str, status: int, headers: Mapping[str, str], attempt: int,
                     waited: float, now: datetime | None = None) -> Decision:
        """Decide after a response. `waited` is the sum of earlier waits for this call."""
        if status not in self.retry_statuses:
            return Decision(False)
        if method.upper() not in IDEMPOTENT_METHODS and status not in NOT_PROCESSED_STATUSES:
            return Decision(False, reason=f"HTTP {status} on {method.upper()} (not idempotent, not retried)")
        return self._wait(attempt, waited, server_wait(headers, now), f"HTTP {status}",
                          limit_on_overflow=status == 429)

    def pace(self, status: int, headers: Mapping[str, str], now: datetime | None = None) -> float:
        """Seconds to hold the next call back after a successful answer that spent the rate window's last
        request (`X-RateLimit-Remaining: 0` with a reset time), capped by `max_delay`; else 0."""
        if status >= 400 or str(headers.get("X-RateLimit-Remaining", "")).strip() != "0":
            return 0.0
        wait = server_wait(headers, now)
        return min(wait, self.max_delay) if wait else 0.0

    def for_exception(self, method: str, exc: BaseException, attempt: int, waited: float) -> Decision:
        """Decide after a transport error (connection refused/reset, timeout)."""
        if not transport_transient(exc):
            return Decision(False, reason="not a passing network fault (refused certificate, TLS protocol, URL)")
        if method.upper() not in IDEMPOTENT_METHODS and not _sent_nothing(exc):
            return Decision(False, reason=f"{type(exc).__name__} on {method.upper()} (may have been applied)")
        return self._wait(attempt, waited, None, type(exc).__name__, limit_on_overflow=False)
