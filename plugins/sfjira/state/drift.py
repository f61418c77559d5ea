"""Drift history from the reconciliation DAG: counts per category per run, for trend charts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd
import sqlalchemy as sa

from sfjira.state.frames import prepare, records, to_frame
from sfjira.state.ledger import require_runs
from sfjira.state.schema import drift
from sfjira.state.types import as_utc, utcnow
from sfjira.state.upsert import insert_rows

DRIFT_COLUMNS = ("run_id", "category", "count", "at")


def record(conn: sa.Connection, mapping: str, run_id: str, counts: Mapping[str, int] | pd.DataFrame, *,
           at: dt.datetime | None) -> int:
    if not isinstance(counts, pd.DataFrame):
        counts = pd.DataFrame({"category": list(counts), "count": list(counts.values())})
    frame = prepare(counts, "drift", required=("category", "count"))
    frame["count"] = frame["count"].astype(int)
    require_runs(conn, [run_id])
    return insert_rows(conn, drift, records(frame, mapping=mapping, run_id=run_id, at=as_utc(at) or utcnow()))


def history(conn: sa.Connection, mapping: str, *, category: str | None, since: dt.datetime | None) -> pd.DataFrame:
    query = sa.select(*(drift.c[c] for c in DRIFT_COLUMNS)).where(drift.c.mapping == mapping)
    if category is not None:
        query = query.where(drift.c.category == category)
    if since is not None:
        query = query.where(drift.c.at >= as_utc(since))
    return to_frame(conn.execute(query.order_by(drift.c.at, drift.c.id)), datetimes=("at",))
