"""Jira deletions reported by webhook: kept only for an actively linked issue of the mapping, pending until a
run settles them, pending again when reported again, settled rows pruned after the retention."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from sfjira.exceptions import StateStoreError
from sfjira.state import StateStore, jira_deletes
from sfjira.state.schema import jira_deletes as table

SF = ["500000000000000001", "500000000000000002", "500000000000000003"]


@pytest.fixture
def linked(store: StateStore, run_id: str) -> StateStore:
    store.upsert_links("accounts", pd.DataFrame({"sf_id": SF, "jira_key": ["SUP-1", "SUP-2", "SUP-3"],
                                                 "jira_id": ["10001", None, "10003"]}), run_id)
    store.set_link_state("accounts", [SF[2]], "deleted_jira", run_id=run_id)
    return store


def test_only_an_actively_linked_issue_of_the_mapping_is_kept(linked: StateStore) -> None:
    store = linked
    assert store.note_jira_delete("accounts", jira_id="10001", jira_key="SUP-1", delivery="d1") == SF[0]
    # A link without an issue id is found by its key ...
    assert store.note_jira_delete("accounts", jira_id="99999", jira_key="SUP-2", delivery="d2") == SF[1]
    # ... but a key whose link knows another issue id names another issue: a forged or stale report.
    assert store.note_jira_delete("accounts", jira_id="99999", jira_key="SUP-1", delivery="d6") is None
    assert store.note_jira_delete("accounts", jira_id="10003", jira_key="SUP-3", delivery="d3") is None  # settled
    assert store.note_jira_delete("accounts", jira_id="424242", jira_key="SUP-999", delivery="d4") is None
    assert store.note_jira_delete("other", jira_id="10001", jira_key="SUP-1", delivery="d5") is None
    pending = store.pending_jira_deletes("accounts")
    assert list(pending["sf_id"]) == SF[:2]
    assert list(pending.columns) == list(jira_deletes.PENDING_COLUMNS)
    assert list(pending["jira_key"]) == ["SUP-1", "SUP-2"] and list(pending["delivery"]) == ["d1", "d2"]
    assert pending["jira_id"].iloc[0] == "10001" and pd.isna(pending["jira_id"].iloc[1])  # the link's, not the report's
    assert store.pending_jira_deletes("other").empty


def test_a_moved_issue_is_found_by_its_id_and_named_by_the_linked_key(linked: StateStore) -> None:
    assert linked.note_jira_delete("accounts", jira_id="10001", jira_key="OPS-7", delivery=None) == SF[0]
    assert list(linked.pending_jira_deletes("accounts")["jira_key"]) == ["SUP-1"]


def test_settled_rows_leave_the_pending_list_with_their_outcome(linked: StateStore, run_id: str) -> None:
    store = linked
    store.note_jira_delete("accounts", jira_id="10001", jira_key="SUP-1", delivery="d1")
    store.note_jira_delete("accounts", jira_id=None, jira_key="SUP-2", delivery="d2")
    taken = store.pending_jira_deletes("accounts")
    assert store.settle_jira_deletes("accounts", taken.iloc[:1], "applied", run_id=run_id) == 1
    assert list(store.pending_jira_deletes("accounts")["sf_id"]) == [SF[1]]
    assert store.settle_jira_deletes("accounts", taken.iloc[:1], "applied", run_id=run_id) == 0  # once
    history = store.jira_delete_history("accounts").set_index("sf_id")
    assert history.loc[SF[0], "outcome"] == "applied" and history.loc[SF[0], "run_id"] == run_id
    assert pd.isna(history.loc[SF[1], "outcome"])
    with pytest.raises(StateStoreError, match="unknown Jira delete outcome"):
        store.settle_jira_deletes("accounts", taken, "done", run_id=run_id)


def test_a_report_arriving_while_a_run_works_stays_for_the_next_run(linked: StateStore, run_id: str) -> None:
    store = linked
    store.note_jira_delete("accounts", jira_id="10001", jira_key="SUP-1", delivery="d1")
    taken = store.pending_jira_deletes("accounts")      # a run takes it ...
    store.note_jira_delete("accounts", jira_id="10001", jira_key="SUP-1", delivery="d2")  # ... reported again
    assert store.settle_jira_deletes("accounts", taken, "exists", run_id=run_id) == 0
    assert list(store.pending_jira_deletes("accounts")["delivery"]) == ["d2"]
    # A settled record reported again is pending again.
    store.settle_jira_deletes("accounts", store.pending_jira_deletes("accounts"), "exists", run_id=run_id)
    assert store.pending_jira_deletes("accounts").empty
    store.note_jira_delete("accounts", jira_id="10001", jira_key="SUP-1", delivery="d3")
    assert list(store.pending_jira_deletes("accounts")["delivery"]) == ["d3"]


def test_settled_rows_are_pruned_after_the_retention(linked: StateStore) -> None:
    now = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    with linked.engine.begin() as conn:
        jira_deletes.note(conn, "accounts", jira_id="10001", jira_key="SUP-1", delivery="old", now=now)
        jira_deletes.note(conn, "accounts", jira_id=None, jira_key="SUP-2", delivery="open", now=now)
        taken = jira_deletes.pending(conn, "accounts")
        jira_deletes.settle(conn, "accounts", taken.iloc[:1], "applied", run_id=None, now=now)
        later = now + jira_deletes.KEEP + dt.timedelta(minutes=1)
        jira_deletes.note(conn, "accounts", jira_id="424242", jira_key="SUP-404", delivery="x", now=later)
        rows = {r.delivery: r.outcome for r in conn.execute(sa.select(table))}
    assert rows == {"open": None}  # the settled row went; a pending one is kept however old
