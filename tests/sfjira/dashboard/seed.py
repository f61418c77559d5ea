"""A state store with a mapping's history, written through the store's own API as the DAGs write it:
two sync runs with report summaries, a dry run, open rejects (one tried twice), a conflict in the
ledger, and two reconciliations with their drift counts and report paths."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from sfjira.state import StateStore

MAPPING = "case_to_bug"
QUERY = "GET /services/data/v62.0/query"
SEARCH = "POST /rest/api/3/search/jql"
SYNC_1, SYNC_2 = "scheduled__2026-11-01T10:00:00+00:00", "scheduled__2026-11-01T10:15:00+00:00"
RECON_1, RECON_2 = "scheduled__2026-10-31T02:00:00+00:00", "scheduled__2026-11-01T02:00:00+00:00"


def sync_summary(created: int, updated: int, sf_used: int, *, query_ms: float) -> dict[str, Any]:
    """The figures of a sync report's summary (sfjira.sync.report.build_report) the dashboard reads."""
    return {
        "mapping": MAPPING, "dry_run": False,
        "sf_to_jira": {"read": created + updated + 2, "created": created, "updated": updated, "conflicts": 1,
                       "rejected": 1, "skipped": 1},
        "jira_to_sf": {"read": 3, "updated": 2, "rejected": 0, "skipped": 1},
        "transform_rejects": 0,
        "api_calls": {"used": {"salesforce": 7, "jira": 5}, "minimum": {"salesforce": 5, "jira": 4}},
        "api_usage": {"salesforce": {"used": sf_used, "max": 15000, "share": round(sf_used / 15000, 4),
                                     "budget_share": 0.9},
                      "jira": {"retries": {"HTTP 429": 1}, "waited_s": 1.5, "paced": 0, "paced_s": 0.0,
                               "limit": 100, "remaining": 60}},
        "latency": {"salesforce": {QUERY: {"calls": 4, "seconds": query_ms * 4 / 1000, "mean_ms": query_ms}},
                    "jira": {SEARCH: {"calls": 2, "seconds": 0.05, "mean_ms": 25.0}}},
    }


def seed(store: StateStore, report_html: str | None = None) -> dict[str, str]:
    first = store.begin_run(MAPPING, SYNC_1)
    store.finish_run(first, "success", summary=sync_summary(3, 1, 1200, query_ms=80.0))
    second = store.begin_run(MAPPING, SYNC_2)
    store.upsert_rejects(pd.DataFrame([
        {"side": "jira", "record_id": "500B", "code": "JIRA_FIELD_INVALID", "field": "priority",
         "message": "priority 'Urgent' is not an option"},
        {"side": "salesforce", "record_id": "500C", "code": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "field": "Amount",
         "message": "Amount must be > 0", "fix": "correct the Amount in Salesforce, then replay"},
    ]), run_id=second, mapping=MAPPING)
    store.upsert_rejects(pd.DataFrame([{"side": "jira", "record_id": "500B", "code": "JIRA_FIELD_INVALID",
                                        "field": "priority", "message": "still not an option"}]),
                         run_id=second, mapping=MAPPING)
    store.append_ledger(pd.DataFrame([
        {"side": "jira", "action": "update", "sf_id": "500A", "jira_key": "SUP-1", "direction": "sf_to_jira",
         "cause": "conflict", "field": "summary", "before": "Printer", "after": "Printer on fire",
         "reason": "changed on both sides; owner salesforce -> salesforce wins"},
        {"side": "jira", "action": "update", "sf_id": "500A", "jira_key": "SUP-1", "direction": "sf_to_jira",
         "cause": "change", "field": "priority", "before": "Low", "after": "High"},
    ]), run_id=second, mapping=MAPPING)
    store.finish_run(second, "partial", summary=sync_summary(0, 4, 1260, query_ms=120.0))
    dry = store.begin_run(MAPPING, "manual__2026-11-01T11:00:00+00:00", dry_run=True)
    store.update_run_summary(dry, {"mapping": MAPPING, "dry_run": True})  # a dry run leaves its run open
    runs = {"first": first, "second": second, "dry": dry}
    for name, airflow_run, counts, at in (
            ("recon_1", RECON_1, {"field_mismatch": 4, "missing_in_jira": 1}, dt.datetime(2026, 10, 31, 2, 5, tzinfo=dt.UTC)),
            ("recon_2", RECON_2, {"field_mismatch": 1, "missing_in_jira": 0}, dt.datetime(2026, 11, 1, 2, 5, tzinfo=dt.UTC))):
        run = store.begin_run(MAPPING, airflow_run, kind="reconcile")
        store.record_drift(MAPPING, run, counts, at=at)
        store.update_run_summary(run, {"drift": {"mapping": MAPPING, "total": sum(counts.values()), "counts": counts,
                                                 "pairs": 12},
                                       "report": {"json": None, "csv": None, "html": report_html}})
        store.finish_run(run, "success", summary={"heal": {"auto_heal": False}})
        runs[name] = run
    return runs
