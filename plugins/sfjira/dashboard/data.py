"""The dashboard's figures from the state store, as JSON-ready dicts: the page and the JSON API serve the
same ones (sfjira.dashboard.api), so a team's own monitoring reads what a person sees.

    figures = mapping_figures(store, "case_to_bug")   # runs, api, latency, drift, rejects, conflicts

Values a protected mapping keeps sealed (PII in reject messages, ledger images) are shown masked: the
dashboard never opens them (`sfjira audit --cipher` does, for whom the key is meant).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

import pandas as pd

from sfjira.pii import is_sealed
from sfjira.state import StateStore
from sfjira.state import audit as trail

RUN_LIMIT = 30
CONFLICT_LIMIT = 50
AUDIT_LIMIT = 200
# What the page shows per direction; a direction without a figure (Jira->Salesforce creates nothing) shows None.
DIRECTION_FIGURES = ("created", "updated", "skipped", "conflicts", "rejected")
DIRECTIONS = ("sf_to_jira", "jira_to_sf")
REJECT_FIELDS = ("id", "side", "record_id", "code", "field", "message", "fix", "attempts", "first_seen",
                 "last_seen", "last_run")
CONFLICT_FIELDS = ("at", "run_id", "airflow_run_id", "sf_id", "jira_key", "field", "side", "winner", "reason",
                   "before", "after")


def plain(value: Any) -> Any:
    """A value fit for JSON: datetimes as ISO text, NaN/NaT as None, numpy scalars as Python ones, sealed
    PII masked; containers converted all the way down."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return trail.MASK if is_sealed(value) else value


def records(frame: pd.DataFrame, fields: Iterable[str]) -> list[dict[str, Any]]:
    wanted = [f for f in fields if f in frame.columns]
    return [plain(row) for row in frame[wanted].to_dict("records")]


def run_figures(row: Mapping[str, Any]) -> dict[str, Any]:
    """One state-store run as the dashboard lists it: records per direction, API calls against the
    protocol minimum, the org's Salesforce usage, and for a reconciliation its drift counts."""
    summary: Mapping[str, Any] = row.get("summary") or {}
    calls = summary.get("api_calls") or {}
    out: dict[str, Any] = {key: plain(row.get(key)) for key in (
        "run_id", "airflow_run_id", "kind", "status", "dry_run", "started_at", "finished_at", "attempts")}
    for direction in DIRECTIONS:
        figures = summary.get(direction)
        out[direction] = ({name: figures.get(name) for name in DIRECTION_FIGURES}
                          if isinstance(figures, Mapping) else None)
    out["transform_rejects"] = summary.get("transform_rejects")
    out["api_calls"] = ({"used": calls.get("used"), "minimum": calls.get("minimum")} if calls else None)
    out["salesforce_usage"] = (summary.get("api_usage") or {}).get("salesforce")
    drift = summary.get("drift") or {}
    out["drift"] = {"total": drift.get("total"), "counts": drift.get("counts")} if drift else None
    return plain(out)


def runs(store: StateStore, mapping: str, *, limit: int = RUN_LIMIT, kind: str | None = None) -> list[dict[str, Any]]:
    """Newest first (state-store runs of every kind, or of `kind`)."""
    frame = store.runs(mapping, limit=None if kind else limit)
    if kind is not None:
        frame = frame[frame["kind"] == kind].head(limit)
    return [run_figures(_row(row)) for row in frame.to_dict("records")]


