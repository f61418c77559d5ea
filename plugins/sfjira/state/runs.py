"""Sync runs: one row per (mapping, Airflow run). A retried task re-begins the same run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa

from sfjira.exceptions import StateStoreError
from sfjira.state.frames import check_value, to_frame
from sfjira.state.schema import runs
from sfjira.state.scrub import scrub
from sfjira.state.types import utcnow
from sfjira.state.upsert import insert_for
from sfjira.state.vocab import FINISHED_STATUSES, RUN_KINDS, RUN_STATUSES

RUN_COLUMNS = ("run_id", "mapping", "airflow_run_id", "kind", "status", "dry_run", "window_start",
               "window_end", "started_at", "finished_at", "attempts", "summary")
_DATETIMES = ("window_start", "window_end", "started_at", "finished_at")


def run_key(mapping: str, airflow_run_id: str) -> str:
    """The store's run id: unique across mappings, since one Airflow run id can serve several DAGs."""
    if not mapping or not airflow_run_id:
        raise StateStoreError("a run needs both a mapping name and an Airflow run id", code="STATE_INPUT_INVALID",
                              fix="pass the mapping name and `context['run_id']`")
    return f"{mapping}/{airflow_run_id}"


def begin(conn: sa.Connection, mapping: str, airflow_run_id: str, *, window_start: dt.datetime | None,
          window_end: dt.datetime | None, dry_run: bool, kind: str) -> str:
    check_value(kind, RUN_KINDS, "run kind")
    run_id = run_key(mapping, airflow_run_id)
    stmt = insert_for(conn, runs).values(
        run_id=run_id, mapping=mapping, airflow_run_id=airflow_run_id, kind=kind, status="running",
        dry_run=bool(dry_run), window_start=window_start, window_end=window_end, started_at=utcnow(),
        attempts=1, summary={})
    # A retry keeps started_at, the summary so far and (unless given again) the window; it reopens the
    # run and counts the attempt.
    conn.execute(stmt.on_conflict_do_update(index_elements=["run_id"], set_={
        "status": "running", "finished_at": None, "attempts": runs.c.attempts + 1,
        "window_start": sa.func.coalesce(stmt.excluded.window_start, runs.c.window_start),
        "window_end": sa.func.coalesce(stmt.excluded.window_end, runs.c.window_end),
        "dry_run": stmt.excluded.dry_run}))
    return run_id


def get(conn: sa.Connection, run_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    query = sa.select(runs).where(runs.c.run_id == run_id)
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    return dict(row) if row else None


def _require(conn: sa.Connection, run_id: str) -> dict[str, Any]:
    row = get(conn, run_id, lock=True)
    if row is None:
        raise StateStoreError(f"unknown run {run_id!r}", code="STATE_RUN_UNKNOWN",
                              fix="call StateStore.begin_run(mapping, airflow_run_id, ...) first")
    return row


def merge_summary(conn: sa.Connection, run_id: str, patch: Mapping[str, Any]) -> dict[str, Any]:
    summary = deep_merge(_require(conn, run_id)["summary"] or {}, scrub(dict(patch)))
    conn.execute(runs.update().where(runs.c.run_id == run_id).values(summary=summary))
    return summary


def finish(conn: sa.Connection, run_id: str, status: str, summary: Mapping[str, Any] | None) -> None:
    check_value(status, FINISHED_STATUSES, "run status")
    merged = deep_merge(_require(conn, run_id)["summary"] or {}, scrub(dict(summary or {})))
    conn.execute(runs.update().where(runs.c.run_id == run_id)
                 .values(status=status, finished_at=utcnow(), summary=merged))


def listing(conn: sa.Connection, mapping: str, *, limit: int | None, status: str | None) -> pd.DataFrame:
    query = sa.select(*(runs.c[c] for c in RUN_COLUMNS)).where(runs.c.mapping == mapping)
    if status is not None:
        check_value(status, RUN_STATUSES, "run status")
        query = query.where(runs.c.status == status)
    query = query.order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(limit)
    return to_frame(conn.execute(query), datetimes=_DATETIMES)


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Nested dicts merge; any other value in `patch` replaces (a retried task overwrites its counts
    rather than adding to them)."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out
