"""Value maps in both directions and each declared behaviour for unmapped values."""

from __future__ import annotations

import pytest

from sfjira.transform import to_jira, to_salesforce
from tests.sfjira.transform.conftest import jira_frame, mapping, sf_frame, values

PRIORITY = {"salesforce": "Priority", "jira": "priority", "type": "picklist", "direction": "both", "owner": "jira",
            "value_map": {"High": "High", "Medium": "Medium", "Low": "Low"},
            "reverse_map": {"Highest": "High", "Lowest": "Low"}}


def priority(unmapped: str, **extra) -> dict:
    return {**PRIORITY, "unmapped": unmapped, **extra}


def test_forward_and_reverse_with_many_to_one_rules() -> None:
    m = mapping(PRIORITY)
    r = to_jira(m, sf_frame(Priority=["High", "Low", None]))
    assert values(r.frame["Priority"]) == ["High", "Low", None]
    assert values(r.target["priority"]) == ["High", "Low", None]
    back = to_salesforce(m, jira_frame(priority=["Highest", "High", "Lowest", "Medium"]))
    assert values(back.frame["Priority"]) == ["High", "High", "Low", "Medium"]  # canonical = Salesforce words
    assert values(back.target["Priority"]) == ["High", "High", "Low", "Medium"]


def test_canonical_speaks_salesforce_so_both_sides_compare() -> None:
    m = mapping({"salesforce": "Status", "jira": "customfield_1", "type": "picklist", "direction": "both",
                 "owner": "jira", "value_map": {"New": "To Do", "Closed": "Done"}})
    a = to_jira(m, sf_frame(Status=["New", "Closed"]))
    b = to_salesforce(m, jira_frame(customfield_1=["To Do", "Done"]))
    assert values(a.target["customfield_1"]) == ["To Do", "Done"]
    assert values(a.frame["Status"]) == values(b.frame["Status"]) == ["New", "Closed"]


@pytest.mark.parametrize("direction", ["sf_to_jira", "jira_to_sf"])
def test_unmapped_reject(direction: str) -> None:
    m = mapping(priority("reject"))
    if direction == "sf_to_jira":
        r = to_jira(m, sf_frame(Priority=["Urgent", "High"]))
    else:
        r = to_salesforce(m, jira_frame(priority=["Blocker", "High"]))
    assert r.rejects["code"].tolist() == ["VALUE_UNMAPPED"]
    assert r.rejects["value"].tolist() == ["Urgent" if direction == "sf_to_jira" else "Blocker"]
    assert "add it to value_map (or reverse_map) of `Priority` in t.yaml" in r.rejects["message"][0]
    assert values(r.frame["Priority"]) == ["High"]


def test_unmapped_default_in_both_directions() -> None:
    m = mapping(priority("default", default="Medium"))
    r = to_jira(m, sf_frame(Priority=["Urgent", "High"]))
    assert values(r.frame["Priority"]) == ["Medium", "High"]
    assert values(r.target["priority"]) == ["Medium", "High"]
    back = to_salesforce(m, jira_frame(priority=["Blocker", "Lowest"]))
    assert values(back.target["Priority"]) == ["Medium", "Low"]
    assert back.rejects.empty and r.rejects.empty


def test_unmapped_pass_keeps_the_value() -> None:
    m = mapping(priority("pass"))
    r = to_jira(m, sf_frame(Priority=["Urgent", "High"]))
    assert values(r.target["priority"]) == ["Urgent", "High"]
    back = to_salesforce(m, jira_frame(priority=["Blocker", "Highest"]))
    assert values(back.target["Priority"]) == ["Blocker", "High"]


def test_missing_values_take_the_default_and_required_rejects() -> None:
    m = mapping({"salesforce": "Origin", "jira": "customfield_1", "type": "picklist", "default": "Web"},
                {"salesforce": "Reason", "jira": "customfield_2", "required": True})
    r = to_jira(m, sf_frame(Origin=[None, "Phone"], Reason=["x", ""]))
    assert values(r.frame["Origin"]) == ["Web"]
    assert r.rejects[["record_id", "code"]].values.tolist() == [["500000000000000001", "REQUIRED_MISSING"]]


def test_multi_picklist_values_are_mapped_one_by_one() -> None:
    m = mapping({"salesforce": "Tags__c", "jira": "labels", "type": "multi-picklist", "direction": "both",
                 "owner": "salesforce", "value_map": {"Gold": "gold", "New Business": "new-business"},
                 "unmapped": "reject"})
    r = to_jira(m, sf_frame(Tags__c=["New Business;Gold", "Gold;Unknown"]))
    assert values(r.target["labels"]) == [["gold", "new-business"]]
    assert values(r.frame["Tags__c"]) == ["Gold;New Business"]
    assert r.rejects["code"].tolist() == ["VALUE_UNMAPPED"]
    back = to_salesforce(m, jira_frame(labels=[["new-business", "gold"]]))
    assert values(back.target["Tags__c"]) == ["Gold;New Business"]


def test_status_section_maps_statuses() -> None:
    status = {"salesforce": "Status", "owner": "jira",
              "value_map": {"New": "To Do", "Working": "In Progress", "Escalated": "In Review", "Closed": "Done"}}
    m = mapping(status=status)
    r = to_jira(m, sf_frame(Status=["Working", "Closed"]))
    assert values(r.target["status"]) == ["In Progress", "Done"]
    back = to_salesforce(m, jira_frame(status=["In Review", "To Do"]))
    assert values(back.target["Status"]) == ["Escalated", "New"]
