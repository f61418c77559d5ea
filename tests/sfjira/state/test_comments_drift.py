"""Comment links and drift history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sfjira.exceptions import StateStoreError
from sfjira.state import StateStore


def _comments() -> pd.DataFrame:
    return pd.DataFrame({"sf_comment_id": ["00a1", "00a2", "00a3"], "jira_comment_id": ["9001", "9002", "9003"],
                         "sf_parent_id": ["500A", "500A", "500B"], "jira_key": ["SUP-1", "SUP-1", "SUP-2"],
                         "hash": ["h1", "h2", "h3"], "origin": ["salesforce", "jira", "salesforce"]})


def test_comment_links_round_trip_and_filters(store: StateStore, run_id: str) -> None:
    assert store.upsert_comment_links("accounts", _comments(), run_id) == 3
    assert store.upsert_comment_links("accounts", _comments().assign(hash="edited"), run_id) == 3
    got = store.comment_links("accounts")
    assert len(got) == 3 and (got["hash"] == "edited").all()
    assert store.comment_links("accounts", jira_key="SUP-1")["sf_comment_id"].tolist() == ["00a1", "00a2"]
    assert store.comment_links("accounts", sf_parent_id="500B")["origin"].tolist() == ["salesforce"]


def test_a_jira_comment_mirrors_one_salesforce_comment(store: StateStore, run_id: str) -> None:
    store.upsert_comment_links("accounts", _comments(), run_id)
    clash = _comments().iloc[:1].assign(sf_comment_id="00a9")
    with pytest.raises(StateStoreError, match="STATE_LINK_CONFLICT"):
        store.upsert_comment_links("accounts", clash, run_id)
    with pytest.raises(StateStoreError, match="allowed origin values: salesforce, jira"):
        store.upsert_comment_links("accounts", _comments().assign(origin="email"), run_id)


def test_drift_history_for_trends(store: StateStore) -> None:
    first = store.begin_run("accounts", "reconcile__1", kind="reconcile")
    second = store.begin_run("accounts", "reconcile__2", kind="reconcile")
    day1, day2 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC), dt.datetime(2024, 5, 2, tzinfo=dt.UTC)
    store.record_drift("accounts", first, {"missing_in_jira": 4, "field_mismatch": 2}, at=day1)
    frame = pd.DataFrame({"category": ["missing_in_jira", "field_mismatch"], "count": [1, 0]})
    store.record_drift("accounts", second, frame, at=day2)
    history = store.drift_history("accounts")
    assert history[["run_id", "category", "count"]].values.tolist() == [
        [first, "missing_in_jira", 4], [first, "field_mismatch", 2],
        [second, "missing_in_jira", 1], [second, "field_mismatch", 0]]
    assert store.drift_history("accounts", category="missing_in_jira")["count"].tolist() == [4, 1]
    assert store.drift_history("accounts", since=day2)["run_id"].unique().tolist() == [second]
    with pytest.raises(StateStoreError, match="STATE_RUN_UNKNOWN"):
        store.record_drift("accounts", "accounts/never", {"x": 1})
