"""auto_heal decisions: what goes back through the sync, by the owner rules and the delete policy, and
why duplicates and orphans the policy leaves alone are not touched."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sfjira.mapping import Mapping, parse_mapping
from sfjira.reconcile import DriftResult, compare, heal_plan
from sfjira.state import StateStore
from tests.sfjira.reconcile.seeded import World, key, seed_every_category, sf_id


def _seeded(mapping: Mapping, store: StateStore) -> DriftResult:
    world = World.clean(mapping)
    world.save_sync(store)
    seed_every_category(world)
    return compare(mapping, world.sf(), world.jira(), store.links(mapping.name),
                   synced_state=store.synced_state(mapping.name))


def _with_deletes(mapping: Mapping, deletes: str) -> Mapping:
    """case_to_bug with another `deletes:` section (it is the file's last section)."""
    text = Path(mapping.source_file).read_text(encoding="utf-8")
    return parse_mapping(text[:text.index("\ndeletes:")] + "\n" + deletes, "case_to_bug_variant.yaml")


def _rows(frame: pd.DataFrame) -> list[list[object]]:
    return frame.astype(object).where(frame.notna(), None).values.tolist()


def test_field_drift_goes_to_the_loser_side(case_mapping: Mapping, store: StateStore) -> None:
    plan = heal_plan(_seeded(case_mapping, store), case_mapping)
    assert _rows(plan.push_to_jira) == [[sf_id(7), key(7), ["Contact.Email"]],   # one-way: Salesforce owns it
                                        [sf_id(8), key(8), ["Subject"]]]         # conflict: latest is Salesforce
    assert _rows(plan.pull_to_salesforce) == [[sf_id(6), key(6), ["Subject"]],   # only Jira changed it
                                              [sf_id(9), key(9), ["Status"]]]    # owner jira
    assert _rows(plan.create_in_jira) == [[sf_id(100), None]]


def test_orphans_follow_the_delete_policy(case_mapping: Mapping, store: StateStore) -> None:
    plan = heal_plan(_seeded(case_mapping, store), case_mapping)  # jira_deleted: flag, salesforce_deleted: transition
    assert _rows(plan.deletes) == [[sf_id(2), key(2), "jira", "flag"], [sf_id(3), key(3), "salesforce", "transition"]]
    assert plan.unlink.empty
    assert plan.sf_ids == sorted([sf_id(n) for n in (2, 3, 6, 7, 8, 9, 100)])
    assert plan.jira_keys == sorted(key(n) for n in (2, 3, 6, 7, 8, 9))


def test_clear_key_forgets_the_link_and_creates_again(case_mapping: Mapping, store: StateStore) -> None:
    mapping = _with_deletes(case_mapping, "deletes:\n  jira_deleted: clear_key\n  salesforce_deleted: ignore\n")
    plan = heal_plan(_seeded(mapping, store), mapping)
    assert _rows(plan.unlink) == [[sf_id(2), key(2)]]
    assert _rows(plan.create_in_jira) == [[sf_id(100), None], [sf_id(2), key(2)]]  # SUP-2 is stale: clear it
    assert plan.deletes.empty
    orphan = plan.actions.set_index("sf_id").loc[sf_id(3)]
    assert (orphan.action, orphan.category) == ("none", "orphan_link")
    assert "salesforce_deleted is ignore" in orphan.reason


def test_duplicates_and_unknown_issues_get_a_reason_not_an_action(case_mapping: Mapping, store: StateStore) -> None:
    plan = heal_plan(_seeded(case_mapping, store), case_mapping)
    left = plan.actions[plan.actions["action"] == "none"].set_index("jira_key")
    assert sorted(left.index) == ["SUP-100", "SUP-101", key(5)]
    assert "never deletes one on its own" in left.loc["SUP-101", "reason"]
    assert "clear Jira_Key__c" in left.loc[key(5), "reason"] and left.loc[key(5), "side"] == "salesforce"
    assert "carries no Salesforce id" in left.loc["SUP-100", "reason"]
    assert sf_id(101) not in plan.sf_ids and "SUP-101" not in plan.jira_keys


def test_every_drift_row_has_one_decision_and_a_ledger_row(case_mapping: Mapping, store: StateStore) -> None:
    result = _seeded(case_mapping, store)
    plan = heal_plan(result, case_mapping)
    assert len(plan.actions) == result.total
    ledger = plan.ledger_rows()
    assert ledger["action"].value_counts().to_dict() == {"heal": 7, "skip": 3}
    assert set(ledger["side"]) <= {"salesforce", "jira"} and ledger["reason"].str.len().min() > 20
    run = store.begin_run(case_mapping.name, "manual__heal", kind="reconcile")
    assert store.append_ledger(ledger, run_id=run, mapping=case_mapping.name) == 10  # the store's own checks pass


def test_nothing_to_heal(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    plan = heal_plan(compare(case_mapping, world.sf(), world.jira(), store.links(case_mapping.name)), case_mapping)
    assert plan.empty and plan.sf_ids == [] and plan.counts() == {} and plan.ledger_rows().empty


def test_an_unapplied_delete_policy_goes_through_the_sync_delete_handling(case_mapping: Mapping,
                                                                          store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    del world.records[sf_id(3)]
    store.set_link_state(case_mapping.name, [sf_id(3)], "deleted_sf")
    world.issues[key(3)]["fields"]["status"] = {"name": "In Progress", "id": "3"}   # moved back out of Done
    del world.issues[key(2)]
    store.set_link_state(case_mapping.name, [sf_id(2)], "deleted_jira")               # flag never written
    result = compare(case_mapping, world.sf(), world.jira(), store.links(case_mapping.name))
    plan = heal_plan(result, case_mapping)
    assert _rows(plan.deletes) == [[sf_id(2), key(2), "jira", "flag"],
                                   [sf_id(3), key(3), "salesforce", "transition"]]
    assert set(plan.actions["action"]) == {"salesforce_deleted", "jira_deleted"}
    assert set(plan.actions["side"]) == {"jira", "salesforce"}
