"""Reads filtered by lists of ids (one plan bucket's links, synced state and comment links): exactly the
rows a whole read has for those ids, across IN lists longer than one statement takes."""

from __future__ import annotations

import pandas as pd

from sfjira.state import StateStore
from sfjira.state.frames import IN_CHUNK

N = IN_CHUNK * 2 + 7  # three IN lists per column


def _ids(n: int) -> list[str]:
    return [f"500{i:015d}" for i in range(n)]


def test_links_of_ids_or_keys_match_the_whole_read(store: StateStore, run_id: str) -> None:
    ids = _ids(N)
    store.upsert_links("m", pd.DataFrame({"sf_id": ids, "jira_key": [f"SUP-{i}" for i in range(N)]}), run_id)
    store.set_link_state("m", ids[:3], "deleted_sf", run_id=run_id)
    wanted_ids, wanted_keys = ids[: N - 10], ["SUP-0", f"SUP-{N - 1}", "SUP-99999"]
    got = store.links_of("m", sf_ids=wanted_ids, jira_keys=wanted_keys)
    whole = store.links("m")
    expected = whole[whole["sf_id"].isin(wanted_ids) | whole["jira_key"].isin(wanted_keys)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    assert len(got) == N - 9 and set(got["state"]) == {"active", "deleted_sf"}
    assert store.links_of("m").empty and list(store.links_of("m").columns) == list(whole.columns)
    assert store.links_of("other", sf_ids=ids).empty


def test_synced_state_and_comment_links_of_ids(store: StateStore, run_id: str) -> None:
    ids = _ids(N)
    state = pd.DataFrame({"sf_id": ids * 2, "direction": ["sf_to_jira"] * N + ["jira_to_sf"] * N,
                          "hash": "h", "field_hashes": [{"a": "1"}] * (2 * N)})
    store.save_synced_state("m", state, run_id)
    got = store.synced_state_of("m", ids[5:N])
    whole = store.synced_state("m")
    pd.testing.assert_frame_equal(got, whole[whole["sf_id"].isin(ids[5:N])].reset_index(drop=True))
    assert got["field_hashes"].iloc[0] == {"a": "1"}
    comments = pd.DataFrame({"sf_comment_id": [f"c{i}" for i in range(4)], "jira_comment_id": [str(i) for i in range(4)],
                             "sf_parent_id": ids[:4], "jira_key": [f"SUP-{i}" for i in range(4)], "origin": "salesforce"})
    store.upsert_comment_links("m", comments, run_id)
    got = store.comment_links_of("m", sf_parent_ids=[ids[0]], jira_keys=["SUP-3"])
    assert list(got["sf_comment_id"]) == ["c0", "c3"]
