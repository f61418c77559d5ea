"""Last-synced hashes per record and direction (echo suppression and conflict detection read these)."""

from __future__ import annotations

import pandas as pd
import pytest

from sfjira.exceptions import StateStoreError
from sfjira.state import StateStore


def test_round_trip_with_field_hashes(store: StateStore, run_id: str) -> None:
    frame = pd.DataFrame({
        "sf_id": ["500A", "500A", "500B"],
        "direction": ["sf_to_jira", "jira_to_sf", "sf_to_jira"],
        "hash": ["h1", "h2", "h3"],
        "field_hashes": [{"Subject": "a1", "Status": "b1"}, {"summary": "c"}, None],
    })
    assert store.save_synced_state("accounts", frame, run_id) == 3
    got = store.synced_state("accounts")
    assert list(got.columns) == ["sf_id", "direction", "hash", "field_hashes", "run_id", "synced_at"]
    assert got[["sf_id", "direction", "hash"]].values.tolist() == [
        ["500A", "jira_to_sf", "h2"], ["500A", "sf_to_jira", "h1"], ["500B", "sf_to_jira", "h3"]]
    assert got.loc[1, "field_hashes"] == {"Subject": "a1", "Status": "b1"}
    assert got.loc[2, "field_hashes"] is None
    assert (got["run_id"] == run_id).all()
    assert list(store.synced_state("accounts", direction="jira_to_sf")["sf_id"]) == ["500A"]


def test_a_later_write_replaces_the_hash(store: StateStore, run_id: str) -> None:
    first = pd.DataFrame({"sf_id": ["500A"], "direction": ["sf_to_jira"], "hash": ["old"],
                          "field_hashes": [{"Subject": "x"}]})
    store.save_synced_state("accounts", first, run_id)
    later = store.begin_run("accounts", "scheduled__2")
    second = first.assign(hash="new", field_hashes=[{"Subject": "y"}])
    store.save_synced_state("accounts", second, later)
    got = store.synced_state("accounts")
    assert got[["hash", "run_id"]].values.tolist() == [["new", later]]
    assert got.loc[0, "field_hashes"] == {"Subject": "y"}


def test_last_row_wins_within_one_frame(store: StateStore, run_id: str) -> None:
    frame = pd.DataFrame({"sf_id": ["500A", "500A"], "direction": ["sf_to_jira"] * 2, "hash": ["first", "last"]})
    assert store.save_synced_state("accounts", frame, run_id) == 1
    assert list(store.synced_state("accounts")["hash"]) == ["last"]


def test_unknown_direction_is_refused_with_allowed_values(store: StateStore, run_id: str) -> None:
    frame = pd.DataFrame({"sf_id": ["500A"], "direction": ["to_jira"], "hash": ["h"]})
    with pytest.raises(StateStoreError, match="sf_to_jira, jira_to_sf"):
        store.save_synced_state("accounts", frame, run_id)
    with pytest.raises(StateStoreError, match="allowed direction values"):
        store.synced_state("accounts", direction="sideways")
