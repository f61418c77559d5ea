"""The ledger: append-only, ordered, queryable by run and record, keeping before-images for a rollback."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sfjira.exceptions import StateStoreError
from sfjira.state import StateStore


def _rows() -> pd.DataFrame:
    return pd.DataFrame({
        "side": ["jira", "jira", "salesforce", "jira"],
        "action": ["create", "update", "update", "delete"],
        "sf_id": ["500A", "500B", "500B", "500C"],
        "jira_key": [None, "SUP-2", "SUP-2", "SUP-3"],
        "field": [None, "priority", "Status", None],
        "before": [None, "High", {"label": "Open", "n": 3}, {"summary": "old", "labels": ["x", "y"]}],
        "after": [{"key": "SUP-1"}, 2, "Closed", None],
        "reason": ["new in Salesforce", "sf changed", "jira owns Status", "deleted in Salesforce"],
    })


def test_append_and_query_by_run_keeps_order_and_value_types(store: StateStore, run_id: str) -> None:
    assert store.append_ledger(_rows(), run_id=run_id, mapping="accounts") == 4
    got = store.ledger(run_id=run_id)
    assert list(got.columns) == ["seq", "run_id", "mapping", "at", "side", "action", "sf_id", "jira_key", "field",
                                 "before", "after", "reason", "direction", "cause"]
    assert got["seq"].is_monotonic_increasing and got["seq"].is_unique
    assert list(got["action"]) == ["create", "update", "update", "delete"]
    # before-images come back as they went in, so a rollback can write them back
    assert got["before"].tolist() == [None, "High", {"label": "Open", "n": 3}, {"summary": "old", "labels": ["x", "y"]}]
    assert got["after"].tolist() == [{"key": "SUP-1"}, 2, "Closed", None]
    assert (got["mapping"] == "accounts").all()


def test_query_by_record_and_mapping_across_runs(store: StateStore, run_id: str) -> None:
    store.append_ledger(_rows(), run_id=run_id, mapping="accounts")
    later = store.begin_run("accounts", "scheduled__2")
    store.append_ledger(pd.DataFrame({"side": ["jira"], "action": ["skip"], "sf_id": ["500B"],
                                      "reason": ["echo of our own write"]}), run_id=later, mapping="accounts")
    assert store.ledger(mapping="accounts", sf_id="500B")["run_id"].tolist() == [run_id, run_id, later]
    assert len(store.ledger(mapping="accounts", jira_key="SUP-3")) == 1
    assert len(store.ledger(run_id=later)) == 1


def test_columns_in_the_frame_win_over_defaults(store: StateStore, run_id: str) -> None:
    other = store.begin_run("cases", "manual__x")
    rows = _rows().assign(run_id=[run_id, run_id, other, other], mapping=["accounts"] * 2 + ["cases"] * 2)
    store.append_ledger(rows)
    assert len(store.ledger(run_id=other)) == 2 and len(store.ledger(mapping="accounts")) == 2


def test_values_of_pandas_types_are_stored_as_json(store: StateStore, run_id: str) -> None:
    rows = pd.DataFrame({"side": ["salesforce"], "action": ["update"], "sf_id": ["500A"], "field": ["CloseDate"],
                         "before": [pd.Timestamp("2024-05-01T10:00:00Z")], "after": [dt.date(2024, 6, 1)]})
    store.append_ledger(rows, run_id=run_id, mapping="accounts")
    got = store.ledger(run_id=run_id)
    assert got.loc[0, "before"] == "2024-05-01T10:00:00+00:00" and got.loc[0, "after"] == "2024-06-01"


def test_unknown_run_is_refused(store: StateStore) -> None:
    with pytest.raises(StateStoreError) as err:
        store.append_ledger(_rows(), run_id="accounts/never-begun", mapping="accounts")
    assert err.value.code == "STATE_RUN_UNKNOWN" and "begin_run" in err.value.fix


@pytest.mark.parametrize(("change", "words"), [
    ({"action": "undo"}, "unknown action value(s) undo"),
    ({"side": "sap"}, "unknown side value(s) sap"),
    ({"sf_id": None, "jira_key": None}, "name no record"),
])
def test_bad_rows_are_refused_whole(store: StateStore, run_id: str, change: dict, words: str) -> None:
    rows = _rows()
    for column, value in change.items():
        rows.loc[1, column] = value
    with pytest.raises(StateStoreError, match="STATE_INPUT_INVALID") as err:
        store.append_ledger(rows, run_id=run_id, mapping="accounts")
    assert words in err.value.message
    assert store.ledger(run_id=run_id).empty


def test_query_needs_a_run_or_mapping(store: StateStore) -> None:
    with pytest.raises(StateStoreError, match="run_id or a mapping"):
        store.ledger(sf_id="500A")