def _latest_summary(store: StateStore, mapping: str, kind: str, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The newest run of `kind` whose summary has `key` (a dry run's summary counts too), and that summary."""
    frame = store.runs(mapping, limit=None)
    for found in frame[frame["kind"] == kind].to_dict("records"):
        row = _row(found)
        if (row.get("summary") or {}).get(key):
            return row, row["summary"]
    return {}, {}


def _row(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in row.items()}


def api_usage(store: StateStore, mapping: str, *, limit: int = RUN_LIMIT) -> dict[str, Any]:
    """Calls used against the protocol minimum per sync run (oldest first, for the chart) and the org's
    daily Salesforce usage against its limit as the newest run saw it."""
    series = [{"run_id": r["run_id"], "started_at": r["started_at"], **r["api_calls"]}
              for r in reversed(runs(store, mapping, limit=limit, kind="sync")) if r["api_calls"]]
    row, summary = _latest_summary(store, mapping, "sync", "api_usage")
    return plain({"runs": series, "salesforce_daily": (summary.get("api_usage") or {}).get("salesforce"),
                  "jira_rate_limits": (summary.get("api_usage") or {}).get("jira"), "as_of_run": row.get("run_id")})


def latency(store: StateStore, mapping: str) -> dict[str, Any]:
    """Mean latency per endpoint of the newest sync run that recorded it, slowest first."""
    row, summary = _latest_summary(store, mapping, "sync", "latency")
    endpoints = [{"system": system, "endpoint": endpoint, "calls": figure.get("calls"),
                  "mean_ms": figure.get("mean_ms"), "seconds": figure.get("seconds")}
                 for system, by_endpoint in (summary.get("latency") or {}).items()
                 for endpoint, figure in by_endpoint.items()]
    endpoints.sort(key=lambda e: -(e["mean_ms"] or 0))
    return plain({"run_id": row.get("run_id"), "endpoints": endpoints})


def drift(store: StateStore, mapping: str) -> dict[str, Any]:
    """The drift trend (one point per reconciliation, oldest first: counts per category and the total)
    and the newest reconciliation's summary with where its report files are."""
    history = store.drift_history(mapping)
    trend: list[dict[str, Any]] = []
    if len(history):
        for run_id, part in history.groupby("run_id", sort=False):
            counts = {str(c): int(n) for c, n in zip(part["category"], part["count"], strict=True)}
            trend.append({"run_id": run_id, "at": part["at"].max(), "counts": counts, "total": sum(counts.values())})
        trend.sort(key=lambda point: point["at"])
    row, summary = _latest_summary(store, mapping, "reconcile", "drift")
    latest = None
    if row:
        latest = {"run_id": row["run_id"], "airflow_run_id": row["airflow_run_id"], "status": row["status"],
                  "started_at": row["started_at"], "finished_at": row["finished_at"], "summary": summary["drift"],
                  "report": summary.get("report"), "heal": summary.get("heal")}
    return plain({"trend": trend, "latest": latest})


def rejects(store: StateStore, mapping: str) -> list[dict[str, Any]]:
    """The open rejects, most attempted first: code, the fix, attempts (no payloads: they hold record data)."""
    frame = store.rejects(mapping)
    if len(frame):
        frame = frame.sort_values(["attempts", "id"], ascending=[False, True])
    return records(frame, REJECT_FIELDS)


def conflicts(store: StateStore, mapping: str, *, limit: int = CONFLICT_LIMIT) -> list[dict[str, Any]]:
    """The newest writes a conflict decided, newest first: which side won and by which owner rule."""
    frame = trail.audit(store, mapping=mapping, conflicts=True, limit=limit, newest=True)
    return records(frame.iloc[::-1], CONFLICT_FIELDS)


def audit_search(store: StateStore, mapping: str, *, record: str | None = None, run: str | None = None,
                 field: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
                 limit: int = AUDIT_LIMIT) -> dict[str, Any]:
    """The audit trail of `mapping` filtered as `sfjira audit` filters it, the newest `limit` rows, newest
    first; `truncated` says when older matches were left out."""
    frame = trail.audit(store, mapping=mapping, record=record or None, run=run or None, field=field or None,
                        since=since, until=until, limit=limit, newest=True)
    return {"rows": records(frame.iloc[::-1], trail.AUDIT_COLUMNS), "limit": limit, "truncated": len(frame) >= limit}


def overview(store: StateStore, mapping: str) -> dict[str, Any]:
    """The headline: runs by status, links by state, open rejects, pending intents, the cursor and the lease."""
    status = store.status(mapping)
    lease = status["writer_lease"]
    return plain({key: status[key] for key in ("runs", "links", "synced_records", "open_rejects", "pending_intents",
                                               "watermarks")}
                 | {"writer_lease": asdict(lease) if lease is not None else None})


def mapping_figures(store: StateStore, mapping: str) -> dict[str, Any]:
    """Everything the mapping's page shows from the state store (Airflow's own figures come from
    sfjira.dashboard.airflow_meta)."""
    return {"mapping": mapping, "overview": overview(store, mapping), "runs": runs(store, mapping),
            "api_usage": api_usage(store, mapping), "latency": latency(store, mapping),
            "drift": drift(store, mapping), "rejects": rejects(store, mapping),
            "conflicts": conflicts(store, mapping)}
