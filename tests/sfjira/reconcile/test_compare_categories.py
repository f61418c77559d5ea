"""Every drift category, seeded on purpose, is found exactly: nothing missed, nothing extra."""

from __future__ import annotations

import pandas as pd
import pytest

from sfjira.mapping import Mapping
from sfjira.reconcile import CATEGORIES, DRIFT_COLUMNS, DriftLimitExceeded, compare
from sfjira.state import StateStore
from tests.sfjira.reconcile.seeded import PII_EDIT, World, found, key, seed_every_category, sf_id


def _compare(world: World, store: StateStore):
    name = world.mapping.name
    return compare(world.mapping, world.sf(), world.jira(), store.links(name), synced_state=store.synced_state(name))


def test_a_cleanly_synced_world_has_no_drift(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    result = _compare(world, store)
    assert result.total == 0, result.rows.to_dict("records")
    assert result.pairs == result.sf_records == result.jira_issues == 12
    assert result.counts() == dict.fromkeys(CATEGORIES, 0)


def test_each_seeded_category_is_found_exactly(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    expected = seed_every_category(world)
    result = _compare(world, store)
    assert found(result.rows) == expected
    assert result.total == len(expected)
    assert result.counts() == {"missing_in_jira": 1, "missing_in_salesforce": 1, "orphan_link": 2,
                               "delete_unapplied": 0, "duplicate": 2, "field_mismatch": 3, "conflict_pending": 1, "identity_refused": 0}
    assert list(result.rows.columns) == list(DRIFT_COLUMNS)


def test_field_rows_carry_both_values_owner_and_winner(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    seed_every_category(world)
    rows = _compare(world, store).rows.set_index(["sf_id", "field"])
    edited = rows.loc[(sf_id(6), "Subject")]
    assert (edited.sf_value, edited.jira_value) == ("Case 6 \u2013 \u00fcn\u00efcode \U0001F600",
                                                    'Printer <b>on fire</b> & "smoking"')
    assert (edited.owner, edited.winner) == ("latest", "jira")  # only Jira changed since the last sync
    assert "Jira changed since the last sync" in edited.detail
    conflict = rows.loc[(sf_id(8), "Subject")]
    assert (conflict.category, conflict.sf_value, conflict.jira_value) == (
        "conflict_pending", "Edited in Salesforce", "Edited in Jira")
    assert conflict.winner == "salesforce"  # owner latest, and Salesforce was modified later
    status = rows.loc[(sf_id(9), "Status")]
    assert (status.sf_value, status.jira_value, status.owner, status.winner) == ("Working", "Closed", "jira", "jira")


def test_pii_values_never_leave_compare(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    seed_every_category(world)
    rows = _compare(world, store).rows
    email = rows[rows["field"] == "Contact.Email"].iloc[0]
    assert (email.sf_value, email.jira_value, email.winner) == ("***", "***", "salesforce")
    text = rows.astype(str).to_csv()
    assert PII_EDIT not in text and "customer7@example.com" not in text.lower()


def test_without_synced_state_nothing_is_a_conflict(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    seed_every_category(world)
    result = compare(case_mapping, world.sf(), world.jira(), store.links(case_mapping.name))
    assert result.counts()["conflict_pending"] == 0
    row = result.rows.set_index(["sf_id", "field"]).loc[(sf_id(8), "Subject")]
    assert row.category == "field_mismatch" and "no synced state" in row.detail


def test_a_lost_state_store_still_pairs_by_the_ids_each_side_carries(case_mapping: Mapping) -> None:
    world = World.clean(case_mapping)
    result = compare(case_mapping, world.sf(), world.jira(), None)
    assert result.total == 0 and result.pairs == 12


def test_a_moved_issue_is_found_by_its_id(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    moved = world.issues.pop(key(3))
    moved["key"] = "SUP-300"
    world.issues["SUP-300"] = moved
    world.records[sf_id(3)]["Jira_Key__c"] = "SUP-300"
    result = _compare(world, store)
    assert result.total == 0, result.rows.to_dict("records")


def test_ids_the_sides_keep_of_each_other_are_compared(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    world.records[sf_id(5)]["Jira_Key__c"] = None                       # key cleared in Salesforce
    world.issues[key(6)]["fields"]["customfield_10050"] = None          # id cleared in Jira...
    world.issues[key(6)].pop("properties")                              # ...field and property
    rows = _compare(world, store).rows
    assert found(rows) == {("field_mismatch", sf_id(5), key(5), "Jira_Key__c"),
                           ("field_mismatch", sf_id(6), key(6), "customfield_10050")}
    by_field = rows.set_index("field")
    assert by_field.loc["Jira_Key__c", "jira_value"] == key(5) and by_field.loc["Jira_Key__c", "winner"] == "jira"
    assert by_field.loc["customfield_10050", "sf_value"] == sf_id(6)


def test_a_value_the_sync_would_reject_is_reported_with_the_code(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    world.issues[key(4)]["fields"]["status"] = {"name": "Blocked", "id": "9"}   # a status the mapping lacks
    result = _compare(world, store)
    row = result.rows.iloc[0]
    assert found(result.rows) == {("field_mismatch", sf_id(4), key(4), "Status")}
    assert row.jira_value == "Blocked" and "VALUE_UNMAPPED" in row.detail
    assert result.summary()["rejected_records"] == 1


def test_one_way_fields_compare_in_canonical_form(opportunity_mapping: Mapping) -> None:
    from tests.sfjira.reconcile.world import jira_frame, jira_issue, sf_frame, sf_record

    record = sf_record("006Qy0000000000001", "Opportunity", Name="Deal", Description="a\r\nb", Amount=1234567.89,
                       CloseDate="2026-03-29", StageName="Closed Won", Jira_Key__c="DEL-1", Jira_Status__c="In Review",
                       Jira_Url__c=None, **{"Account.Name": "Acme \u05e9\u05dc\u05d5\u05dd"})
    issue = jira_issue(20001, "DEL-1", sfid="006Qy0000000000001", customfield_10050="006Qy0000000000001",
                       summary="Deal", description="a\nb", customfield_10052=1234567.89000,
                       customfield_10053="2026-03-29", customfield_10055="Closed Won",
                       customfield_10051="Acme \u05e9\u05dc\u05d5\u05dd", status="In Review")
    sf, jira = sf_frame(opportunity_mapping, [record]), jira_frame(opportunity_mapping, [issue])
    assert compare(opportunity_mapping, sf, jira, None).total == 0
    jira.loc[0, "customfield_10052"] = 1234567.8
    jira.loc[0, "status"] = "Done"
    rows = compare(opportunity_mapping, sf, jira, None).rows.set_index("field")
    assert rows.loc["Amount", ["sf_value", "jira_value", "winner"]].tolist() == ["1234567.89", "1234567.8",
                                                                                "salesforce"]
    assert rows.loc["Jira_Status__c", ["sf_value", "jira_value", "winner"]].tolist() == ["In Review", "Done", "jira"]


def test_fail_on_drift_above(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    seed_every_category(world)
    result = _compare(world, store)
    result.check_limit(None)
    result.check_limit(10)
    with pytest.raises(DriftLimitExceeded, match=r"11|10 drift rows exceed fail_on_drift_above=9"):
        result.check_limit(9)


def test_summary_is_value_free_and_json_safe(case_mapping: Mapping, store: StateStore) -> None:
    import json

    world = World.clean(case_mapping)
    world.save_sync(store)
    seed_every_category(world)
    summary = _compare(world, store).summary()
    text = json.dumps(summary)
    assert summary["total"] == 10 and summary["counts"]["duplicate"] == 2
    assert "on fire" not in text and PII_EDIT not in text
    assert set(summary["top_fields"]) == {"Subject", "Contact.Email", "Status"}


def test_empty_frames(case_mapping: Mapping) -> None:
    world = World(case_mapping)
    result = compare(case_mapping, world.sf(), world.jira(), pd.DataFrame(columns=["sf_id", "jira_key", "state"]))
    assert result.total == 0 and result.pairs == 0


def test_bad_input_names_what_to_pass(case_mapping: Mapping) -> None:
    from sfjira.reconcile import ReconcileInputError

    world = World.clean(case_mapping, n=1)
    with pytest.raises(ReconcileInputError, match=r"`links` lacks column\(s\) jira_key -- fix: pass StateStore.links"):
        compare(case_mapping, world.sf(), world.jira(), pd.DataFrame({"sf_id": ["x"]}))
    with pytest.raises(ReconcileInputError, match="`jira_frame` must be a pandas DataFrame, got list"):
        compare(case_mapping, world.sf(), [], None)  # type: ignore[arg-type]
