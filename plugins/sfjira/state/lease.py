"""One writer per mapping: a lease row in the state store, held by a run that writes (sfjira.sync.writer).

`acquire` is one conditional statement, atomic on SQLite and PostgreSQL alike:

    INSERT INTO sfjira_leases ... ON CONFLICT (mapping) DO UPDATE SET ...
        WHERE sfjira_leases.expires_at < :now OR sfjira_leases.holder = :holder

followed by a read of the row in the same transaction: the lease is ours when the row names us. SQLite
serialises the two under its write lock (BEGIN IMMEDIATE); PostgreSQL's ON CONFLICT locks the row, so
of two processes racing exactly one sees its own name. A holder renews its row while it works
(`writer_lease` does so from a heartbeat thread, every TTL/3); a holder that dies stops renewing and
its lease expires after the TTL, when the next writer may take it. Times are the workers' clocks (UTC):
with a TTL of minutes, the seconds of skew NTP allows do not matter.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from sfjira.exceptions import StateStoreError, is_transient
from sfjira.state.schema import leases
from sfjira.state.types import utcnow
from sfjira.state.upsert import insert_for

if TYPE_CHECKING:
    from sfjira.state.store import StateStore

log = logging.getLogger(__name__)

FIRST_POLL_S = 0.5
MAX_POLL_S = 5.0


@dataclass(frozen=True)
class Lease:
    """The lease row of a mapping as read back."""

    mapping: str
    holder: str
    task: str | None
    acquired_at: dt.datetime
    renewed_at: dt.datetime
    expires_at: dt.datetime

    def held_by(self, holder: str) -> bool:
        return self.holder == holder


class WriterBusy(StateStoreError):
    """Another process holds the mapping's writer lease and did not let go within the wait: transient,
    Airflow's retry comes back later."""

    code = "STATE_WRITER_BUSY"
    transient = True


class WriterLeaseLost(StateStoreError):
    """The heartbeat found the lease taken by someone else (this process stalled past the TTL): what it
    wrote since may have interleaved with another writer. Transient: the retry resumes under a new lease."""

    code = "STATE_WRITER_LEASE_LOST"
    transient = True


def holder_name(task: str | None = None) -> str:
    """This process as a lease holder: the task it runs (if any) and where."""
    where = f"{socket.gethostname()} pid {os.getpid()}"
    return f"{task} on {where}" if task else where


def _check(mapping: str, holder: str, ttl: float) -> None:
    if not mapping or not holder:
        raise StateStoreError("a lease needs a mapping name and a holder", code="STATE_INPUT_INVALID",
                              fix="pass the mapping's name and sfjira.state.lease.holder_name(...)")
    if not ttl > 0:
        raise StateStoreError(f"a lease's time to live must be positive, got {ttl}", code="STATE_INPUT_INVALID",
                              fix="set [sfjira] writer_lease_seconds to a positive number of seconds")


def acquire(conn: sa.Connection, mapping: str, holder: str, ttl: float, *, task: str | None = None) -> Lease:
    """Take the lease when it is free, expired or already ours (then it is extended); returns the row as it
    stands afterwards: ours when `lease.held_by(holder)`."""
    _check(mapping, holder, ttl)
    now = utcnow()
    expires = now + dt.timedelta(seconds=ttl)
    stmt = insert_for(conn, leases).values(mapping=mapping, holder=holder, task=task, acquired_at=now,
                                           renewed_at=now, expires_at=expires)
    ours = leases.c.holder == holder
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["mapping"],
        set_={"holder": holder, "task": task, "renewed_at": now, "expires_at": expires,
              # a holder taking its own lease again keeps the time it first took it
              "acquired_at": sa.case((ours, leases.c.acquired_at), else_=stmt.excluded.acquired_at)},
        where=(leases.c.expires_at < now) | ours))
    found = current(conn, mapping)
    assert found is not None  # the row was just inserted or left as another holder's
    return found


def renew(conn: sa.Connection, mapping: str, holder: str, ttl: float) -> bool:
    """Extend our lease by `ttl` from now; False when it is no longer ours (taken after it expired)."""
    _check(mapping, holder, ttl)
    now = utcnow()
    done = conn.execute(leases.update().where(leases.c.mapping == mapping, leases.c.holder == holder)
                        .values(renewed_at=now, expires_at=now + dt.timedelta(seconds=ttl)))
    return done.rowcount == 1


def take_over(conn: sa.Connection, mapping: str, finished: str, holder: str, ttl: float, *,
              task: str | None = None) -> bool:
    """Take the lease from `finished`, a holder known to be done (its DAG run ended), before it expires;
    False when it no longer holds it."""
    _check(mapping, holder, ttl)
    now = utcnow()
    done = conn.execute(leases.update().where(leases.c.mapping == mapping, leases.c.holder == finished).values(
        holder=holder, task=task, acquired_at=now, renewed_at=now, expires_at=now + dt.timedelta(seconds=ttl)))
    return done.rowcount == 1


def release(conn: sa.Connection, mapping: str, holder: str) -> bool:
    """Give our lease up; False (and nothing changed) when it is not ours."""
    done = conn.execute(leases.delete().where(leases.c.mapping == mapping, leases.c.holder == holder))
    return done.rowcount == 1


