"""Write-ahead intents: a chunk's write is announced before the API call and closed after it.

A pending intent means "these records may have been written without the store knowing": a retry
(or the next run) looks those records up by idempotency key instead of looking up every record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from sfjira.exceptions import StateStoreError
from sfjira.state.frames import bad_input, check_value, equals, read_frame
from sfjira.state.ledger import require_runs
from sfjira.state.schema import intents
from sfjira.state.scrub import scrub
from sfjira.state.types import utcnow
from sfjira.state.upsert import insert_for
from sfjira.state.vocab import INTENT_OPS, INTENT_STATUSES, SIDES

INTENT_COLUMNS = ("intent_id", "run_id", "side", "op", "chunk", "record_ids", "status", "result", "created_at",
                  "completed_at")


@dataclass(frozen=True)
class Intent:
    intent_id: int
    run_id: str
    mapping: str
    side: str
    op: str
    chunk: int
    record_ids: list[str]
    status: str
    created_at: dt.datetime
    resumed: bool
    """True when this chunk's intent already existed: a retry of the same run reached it before."""
    result: dict[str, Any] | None = None
    """A pending intent: what its write noted while running (`note`); a closed one: the chunk's outcome."""


def begin(conn: sa.Connection, mapping: str, run_id: str, side: str, op: str, chunk: int,
          record_ids: Sequence[str]) -> Intent:
    check_value(side, SIDES, "side")
    check_value(op, INTENT_OPS, "intent op")
    ids = [str(r) for r in record_ids]
    if not ids:
        raise bad_input("an intent needs the ids of the records the chunk will write",
                        fix="pass the chunk's record ids (Salesforce ids or Jira keys / plan keys)")
    require_runs(conn, [run_id])
    stmt = insert_for(conn, intents).values(run_id=run_id, mapping=mapping, side=side, op=op, chunk=int(chunk),
                                            record_ids=ids, status="pending", created_at=utcnow())
    inserted = conn.execute(stmt.on_conflict_do_nothing(index_elements=["run_id", "side", "op", "chunk"]))
    row = _get(conn, sa.and_(intents.c.run_id == run_id, intents.c.side == side, intents.c.op == op,
                             intents.c.chunk == int(chunk)))
    resumed = inserted.rowcount == 0
    if resumed and row["status"] == "pending":
        # A retry may carry a different chunk: keep every id that either attempt may have written.
        merged = list(dict.fromkeys([*row["record_ids"], *ids]))
        if merged != row["record_ids"]:
            conn.execute(intents.update().where(intents.c.intent_id == row["intent_id"]).values(record_ids=merged))
            row = {**row, "record_ids": merged}
    return _intent(row, resumed=resumed)


def close(conn: sa.Connection, intent_id: int, status: str, result: Mapping[str, Any] | None) -> Intent:
    """Move a pending intent to `status`; refuses one that is unknown or already closed."""
    check_value(status, INTENT_STATUSES[1:], "intent status")
    done = conn.execute(intents.update()
                        .where(intents.c.intent_id == int(intent_id), intents.c.status == "pending")
                        .values(status=status, result=scrub(dict(result or {})), completed_at=utcnow()))
    row = _get(conn, intents.c.intent_id == int(intent_id), missing_ok=True)
    _check_closed(intent_id, row, done.rowcount)
    return _intent(row, resumed=True)


def note(conn: sa.Connection, intent_id: int, result: Mapping[str, Any]) -> Intent:
    """Set a pending intent's `result` (it stays pending); refuses one that is unknown or already closed."""
    done = conn.execute(intents.update()
                        .where(intents.c.intent_id == int(intent_id), intents.c.status == "pending")
                        .values(result=scrub(dict(result))))
    row = _get(conn, intents.c.intent_id == int(intent_id), missing_ok=True)
    _check_closed(intent_id, row, done.rowcount)
    return _intent(row, resumed=True)


def _check_closed(intent_id: int, row: Mapping[str, Any] | None, changed: int) -> None:
    if row is None:
        raise StateStoreError(f"unknown intent {intent_id}", code="STATE_INTENT_UNKNOWN",
                              fix="use the intent_id returned by begin_intent or listed by pending_intents")
    if changed != 1:
        raise StateStoreError(
            f"intent {intent_id} is already {row['status']}, not pending", code="STATE_INTENT_NOT_PENDING",
            fix="a chunk's results are saved once; re-read pending_intents() and skip closed chunks")


def listing(conn: sa.Connection, mapping: str, *, side: str | None, run_id: str | None,
            status: str | None) -> pd.DataFrame:
    where = [*equals(intents, "side", side, SIDES), *equals(intents, "status", status, INTENT_STATUSES),
             *equals(intents, "run_id", run_id)]
    return read_frame(conn, intents, INTENT_COLUMNS, mapping, where=where, order_by=("intent_id",),
                      datetimes=("created_at", "completed_at"))


def _get(conn: sa.Connection, where: Any, *, missing_ok: bool = False) -> dict[str, Any]:
    row = conn.execute(sa.select(intents).where(where)).mappings().first()
    if row is None and not missing_ok:
        raise StateStoreError("intent vanished while it was read", code="STATE_INTENT_VANISHED", transient=True,
                              fix="retry the task; report this if it repeats")
    return dict(row) if row is not None else None  # type: ignore[return-value]


def _intent(row: Mapping[str, Any], *, resumed: bool) -> Intent:
    return Intent(intent_id=int(row["intent_id"]), run_id=row["run_id"], mapping=row["mapping"], side=row["side"],
                  op=row["op"], chunk=int(row["chunk"]), record_ids=list(row["record_ids"]), status=row["status"],
                  created_at=row["created_at"], resumed=resumed, result=row.get("result"))
