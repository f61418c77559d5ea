"""API-call accounting: how many calls each endpoint took, for run reports and budgets.

Endpoints are counted as `METHOD /path/with/{id}` so that a thousand issue updates are one line,
not a thousand. Every attempt counts (a retried call costs API quota twice).
"""

from __future__ import annotations

import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Path segments that identify one record rather than an endpoint.
_ID_SEGMENTS = (
    (re.compile(r"^[A-Z][A-Z0-9_]*-\d+$"), "{key}"),                # Jira issue key SUP-12
    (re.compile(r"^\d+$"), "{id}"),                                  # Jira numeric id
    (re.compile(r"^[a-zA-Z0-9]{15,18}-\d+$"), "{locator}"),          # SOQL query locator
    (re.compile(r"^(?=[a-zA-Z0-9]*\d)[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$"), "{id}"),  # Salesforce id
)
_VERSIONED = frozenset({"api", "agile", "auth"})


def endpoint_of(method: str, url: str) -> str:
    """`GET https://x/rest/api/3/issue/SUP-1/transitions?a=b` -> `GET /rest/api/3/issue/{key}/transitions`."""
    parts: list[str] = []
    for segment in urlsplit(url).path.split("/"):
        if parts and parts[-1] in _VERSIONED:  # /rest/api/3 is a version, not an id
            parts.append(segment)
            continue
        for pattern, placeholder in _ID_SEGMENTS:
            if pattern.match(segment):
                segment = placeholder
                break
        parts.append(segment)
    path = "/".join(parts).rstrip("/") or "/"  # simple_salesforce asks for "query/", others for "query"
    return f"{method.upper()} {path}"


@dataclass
class CallCounter:
    """Counts attempts per endpoint, retries, transport errors, the seconds each endpoint took to answer
    (latency), and the time spent waiting: after a refusal (by reason: `HTTP 429`, `HTTP 503`,
    `ConnectionError`...) and ahead of a rate limit (paced). Thread-safe: a load's chunks call at once."""

    calls: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    retries: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    waits: Counter[str] = field(default_factory=Counter)
    waited_s: float = 0.0
    paced: int = 0
    paced_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, method: str, url: str, status: int | None, elapsed: float = 0.0) -> str:
        """One attempt; `elapsed`: seconds from sending to the whole answer read (or the transport error)."""
        key = endpoint_of(method, url)
        with self._lock:
            self.calls[key] += 1
            self.seconds[key] += elapsed
            self.statuses[status if status is not None else 0] += 1
        return key

    def record_retry(self, key: str, reason: str = "", delay: float = 0.0) -> None:
        with self._lock:
            self.retries[key] += 1
            if reason:
                self.waits[reason] += 1
            self.waited_s += delay

    def record_pace(self, delay: float) -> None:
        with self._lock:
            self.paced += 1
            self.paced_s += delay

    def waiting(self) -> dict[str, object]:
        """Retries by reason and seconds waited (after refusals, and paced ahead of a spent rate window)."""
        return {"retries": dict(sorted(self.waits.items())), "waited_s": round(self.waited_s, 3),
                "paced": self.paced, "paced_s": round(self.paced_s, 3)}

    def latency(self) -> dict[str, dict[str, float]]:
        """Per endpoint: attempts and the seconds they took in all (a report sums steps, then divides)."""
        return {key: {"calls": n, "seconds": round(self.seconds[key], 6)} for key, n in sorted(self.calls.items())}

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def snapshot(self) -> dict[str, object]:
        """A JSON-able summary for reports and XCom (no secrets: paths without query strings)."""
        return {"total": self.total, "by_endpoint": dict(sorted(self.calls.items())),
                "retries": dict(sorted(self.retries.items()))}
