"""The id map: upsert semantics, one counterpart per id, link states."""

from __future__ import annotations

import pandas as pd
import pytest

from sfjira.exceptions import StateStoreError
from sfjira.state import StateStore


def _links(n: int, start: int = 0, project: str = "SUP") -> pd.DataFrame:
    ids = range(start, start + n)
    return pd.DataFrame({"sf_id": [f"500{i:015d}" for i in ids], "jira_key": [f"{project}-{i}" for i in ids],
                         "jira_id": [str(10_000 + i) for i in ids]})


def test_upsert_twice_keeps_one_row_per_record(store: StateStore, run_id: str) -> None:
    assert store.upsert_links("accounts", _links(5_000), run_id) == 5_000
    assert store.upsert_links("accounts", _links(5_000), run_id) == 5_000
    links = store.links("accounts")
    assert len(links) == 5_000
    assert links["sf_id"].is_unique and links["jira_key"].is_unique
    assert (links["state"] == "active").all()
    assert list(links.columns) == ["sf_id", "jira_id", "jira_key", "state", "created_run", "updated_run",
                                   "created_at", "updated_at"]
    assert str(links["created_at"].dtype).startswith("datetime64") and links["created_at"].dt.tz is not None


def test_upsert_updates_key_and_keeps_creation(store: StateStore, run_id: str) -> None:
    store.upsert_links("accounts", _links(3), run_id)
    later = store.begin_run("accounts", "scheduled__2")
    moved = pd.DataFrame({"sf_id": ["500000000000000001"], "jira_key": ["OPS-77"], "jira_id": [None]})
    store.upsert_links("accounts", moved, later)
    row = store.links("accounts").set_index("sf_id").loc["500000000000000001"]
    assert row["jira_key"] == "OPS-77"
    assert row["jira_id"] == "10001"  # a key-only update keeps the known issue id
    assert row["created_run"] == run_id and row["updated_run"] == later
    assert row["updated_at"] >= row["created_at"]


def test_mappings_are_separate(store: StateStore, run_id: str) -> None:
    store.upsert_links("accounts", _links(2), run_id)
    store.upsert_links("cases", _links(2), run_id)  # same ids, other mapping: no conflict
    assert len(store.links("accounts")) == 2 and len(store.links("cases")) == 2


def test_jira_key_linked_to_another_record_is_a_typed_error_and_writes_nothing(store: StateStore,
                                                                               run_id: str) -> None:
    store.upsert_links("accounts", _links(2), run_id)
    clash = pd.DataFrame({"sf_id": ["500NEW000000000001", "500NEW000000000002"],
                          "jira_key": ["SUP-9", "SUP-1"]})  # SUP-1 belongs to ...001
    with pytest.raises(StateStoreError) as err:
        store.upsert_links("accounts", clash, run_id)
    assert err.value.code == "STATE_LINK_CONFLICT"
    assert "unlink" in err.value.fix
    assert err.value.record == [{"sf_id": "500NEW000000000002", "jira_key": "SUP-1",
                                 "held_by": "500000000000000001"}]
    assert sorted(store.links("accounts")["jira_key"]) == ["SUP-0", "SUP-1"]  # SUP-9 not written either


def test_repeated_ids_within_one_frame_are_refused(store: StateStore, run_id: str) -> None:
    twice = pd.DataFrame({"sf_id": ["500A", "500B"], "jira_key": ["SUP-1", "SUP-1"]})
    with pytest.raises(StateStoreError, match="STATE_LINK_CONFLICT") as err:
        store.upsert_links("accounts", twice, run_id)
    assert "SUP-1" in err.value.message
    same_row_twice = pd.DataFrame({"sf_id": ["500A", "500A"], "jira_key": ["SUP-1", "SUP-1"]})
    assert store.upsert_links("accounts", same_row_twice, run_id) == 1


def test_set_state_and_filter(store: StateStore, run_id: str) -> None:
    store.upsert_links("accounts", _links(3), run_id)
    assert store.set_link_state("accounts", ["500000000000000000"], "deleted_sf", run_id=run_id) == 1
    assert list(store.links("accounts", state="deleted_sf")["sf_id"]) == ["500000000000000000"]
    assert len(store.links("accounts", state="active")) == 2


def test_delete_links_forgets_link_and_synced_state(store: StateStore, run_id: str) -> None:
    store.upsert_links("accounts", _links(2), run_id)
    store.save_synced_state("accounts", pd.DataFrame({"sf_id": ["500000000000000000"], "direction": ["sf_to_jira"],
                                                      "hash": ["h"]}), run_id)
    assert store.delete_links("accounts", ["500000000000000000"]) == 1
    assert list(store.links("accounts")["sf_id"]) == ["500000000000000001"]
    assert store.synced_state("accounts").empty
    # the key is free again
    store.upsert_links("accounts", pd.DataFrame({"sf_id": ["500OTHER"], "jira_key": ["SUP-0"]}), run_id)


@pytest.mark.parametrize(("frame", "words"), [
    (pd.DataFrame({"sf_id": ["500A"]}), "missing column(s) jira_key"),
    (pd.DataFrame({"sf_id": ["500A", None], "jira_key": ["SUP-1", "SUP-2"]}), "no value in sf_id"),
    (pd.DataFrame({"sf_id": ["500A"], "jira_key": ["SUP-1"], "state": ["gone"]}), "unknown state value(s) gone"),
])
def test_bad_frames_name_the_problem_and_the_allowed_values(store: StateStore, run_id: str, frame: pd.DataFrame,
                                                            words: str) -> None:
    with pytest.raises(StateStoreError, match="STATE_INPUT_INVALID") as err:
        store.upsert_links("accounts", frame, run_id)
    assert words in err.value.message
    assert err.value.fix
    assert store.links("accounts").empty


def test_extra_columns_of_a_plan_frame_are_ignored(store: StateStore, run_id: str) -> None:
    plan = _links(2).assign(action="create", reason="new in Salesforce")
    assert store.upsert_links("accounts", plan, run_id) == 2
