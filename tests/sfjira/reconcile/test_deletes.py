"""delete_unapplied: a link settled as deleted whose surviving side does not show the delete policy."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from sfjira.mapping import Mapping
from sfjira.mapping.model import DeletesPolicy
from sfjira.reconcile import DELETE_UNAPPLIED, DriftLimitExceeded, ReconcileInputError, compare
from sfjira.state import StateStore
from tests.sfjira.reconcile.seeded import World, found, key, sf_id
from tests.sfjira.reconcile.world import jira_frame, jira_issue, links_frame, sf_frame, sf_record


def _compare(world: World, store: StateStore):
    name = world.mapping.name
    return compare(world.mapping, world.sf(), world.jira(), store.links(name), synced_state=store.synced_state(name))


def _deleted_in_salesforce(world: World, store: StateStore, n: int) -> None:
    del world.records[sf_id(n)]
    store.set_link_state(world.mapping.name, [sf_id(n)], "deleted_sf")


def _deleted_in_jira(world: World, store: StateStore, n: int) -> None:
    del world.issues[key(n)]
    store.set_link_state(world.mapping.name, [sf_id(n)], "deleted_jira")


def test_transition_applied_is_no_drift_and_undone_is_one_row(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    _deleted_in_salesforce(world, store, 3)          # case 3 is Closed: its issue is in Done, as the policy walks it
    assert _compare(world, store).total == 0
    world.issues[key(3)]["fields"]["status"] = {"name": "In Progress", "id": "3"}
    result = _compare(world, store)
    assert found(result.rows) == {(DELETE_UNAPPLIED, sf_id(3), key(3), "status")}
    row = result.rows.iloc[0]
    assert row.jira_value == "In Progress" and row.sf_value is None
    assert "deletes.salesforce_deleted" in row.detail and "transition to 'Done'" in row.detail
    assert "auto_heal" in row.detail
    assert result.counts()[DELETE_UNAPPLIED] == 1
    with pytest.raises(DriftLimitExceeded, match="delete_unapplied 1"):
        result.check_limit(0)


def test_status_is_compared_without_case(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    _deleted_in_salesforce(world, store, 3)
    world.issues[key(3)]["fields"]["status"] = {"name": "DONE", "id": "4"}
    assert _compare(world, store).total == 0


def test_flag_applied_and_missing(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    _deleted_in_jira(world, store, 2)
    result = _compare(world, store)
    assert found(result.rows) == {(DELETE_UNAPPLIED, sf_id(2), key(2), "Jira_Status__c")}
    assert "flag: Jira_Status__c does not hold 'Deleted in Jira'" in result.rows.iloc[0].detail
    world.records[sf_id(2)]["Jira_Status__c"] = "Something else"
    assert _compare(world, store).rows.iloc[0].sf_value == "Something else"
    world.records[sf_id(2)]["Jira_Status__c"] = "Deleted in Jira"
    assert _compare(world, store).total == 0


def test_the_flag_field_must_be_extracted(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    _deleted_in_jira(world, store, 2)
    sf = world.sf().drop(columns=["Jira_Status__c"])
    with pytest.raises(ReconcileInputError, match="lacks column Jira_Status__c"):
        compare(case_mapping, sf, world.jira(), store.links(case_mapping.name))


def test_ignore_policies_are_never_unapplied(case_mapping: Mapping, store: StateStore) -> None:
    mapping = case_mapping.model_copy(update={"deletes": DeletesPolicy()})
    world = World.clean(mapping)
    world.save_sync(store)
    _deleted_in_salesforce(world, store, 3)
    _deleted_in_jira(world, store, 2)
    world.issues[key(3)]["fields"]["status"] = {"name": "In Progress", "id": "3"}
    assert _compare(world, store).total == 0


def test_delete_policy_with_the_issue_still_there(case_mapping: Mapping, store: StateStore) -> None:
    mapping = case_mapping.model_copy(update={"deletes": DeletesPolicy.model_validate(
        {"salesforce_deleted": "delete"})})
    world = World.clean(mapping)
    world.save_sync(store)
    _deleted_in_salesforce(world, store, 3)
    result = _compare(world, store)
    assert found(result.rows) == {(DELETE_UNAPPLIED, sf_id(3), key(3), None)}
    assert "delete: the issue still exists" in result.rows.iloc[0].detail
    del world.issues[key(3)]
    assert _compare(world, store).total == 0


def test_a_record_back_from_the_recycle_bin_is_not_checked(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    store.set_link_state(case_mapping.name, [sf_id(1)], "deleted_sf")   # record 1 is still (again) there
    world.issues[key(1)]["fields"]["status"] = {"name": "In Progress", "id": "3"}
    assert DELETE_UNAPPLIED not in set(_compare(world, store).rows["category"])


# -- opportunity_to_epic: label and clear_key --------------------------------------------------------

_OPP = "006Qy0000000000001"


def _opportunity(**values: Any) -> dict[str, Any]:
    return sf_record(_OPP, "Opportunity", Name="Deal", Description="a", Amount=1.0, CloseDate="2026-03-29",
                     StageName="Closed Won", Jira_Status__c="In Review", Jira_Url__c=None,
                     **{"Account.Name": "Acme", **values})


def _epic(labels: list[str]) -> dict[str, Any]:
    return jira_issue(20001, "DEL-1", sfid=_OPP, customfield_10050=_OPP, summary="Deal", description="a",
                      customfield_10052=1.0, customfield_10053="2026-03-29", customfield_10055="Closed Won",
                      customfield_10051="Acme", status="In Review", labels=labels)


def _links(state: str) -> pd.DataFrame:
    return links_frame([(_OPP, "20001", "DEL-1")]).assign(state=state)


def test_label_applied_and_missing(opportunity_mapping: Mapping) -> None:
    mapping, no_records = opportunity_mapping, sf_frame(opportunity_mapping, [])
    unlabelled = jira_frame(mapping, [_epic(["keep"])])
    rows = compare(mapping, no_records, unlabelled, _links("deleted_sf")).rows
    assert found(rows) == {(DELETE_UNAPPLIED, _OPP, "DEL-1", "labels")}
    assert rows.iloc[0].jira_value == "keep" and "label 'salesforce-deleted'" in rows.iloc[0].detail
    labelled = jira_frame(mapping, [_epic(["keep", "salesforce-deleted"])])
    assert compare(mapping, no_records, labelled, _links("deleted_sf")).total == 0


def test_clear_key_applied_and_missing(opportunity_mapping: Mapping) -> None:
    mapping, no_issues = opportunity_mapping, jira_frame(opportunity_mapping, [])
    keyed = sf_frame(mapping, [_opportunity(Jira_Key__c="DEL-1")])
    rows = compare(mapping, keyed, no_issues, _links("deleted_jira")).rows
    assert found(rows) == {(DELETE_UNAPPLIED, _OPP, "DEL-1", "Jira_Key__c")}
    assert rows.iloc[0].sf_value == "DEL-1" and "clear_key: Jira_Key__c still holds a key" in rows.iloc[0].detail
    cleared = sf_frame(mapping, [_opportunity(Jira_Key__c=None)])
    assert compare(mapping, cleared, no_issues, _links("deleted_jira")).total == 0
