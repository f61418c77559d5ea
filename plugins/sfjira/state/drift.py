"""Drift history from the reconciliation DAG: counts per category per run, for trend charts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd
import sqlalchemy as sa

from sfjira.state.frames import equals, prepare, read_frame, records
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
    where = equals(drift, "category", category)
    if since is not None:
        where.append(drift.c.at >= as_utc(since))
    return read_frame(conn, drift, DRIFT_COLUMNS, mapping, where=where, order_by=("at", "id"), datetimes=("at",))
