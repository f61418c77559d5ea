"""Pairing edge cases: settled links, competing claims, the older issue first; and the scope helpers."""

from __future__ import annotations

import pandas as pd

from sfjira.mapping import Mapping
from sfjira.reconcile import compare, counterparts, in_scope_links
from sfjira.state import StateStore
from tests.sfjira.reconcile.seeded import World, found, key, sf_id
from tests.sfjira.reconcile.world import links_frame


def test_a_link_the_sync_marked_deleted_is_not_drift(case_mapping: Mapping, store: StateStore) -> None:
    """Once its policy shows on the surviving side (the flag; case 3's issue is in Done): test_deletes.py
    has the links whose policy does not show."""
    world = World.clean(case_mapping)
    world.save_sync(store)
    del world.issues[key(2)]
    world.records[sf_id(2)]["Jira_Status__c"] = "Deleted in Jira"
    store.set_link_state(case_mapping.name, [sf_id(2)], "deleted_jira")
    del world.records[sf_id(3)]
    store.set_link_state(case_mapping.name, [sf_id(3)], "deleted_sf")
    result = compare(case_mapping, world.sf(), world.jira(), store.links(case_mapping.name))
    assert result.total == 0, result.rows.to_dict("records")


def test_without_links_the_older_issue_is_the_pair_and_the_clone_the_duplicate(case_mapping: Mapping) -> None:
    world = World.clean(case_mapping, n=3)
    clone = dict(world.issues[key(2)], key="SUP-9", id="9")   # lower id: created first
    world.issues["SUP-9"] = clone
    world.records[sf_id(2)]["Jira_Key__c"] = None             # so only the carried id claims the pair
    rows = compare(case_mapping, world.sf(), world.jira(), None).rows
    assert found(rows) == {("duplicate", sf_id(2), key(2), None),
                           ("field_mismatch", sf_id(2), "SUP-9", "Jira_Key__c")}


def test_a_pair_both_sides_claim_beats_a_one_sided_claim(case_mapping: Mapping) -> None:
    world = World.clean(case_mapping, n=3)
    world.issues["SUP-9"] = dict(world.issues[key(2)], key="SUP-9", id="9")  # older, but only it claims
    rows = compare(case_mapping, world.sf(), world.jira(), None).rows
    assert found(rows) == {("duplicate", sf_id(2), "SUP-9", None)}       # SUP-2 is claimed by both sides


def test_a_record_losing_its_first_choice_still_pairs_with_its_second(case_mapping: Mapping) -> None:
    world = World.clean(case_mapping, n=3)
    # Record 2 and SUP-1 now claim each other (its best candidate), but SUP-1 is linked to record 1;
    # record 2 must then pair with SUP-2, which still carries its id.
    world.issues[key(1)]["fields"]["customfield_10050"] = sf_id(2)
    world.issues[key(1)]["properties"]["sfjira"]["sfid"] = sf_id(2)
    world.records[sf_id(2)]["Jira_Key__c"] = key(1)
    links = links_frame([(sf_id(1), "10001", key(1))])
    result = compare(case_mapping, world.sf(), world.jira(), links)
    assert result.pairs == 3
    assert found(result.rows) == {("field_mismatch", sf_id(1), key(1), "customfield_10050"),
                                  ("field_mismatch", sf_id(2), key(2), "Jira_Key__c")}


def test_scope_helpers(case_mapping: Mapping) -> None:
    world = World.clean(case_mapping, n=4)
    sf, jira = world.sf(), world.jira()
    links = links_frame([(sf_id(n), str(10_000 + n), key(n)) for n in range(1, 5)] + [("500Qy0000000000077", "1", "SUP-77")])
    changed_sf = sf[sf["Id"] == sf_id(1)]                  # only record 1 changed in Salesforce
    changed_j = jira[jira["key"].isin([key(2)])]           # only SUP-2 changed in Jira
    changed_j.loc[:, "customfield_10050"] = sf_id(4)
    changed_j.loc[:, "sfid"] = sf_id(4)
    scoped = in_scope_links(links, changed_sf, changed_j)
    assert scoped["sf_id"].tolist() == [sf_id(1), sf_id(2)]
    wanted = counterparts(case_mapping, links, changed_sf, changed_j)
    assert wanted.sf_ids == [sf_id(2), sf_id(4)] and wanted.jira_keys == [key(1)]
    assert counterparts(case_mapping, links.iloc[0:0], sf.iloc[0:0], jira.iloc[0:0]).sf_ids == []


def test_links_frame_from_the_store_and_a_plain_one_agree(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping, n=3)
    world.save_sync(store)
    plain = pd.DataFrame({"sf_id": [sf_id(n) for n in (1, 2, 3)], "jira_key": [key(n) for n in (1, 2, 3)]})
    for links in (store.links(case_mapping.name), plain):
        assert compare(case_mapping, world.sf(), world.jira(), links).pairs == 3