def current(conn: sa.Connection, mapping: str) -> Lease | None:
    """The mapping's lease row, expired or not; None when nobody took it since the last release."""
    row = conn.execute(sa.select(leases).where(leases.c.mapping == mapping)).mappings().first()
    return Lease(**row) if row else None


# -- holding a lease while writing -------------------------------------------------------------------

# Leases this process holds, so a heal holding its mapping's lease can call the loads, which take it too.
_held: dict[tuple[str, str, str], int] = {}
_held_lock = threading.Lock()


@contextmanager
def writer_lease(store: StateStore, mapping: str, holder: str, *, ttl: float, wait: float,
                 task: str | None = None, keep: bool = False,
                 finished: Callable[[str], bool] | None = None) -> Iterator[Lease | None]:
    """Hold `mapping`'s lease for the block: wait up to `wait` seconds for another holder to let go (polling
    with backoff), renew it every ttl/3 from a heartbeat thread, release it at the end -- or, with `keep`,
    leave it to expire after `ttl` unless the holder takes it again by then (the next task of the same
    DAG run does); a block failing with a terminal error releases it even then (no later task comes).
    `finished(holder)` says whether a holder is done for good (its DAG run ended): its lease is taken over
    at once instead of waited out. Raises WriterBusy when the wait runs out. Re-entrant within a process:
    an inner block for the same store, mapping and holder runs under the outer block's lease (and yields
    None)."""
    key = (store.location, mapping, holder)
    with _held_lock:
        depth = _held.get(key, 0)
        if depth:
            _held[key] = depth + 1
    if depth:
        try:
            yield None
        finally:
            _leave(key)
        return
    lease = _wait_for(store, mapping, holder, ttl=ttl, wait=wait, task=task, finished=finished)
    with _held_lock:
        _held[key] = 1
    beat = _Heartbeat(store, mapping, holder, ttl)
    beat.start()
    failed: BaseException | None = None
    try:
        yield lease
    except BaseException as err:
        failed = err
        raise
    finally:
        beat.stop()
        _leave(key)
        if not keep or (failed is not None and not is_transient(failed)):
            _let_go(store, mapping, holder)
        if beat.lost and failed is None:
            raise WriterLeaseLost(
                f"the writer lease of mapping {mapping!r} was taken by another writer while {holder} held it",
                fix="this process stalled longer than [sfjira] writer_lease_seconds; raise that setting if its "
                    "writes legitimately pause that long. The task retries and resumes its intents")


def _who(lease: Lease) -> str:
    return f"{lease.holder} ({lease.task})" if lease.task and lease.task != lease.holder else lease.holder


def _leave(key: tuple[str, str, str]) -> None:
    with _held_lock:
        _held[key] -= 1
        if not _held[key]:
            del _held[key]


def _let_go(store: StateStore, mapping: str, holder: str) -> None:
    try:
        if not store.release_lease(mapping, holder):
            log.warning("writer lease of %s was no longer held by %s at release", mapping, holder)
    except StateStoreError as err:  # it expires after its TTL anyway
        log.warning("writer lease of %s not released (it expires by itself): %s", mapping, err)


def _wait_for(store: StateStore, mapping: str, holder: str, *, ttl: float, wait: float,
              task: str | None, finished: Callable[[str], bool] | None) -> Lease:
    deadline = time.monotonic() + wait
    delay = FIRST_POLL_S
    seen: str | None = None
    while True:
        lease = store.acquire_lease(mapping, holder, ttl, task=task)
        if lease.held_by(holder):
            if seen is not None:
                log.info("writer lease of %s taken by %s after waiting for %s", mapping, holder, seen)
            return lease
        if finished is not None and finished(lease.holder) and \
                store.take_over_lease(mapping, lease.holder, holder, ttl, task=task):
            log.info("writer lease of %s taken over from %s, whose run has ended", mapping, _who(lease))
            return store.lease(mapping) or lease
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WriterBusy(
                f"another writer of mapping {mapping!r} is running: {_who(lease)} holds its lease "
                f"(taken {lease.acquired_at:%Y-%m-%d %H:%M:%S} UTC, expires {lease.expires_at:%H:%M:%S} UTC "
                "unless renewed)",
                fix="nothing to do: this task retries once the other writer is done. If that writer died, "
                    "its lease expires after [sfjira] writer_lease_seconds")
        if lease.holder != seen:
            seen = lease.holder
            log.info("waiting for holder %s of the writer lease of %s (expires %s, waiting up to %.0f s more)",
                     _who(lease), mapping, f"{lease.expires_at:%H:%M:%S}", remaining)
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_POLL_S)


class _Heartbeat(threading.Thread):
    """Renews the lease every ttl/3 until stopped; a failed renewal (database briefly unreachable) is
    tried again at the next beat, a refused one (the lease is someone else's now) ends the beat."""

    def __init__(self, store: StateStore, mapping: str, holder: str, ttl: float) -> None:
        super().__init__(name=f"sfjira-lease-{mapping}", daemon=True)
        self.store, self.mapping, self.holder, self.ttl = store, mapping, holder, ttl
        self.lost = False
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.ttl / 3):
            try:
                if not self.store.renew_lease(self.mapping, self.holder, self.ttl):
                    self.lost = True
                    log.error("writer lease of %s lost: another writer took it after it expired", self.mapping)
                    return
            except StateStoreError as err:
                log.warning("writer lease of %s not renewed this time: %s", self.mapping, err)

    def stop(self) -> None:
        self._stopped.set()
        self.join()
