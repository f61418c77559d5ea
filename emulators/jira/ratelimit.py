"""A request budget per fixed window (from config) and the fault responders of the admin surface.

Over budget, Jira Cloud answers 429 with `Retry-After` (seconds), `X-RateLimit-Limit`,
`X-RateLimit-Remaining`, `X-RateLimit-Reset` (ISO 8601 minute, `yyyy-MM-ddTHH:mmZ`) and
`RateLimit-Reason`. A 503 may carry `Retry-After` as well. Allowed responses carry the limit and what
is left, plus `X-RateLimit-NearLimit: true` once less than 20 % of the budget is left (as Cloud does).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from emulators.jira.errors import JiraError
from emulators.jira.settings import Settings

REASON = "jira-burst-based"
NEAR_LIMIT_SHARE = 0.2  # Cloud flags a response "near the limit" below 20 % of the budget left


def _reset_stamp(seconds: float) -> str:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%MZ")


def too_many_requests(limit: int, retry_after: int) -> JiraError:
    headers = {"Retry-After": str(retry_after), "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
               "X-RateLimit-Reset": _reset_stamp(retry_after), "RateLimit-Reason": REASON}
    return JiraError(429, ["Rate limit exceeded."], headers=headers)


class RateLimiter:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.window_start = time.monotonic()
        self.used = 0

    def take(self, settings: Settings) -> dict[str, str]:
        """Spend one request; the headers to add, or JiraError(429) when the budget is gone."""
        limit = settings.rate_limit
        if limit is None:
            return {}
        now = time.monotonic()
        if now - self.window_start >= limit.window_s:
            self.window_start, self.used = now, 0
        left = limit.window_s - (now - self.window_start)
        if self.used >= limit.budget:
            raise too_many_requests(limit.budget, max(1, math.ceil(left)))
        self.used += 1
        left_now = limit.budget - self.used
        headers = {"X-RateLimit-Limit": str(limit.budget), "X-RateLimit-Remaining": str(left_now)}
        if left_now < limit.budget * NEAR_LIMIT_SHARE:
            headers["X-RateLimit-NearLimit"] = "true"
        return headers


def fault_table(settings_of: Callable[[], Settings]) -> dict[str, Callable[[Request], Response]]:
    """Responders for injected faults `429`, `503` and `500` (`reset` and `slow` are transport faults)."""

    def rate_limited(_: Request) -> Response:
        settings = settings_of()
        budget = settings.rate_limit.budget if settings.rate_limit else 100
        return too_many_requests(budget, settings.fault_retry_after_s).response()

    def unavailable(_: Request) -> Response:
        retry = {"Retry-After": str(settings_of().fault_retry_after_s)}
        return JiraError(503, ["Service Unavailable. Please try again later."], headers=retry).response()

    def server_error(_: Request) -> Response:
        return JiraError(500, ["Internal server error"]).response()

    return {"429": rate_limited, "503": unavailable, "500": server_error}
