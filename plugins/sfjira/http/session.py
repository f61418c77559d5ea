"""A requests Session that retries, pins the CA bundle, refuses plain HTTP, refreshes auth once and
counts calls.

It overrides `Session.request`, the one method simple_salesforce and atlassian-python-api both
call, so the stock clients get the same behaviour as our own calls without being patched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from sfjira.exceptions import ApiLimitExceeded
from sfjira.http.accounting import CallCounter
from sfjira.http.retry import RetryPolicy
from sfjira.http.tls import PinnedCAAdapter
from sfjira.http.transport import PlainHttpGuard, TransportPolicy

log = logging.getLogger(__name__)

# Returns replacement headers (e.g. a new Authorization) when the response says the token expired.
AuthRefresher = Callable[[requests.Response], Mapping[str, str] | None]
# Returns the error to raise when the response says a quota is spent (no retry can help).
LimitDetector = Callable[[requests.Response], ApiLimitExceeded | None]
ResponseObserver = Callable[[requests.Response], None]

DEFAULT_TIMEOUT = (10.0, 120.0)  # (connect, read) seconds; the stock clients may send none


class ResilientSession(requests.Session):
    """Session for one API. `system` names it in logs and errors ("Salesforce", "Jira").

    `transport` (the connection's TLS rules) wins over `verify`; without it, plain http:// is refused.
    """

    def __init__(self, *, system: str, verify: str | bool = True, policy: RetryPolicy | None = None,
                 counter: CallCounter | None = None, timeout: Any = DEFAULT_TIMEOUT,
                 sleep: Callable[[float], None] = time.sleep, transport: TransportPolicy | None = None) -> None:
        super().__init__()
        self.system = system
        self.policy = policy or RetryPolicy()
        self.counter = counter or CallCounter()
        self.default_timeout = timeout
        self.sleep = sleep
        self.auth_refresher: AuthRefresher | None = None
        self.limit_detector: LimitDetector | None = None
        self.observers: list[ResponseObserver] = []
        self._hold_until = 0.0  # time.monotonic() before which the next call waits (a spent rate window)
        self.transport = transport or TransportPolicy(system, verify=verify)
        self.verify = self.transport.verify
        self.mount("https://", PinnedCAAdapter(self.transport.verify))
        self.mount("http://", PlainHttpGuard(self.transport))
        self.transport.warn_if_insecure()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        method = method.decode() if isinstance(method, bytes) else method
        url = url.decode() if isinstance(url, bytes) else url
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        attempt, waited, refreshed = 0, 0.0, False
        while True:
            attempt += 1
            self._hold()
            started = time.monotonic()
            try:
                response = super().request(method, url, *args, **kwargs)
            except requests.RequestException as exc:
                key = self.counter.record(method, url, None, time.monotonic() - started)
                decision = self.policy.for_exception(method, exc, attempt, waited)
                if not decision.retry:
                    raise
                self._pause(key, decision.delay, decision.reason, attempt)
                waited += decision.delay
                continue
            key = self.counter.record(method, url, response.status_code, time.monotonic() - started)
            for observe in self.observers:
                observe(response)
            if not refreshed and self.auth_refresher is not None:
                new_headers = self.auth_refresher(response)
                if new_headers:
                    refreshed = True
                    kwargs["headers"] = {**(kwargs.get("headers") or {}), **new_headers}
                    log.info("%s: session expired on %s; re-authenticated, sending again", self.system, key)
                    continue
            if self.limit_detector is not None and (limit := self.limit_detector(response)) is not None:
                raise limit
            self._note_pace(key, response)
            decision = self.policy.for_response(method, response.status_code, response.headers, attempt, waited)
            if decision.limit_exceeded:
                raise self._rate_limited(key, response, decision.reason)
            if not decision.retry:
                return response
            response.close()
            self._pause(key, decision.delay, decision.reason, attempt)
            waited += decision.delay

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        # requests calls this for every redirect it follows, before sending: the one place to stop a
        # downgrade that would resend a token request's body in clear.
        self.transport.check_redirect(str(response.url), str(prepared_request.url))
        super().rebuild_auth(prepared_request, response)

    def _note_pace(self, key: str, response: requests.Response) -> None:
        delay = self.policy.pace(response.status_code, response.headers)
        if delay > 0:
            log.info("%s: %s spent the rate-limit window; the next call waits %.2fs for it to reset", self.system,
                     key, delay)
            self._hold_until = time.monotonic() + delay

    def _hold(self) -> None:
        """Wait out a rate window an earlier answer said is spent (see RetryPolicy.pace)."""
        delay = self._hold_until - time.monotonic()
        self._hold_until = 0.0
        if delay > 0:
            self.counter.record_pace(delay)
            self.sleep(delay)

    def _pause(self, key: str, delay: float, reason: str, attempt: int) -> None:
        self.counter.record_retry(key, reason, delay)
        log.warning("%s: %s on %s (attempt %d of %d); retrying in %.2fs", self.system, reason, key, attempt,
                    self.policy.max_attempts, delay)
        self.sleep(delay)

    def _rate_limited(self, key: str, response: requests.Response, reason: str) -> ApiLimitExceeded:
        response.close()
        return ApiLimitExceeded(
            f"{self.system} rate limit hit on {key}: {reason}",
            status=response.status_code,
            code="RATE_LIMITED",
            transient=True,  # a rate window resets within minutes, unlike a daily limit
            fix=f"let the {self.system} rate limit reset (see Retry-After) and rerun the task; lower the "
                "sync frequency or page size, or raise `retry_max_total` in the connection extra",
        )
