"""Outgoing HTTP(S) deliveries with retries, shared by Jira's webhooks and Salesforce's outbound messages.

Both real services queue an event, send it from a background process, judge the receiver's answer and
retry a failed send later, so a receiver must cope with duplicates and with any order. This module does
that for the emulators: `Outbox.submit` queues a `Message`; a few worker threads (not the server's event
loop, so a slow receiver never holds up the REST API) POST it when due, record every attempt, and ask the
message's `judge` whether the answer was an acknowledgement ("ok"), worth another try ("retry") or final
("fail"). The retry schedule is a `RetryPolicy`, read afresh for every attempt so a test can shorten it
at runtime. Pending retries live in memory only: a restarted emulator has forgotten them.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

OK, RETRY, FAIL = "ok", "retry", "fail"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
ATTEMPTS_KEPT = 2_000  # messages kept for inspection; the oldest finished ones go first
WORKERS = 4  # several sends at once: a receiver sees them in no particular order, as with the real services


@dataclass
class RetryPolicy:
    """When to try again. `delays_s[n]` is the wait before retry n+1 (the last one repeats); a message is
    dropped after `max_retries` retries or once it is `max_age_s` old, whichever comes first (None: no cap).
    `verify` is True, False or a CA bundle path for HTTPS receivers; `shuffle_s` holds each first send back
    by a random 0..shuffle_s seconds, to show receivers that events arrive in no guaranteed order."""

    delays_s: list[float] = field(default_factory=lambda: [60.0])
    max_retries: int | None = 5
    max_age_s: float | None = None
    timeout_s: float = 20.0
    verify: bool | str = True
    shuffle_s: float = 0.0

    def delay(self, retry: int) -> float:
        return self.delays_s[min(retry, len(self.delays_s)) - 1] if self.delays_s else 0.0

    def gives_up(self, retries_done: int, age_s: float) -> bool:
        if self.max_retries is not None and retries_done >= self.max_retries:
            return True
        return self.max_age_s is not None and age_s + self.delay(retries_done + 1) > self.max_age_s

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any], base: RetryPolicy | None = None) -> RetryPolicy:
        """Validated: ValueError names the bad key; keys left out keep `base`'s values."""
        data = {**(base or cls()).to_dict(), **body}
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown delivery keys {unknown}; allowed: {', '.join(sorted(cls.__dataclass_fields__))}")
        delays = data["delays_s"]
        if not isinstance(delays, list) or not delays or not all(_number(d) and d >= 0 for d in delays):
            raise ValueError("delays_s must be a non-empty list of seconds >= 0")
        for key in ("max_retries", "max_age_s"):
            if data[key] is not None and (not _number(data[key]) or data[key] < 0):
                raise ValueError(f"{key} must be a number >= 0 or null")
        for key in ("timeout_s", "shuffle_s"):
            if not _number(data[key]) or data[key] < 0:
                raise ValueError(f"{key} must be a number >= 0")
        if not isinstance(data["verify"], bool | str):
            raise ValueError("verify must be true, false or the path of a CA bundle")
        return cls(delays_s=[float(d) for d in delays],
                   max_retries=None if data["max_retries"] is None else int(data["max_retries"]),
                   max_age_s=None if data["max_age_s"] is None else float(data["max_age_s"]),
                   timeout_s=float(data["timeout_s"]), verify=data["verify"], shuffle_s=float(data["shuffle_s"]))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


Build = Callable[[int], tuple[bytes, dict[str, str]]]  # retry number (0: first send) -> body, headers
Judge = Callable[[int | None, bytes], str]  # HTTP status (None: no answer) and body -> OK, RETRY or FAIL


@dataclass
class Message:
    id: str
    url: str
    build: Build
    judge: Judge
    info: dict[str, Any] = field(default_factory=dict)  # what the inspection endpoint shows besides attempts
    created: float = field(default_factory=time.time)
    state: str = PENDING
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "state": self.state, "created": self.created, **self.info,
                "attempts": list(self.attempts)}


class Outbox:
    def __init__(self, policy: Callable[[], RetryPolicy], workers: int = WORKERS) -> None:
        self.policy = policy
        self.workers = workers
        self.messages: dict[str, Message] = {}
        self._due: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._rng = random.Random()
        self._local = threading.local()  # one connection pool per worker: a Session is not thread-safe

    def submit(self, message: Message) -> None:
        shuffle = self.policy().shuffle_s
        with self._cond:
            self._start()
            self.messages[message.id] = message
            self._trim()
            self._schedule(message.id, time.monotonic() + (self._rng.uniform(0, shuffle) if shuffle else 0.0))

    def views(self) -> list[dict[str, Any]]:
        with self._cond:
            return [m.view() for m in self.messages.values()]

    def clear(self) -> None:
        """Forget every message, pending retries included (a reset)."""
        with self._cond:
            self.messages.clear()
            self._due.clear()

    # -- workers -----------------------------------------------------------------------------------------

    def _start(self) -> None:
        while len(self._threads) < self.workers:
            thread = threading.Thread(target=self._work, name=f"outbox-{len(self._threads)}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _schedule(self, message_id: str, when: float) -> None:
        heapq.heappush(self._due, (when, next(self._order), message_id))
        self._cond.notify()

    def _trim(self) -> None:
        finished = [k for k, m in self.messages.items() if m.state != PENDING]
        for key in finished[:max(0, len(self.messages) - ATTEMPTS_KEPT)]:
            del self.messages[key]

    def _next(self) -> Message:
        with self._cond:
            while True:
                now = time.monotonic()
                if self._due and self._due[0][0] <= now:
                    _, _, message_id = heapq.heappop(self._due)
                    message = self.messages.get(message_id)
                    if message is not None and message.state == PENDING:
                        return message
                    continue
                self._cond.wait(timeout=self._due[0][0] - now if self._due else None)

    def _work(self) -> None:
        while True:
            message = self._next()
            try:
                self._attempt(message)
            except Exception as exc:  # noqa: BLE001 - a broken message must not kill the worker
                message.state = FAILED
                message.attempts.append({"error": f"emulator error: {exc!r}"})

    def _http(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            self._local.session.trust_env = False  # no proxies or REQUESTS_CA_BUNDLE: `verify` decides
        return self._local.session

    def _attempt(self, message: Message) -> None:
        policy = self.policy()
        retry = len(message.attempts)
        body, headers = message.build(retry)
        record: dict[str, Any] = {"retry": retry, "t": time.time(), "status": None, "error": None}
        status: int | None = None
        answer = b""
        try:
            response = self._http().post(message.url, data=body, headers=headers, timeout=policy.timeout_s,
                                          verify=policy.verify, allow_redirects=False)
            status, answer = response.status_code, response.content
        except requests.RequestException as exc:  # refused, reset, TLS failure, timeout: no answer
            record["error"] = f"{type(exc).__name__}: {exc}"
        record["status"] = status
        verdict = message.judge(status, answer)
        with self._cond:
            message.attempts.append(record)
            if verdict == OK:
                message.state = DELIVERED
            elif verdict == FAIL or policy.gives_up(retry, time.time() - message.created):
                message.state = FAILED
            else:
                self._schedule(message.id, time.monotonic() + policy.delay(retry + 1))
            record["outcome"] = {OK: DELIVERED, FAIL: FAILED}.get(verdict, RETRY if message.state == PENDING
                                                                     else FAILED)
