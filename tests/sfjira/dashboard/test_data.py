"""The dashboard's figures from a real state store (SQLite), written through the store's API as the DAGs
write it, and the page those figures render to: self-contained, nothing fetched from elsewhere."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from sfjira.dashboard import data, page
from sfjira.state import StateStore
from tests.sfjira.dashboard.seed import MAPPING, QUERY, SEARCH, SYNC_1, SYNC_2, seed


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as opened:
        yield opened


def test_runs_show_records_per_direction_and_api_calls_newest_first(store: StateStore) -> None:
    runs = seed(store)
    listed = data.runs(store, MAPPING, kind="sync")
    assert [r["airflow_run_id"] for r in listed] == ["manual__2026-11-01T11:00:00+00:00", SYNC_2, SYNC_1]
    dry, second, first = listed
    assert dry["dry_run"] is True and dry["status"] == "running" and dry["sf_to_jira"] is None
    assert first["sf_to_jira"] == {"created": 3, "updated": 1, "skipped": 1, "conflicts": 1, "rejected": 1}
    assert first["jira_to_sf"] == {"created": None, "updated": 2, "skipped": 1, "conflicts": None, "rejected": 0}
    assert second["status"] == "partial" and second["run_id"] == runs["second"]
    assert second["api_calls"] == {"used": {"salesforce": 7, "jira": 5}, "minimum": {"salesforce": 5, "jira": 4}}
    assert isinstance(second["started_at"], str)  # JSON-ready


def test_api_usage_charts_each_run_and_takes_the_newest_daily_usage(store: StateStore) -> None:
    runs = seed(store)
    usage = data.api_usage(store, MAPPING)
    assert [p["run_id"] for p in usage["runs"]] == [runs["first"], runs["second"]]  # oldest first
    assert usage["salesforce_daily"] == {"used": 1260, "max": 15000, "share": 0.084, "budget_share": 0.9}
    assert usage["as_of_run"] == runs["second"] and usage["jira_rate_limits"]["remaining"] == 60


def test_latency_is_the_newest_runs_slowest_first(store: StateStore) -> None:
    runs = seed(store)
    latency = data.latency(store, MAPPING)
    assert latency["run_id"] == runs["second"]
    assert [(e["system"], e["endpoint"], e["mean_ms"]) for e in latency["endpoints"]] == [
        ("salesforce", QUERY, 120.0), ("jira", SEARCH, 25.0)]


def test_drift_trend_oldest_first_with_the_newest_reconciliation(store: StateStore) -> None:
    runs = seed(store, report_html="file:///nowhere/drift_report.html")
    drift = data.drift(store, MAPPING)
    assert [(p["run_id"], p["total"]) for p in drift["trend"]] == [(runs["recon_1"], 5), (runs["recon_2"], 1)]
    latest = drift["latest"]
    assert latest["run_id"] == runs["recon_2"] and latest["summary"]["counts"] == {"field_mismatch": 1,
                                                                                  "missing_in_jira": 0}
    assert latest["report"]["html"] == "file:///nowhere/drift_report.html"


def test_open_rejects_most_attempted_first_with_code_and_fix(store: StateStore) -> None:
    seed(store)
    rejects = data.rejects(store, MAPPING)
    assert [(r["record_id"], r["code"], r["attempts"]) for r in rejects] == [
        ("500B", "JIRA_FIELD_INVALID", 2), ("500C", "FIELD_CUSTOM_VALIDATION_EXCEPTION", 1)]
    assert rejects[0]["fix"]  # from the error catalog when the reject brought none
    assert rejects[1]["fix"] == "correct the Amount in Salesforce, then replay"
    assert "payload" not in rejects[0]


def test_conflicts_and_audit_search(store: StateStore) -> None:
    seed(store)
    conflicts = data.conflicts(store, MAPPING)
    assert [(c["field"], c["winner"], c["side"]) for c in conflicts] == [("summary", "salesforce", "jira")]
    found = data.audit_search(store, MAPPING, record="SUP-1")
    assert [r["field"] for r in found["rows"]] == ["priority", "summary"]  # newest first
    assert found["truncated"] is False
    assert data.audit_search(store, MAPPING, record="SUP-1", limit=1)["truncated"] is True
    assert data.audit_search(store, MAPPING, run=SYNC_1)["rows"] == []


def test_mapping_figures_are_json_and_the_page_is_self_contained(store: StateStore) -> None:
    seed(store)
    figures = data.mapping_figures(store, MAPPING)
    json.dumps(figures)  # the JSON API serves exactly these
    assert figures["overview"]["open_rejects"] == 2
    health = [{"run_id": SYNC_2, "state": "success", "failed_tries": 2, "failed_tasks": [],
               "retried": {"load_jira": 3}}]
    html = page.mapping_page({**figures, "task_health": health, "dags": {}}, search=None, query={},
                             user="admin", base="/sfjira")
    assert html.count("<svg") >= 5
    assert "load_jira x3" in html and "JIRA_FIELD_INVALID" in html
    # Nothing is loaded from elsewhere: no external script, style, image or font.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script src" not in html and "@import" not in html


def test_markup_in_data_is_escaped(store: StateStore) -> None:
    seed(store)
    store.upsert_rejects(pd.DataFrame([
        {"side": "jira", "record_id": "<img src=x onerror=alert(1)>", "code": "JIRA_FIELD_INVALID"}]),
        run_id=store.runs(MAPPING)["run_id"].iloc[0], mapping=MAPPING)
    html = page.mapping_page({**data.mapping_figures(store, MAPPING), "task_health": [], "dags": {}}, search=None,
                             query={}, user="<b>x</b>", base="/sfjira")
    assert "<img src=x" not in html and "&lt;img src=x" in html and "<b>x</b>" not in html
