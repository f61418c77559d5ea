"""How many chunks of a load are in flight at once (sfjira.sync.journal.run_chunks).

`[sfjira] load_concurrency` chunks at most, and never more than the Airflow pool slots the running task
holds (the pools salesforce_api and jira_api bound the calls made to each API at once). The API's own
signals narrow it to one at a time: a refusal the hook retried (429, 503, a dropped connection) keeps it
there until `width` chunks have completed without one, and so does Jira's `X-RateLimit-Remaining` under
20 % of `X-RateLimit-Limit` (Cloud's own `X-RateLimit-NearLimit` line). The first chunk always goes
alone: it connects and authenticates the hook and fills its caches (Jira workflows) before other threads
use them, and its answers carry the first rate-limit headers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from sfjira import settings

log = logging.getLogger(__name__)

MAX_WIDTH = 16
NEAR_LIMIT = 0.2  # Jira Cloud sends X-RateLimit-NearLimit: true once less than 20 % of the window is left
T = TypeVar("T")


def load_concurrency() -> int:
    """`[sfjira] load_concurrency`, validated: a whole number from 1 to MAX_WIDTH."""
    return settings.get_whole("load_concurrency", 1, MAX_WIDTH, hint="1 writes one chunk at a time")


def held_pool_slots() -> int | None:
    """The pool slots of the running Airflow task; None outside a task (the CLI, benches, tests)."""
    from airflow.sdk import get_current_context

    try:
        task = get_current_context()["task"]
    except RuntimeError:  # not inside an Airflow task
        return None
    slots = getattr(task, "pool_slots", None)
    return int(slots) if slots else None


def width() -> int:
    """`[sfjira] load_concurrency`, at most the pool slots the running task holds."""
    return min(load_concurrency(), held_pool_slots() or MAX_WIDTH)


class Lanes:
    """The chunks in flight of one load operation: `start` sends a chunk's writer off (inline when one at a
    time), `allowed` says how many may be in flight before the next is started."""

    def __init__(self, hook: Any, width: int, label: str) -> None:
        self.hook, self.width, self.label = hook, width, label
        self.completed = 0
        self._refusals = self._refused()
        self._calm_from = 1  # chunks completed when the API last pushed back (the first chunk goes alone)
        self._narrow = True
        self._seen = getattr(hook, "rate_limit", None)
        self._pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix=f"sfjira-{label}") if width > 1 else None

    @classmethod
    def for_load(cls, hook: Any, label: str, *, sequential: bool = False) -> Lanes:
        return cls(hook, 1 if sequential else width(), label)

    def start(self, writer: Callable[..., T], *args: Any) -> Future[T]:
        if self._pool is None:  # one at a time: in this thread, exactly as a plain loop would
            done: Future[T] = Future()
            try:
                done.set_result(writer(*args))
            except Exception as exc:  # noqa: BLE001 - raised again where the chunk is saved
                done.set_exception(exc)
            return done
        return self._pool.submit(writer, *args)

    def allowed(self) -> int:
        if self.width == 1:
            return 1
        refusals = self._refused()
        if refusals > self._refusals:
            self._refusals, self._calm_from = refusals, self.completed + self.width
        near = self._near_limit()  # read every time: it tells whether headers came since the last check
        narrow = near or self.completed < self._calm_from
        if narrow != self._narrow and self.completed:
            log.info("%s: %s", self.label, "one chunk at a time while the API pushes back" if narrow
                     else f"up to {self.width} chunks at a time")
        self._narrow = narrow
        return 1 if narrow else self.width

    def close(self, *, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=not wait)

    def _refused(self) -> int:
        counter = getattr(self.hook, "counter", None)
        return sum(counter.retries.values()) if counter is not None else 0

    def _near_limit(self) -> bool:
        """The last rate-limit headers seen, if answers since the previous check carried them (the hook
        replaces its dict on each): Cloud stops sending them once the window is far from spent."""
        seen = getattr(self.hook, "rate_limit", None)
        fresh, self._seen = seen is not self._seen, seen
        if not fresh or not isinstance(seen, dict):
            return False
        limit, remaining = seen.get("limit"), seen.get("remaining")
        return limit is not None and remaining is not None and remaining < NEAR_LIMIT * limit
