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


def test_the_links_a_run_made_are_read_without_the_others(store: StateStore, run_id: str) -> None:
    """load_salesforce writes back the keys of the links its run made: read by ids (one bucket), counted,
    or page by page -- never every active link of the mapping (a million after a big first sync)."""
    ids = _ids(N)
    earlier = store.begin_run("accounts", "manual__2024-04-01T00:00:00+00:00")
    store.upsert_links("m", pd.DataFrame({"sf_id": ids[:7], "jira_key": [f"OLD-{i}" for i in range(7)]}), earlier)
    store.upsert_links("m", pd.DataFrame({"sf_id": ids[7:], "jira_key": [f"NEW-{i}" for i in range(7, N)]}), run_id)
    store.set_link_state("m", ids[7:9], "deleted_jira", run_id=run_id)  # the run's own, but no longer active
    store.upsert_links("other", pd.DataFrame({"sf_id": ids[:3], "jira_key": ["X-1", "X-2", "X-3"]}), run_id)
    made = ids[9:]
    got = store.links_of("m", sf_ids=ids[:20], state="active", updated_run=run_id)
    assert list(got["sf_id"]) == made[:11]
    assert store.count_links("m", state="active", updated_run=run_id) == len(made)
    assert store.count_links("m", state="active") == len(made) + 7
    pages = list(store.links_made_in("m", run_id, page=400))
    assert [len(p) for p in pages] == [400, 400, len(made) - 800]
    assert list(pd.concat(pages)["sf_id"]) == made and list(pages[0].columns) == ["sf_id", "jira_key"]
    assert not list(store.links_made_in("m", "no-such-run"))
