"""Rollback planning: restore what the run left, leave alone what changed since, skip what is back."""

from __future__ import annotations

import pandas as pd
import pytest

from sfjira.rollback.plan import flat, plan_rollback, render_diff, same


def _ledger() -> pd.DataFrame:
    return pd.DataFrame([
        {"side": "jira", "action": "create", "sf_id": "500N", "jira_key": "SUP-9", "field": None, "before": None,
         "after": {"summary": "new"}},
        {"side": "jira", "action": "update", "sf_id": "500A", "jira_key": "SUP-1", "field": "priority",
         "before": "Medium", "after": {"name": "High"}},
        {"side": "jira", "action": "update", "sf_id": "500A", "jira_key": "SUP-1", "field": "summary",
         "before": "Printer", "after": "Wrong"},
        {"side": "jira", "action": "update", "sf_id": "500B", "jira_key": "SUP-2", "field": "summary",
         "before": "Fax", "after": "Wrong"},
        {"side": "salesforce", "action": "update", "sf_id": "500A", "jira_key": "SUP-1", "field": "Priority",
         "before": "Low", "after": "High"},
        {"side": "salesforce", "action": "update", "sf_id": "500A", "jira_key": "SUP-1", "field": "Priority",
         "before": "High", "after": "Medium"},  # written twice: first before, last after
        {"side": "salesforce", "action": "link", "sf_id": "500N", "jira_key": "SUP-9", "field": "Jira_Key__c",
         "before": None, "after": "SUP-9"},
        {"side": "salesforce", "action": "conflict", "sf_id": "500A", "jira_key": "SUP-1", "field": "Priority",
         "before": "x", "after": "y"},  # a decision, not a write
    ])


CURRENT = {
    "jira": {"SUP-1": {"priority": "High", "summary": "Edited by a person"}, "SUP-2": {"summary": "Fax"},
             "SUP-9": {"summary": "new"}},
    "salesforce": {"500A": {"Priority": "Medium"}, "500N": {"Jira_Key__c": "SUP-9"}},
}


def _statuses(planned: dict[str, pd.DataFrame]) -> dict[tuple[str, str, str], tuple[str, object]]:
    return {(r.side, r.field, r.sf_id): (r.status, r.before) for r in planned["actions"].itertuples()}


def test_restore_changed_since_and_already() -> None:
    planned = plan_rollback(_ledger(), CURRENT, created="label")
    assert _statuses(planned) == {
        ("jira", "priority", "500A"): ("restore", "Medium"),
        ("jira", "summary", "500A"): ("changed_since", "Printer"),
        ("jira", "summary", "500B"): ("already", "Fax"),
        ("salesforce", "Priority", "500A"): ("restore", "Low"),
        ("salesforce", "Jira_Key__c", "500N"): ("issue_kept", None),  # the labelled issue keeps its key
    }
    assert planned["created"].to_dict("records") == [
        {"sf_id": "500N", "jira_key": "SUP-9", "policy": "label", "status": "label"}]


def test_deleting_a_created_issue_reverts_its_key_write_back() -> None:
    planned = plan_rollback(_ledger(), CURRENT, created="delete")
    assert _statuses(planned)[("salesforce", "Jira_Key__c", "500N")] == ("restore", None)
    assert list(planned["created"]["status"]) == ["delete"]


def test_a_created_issue_a_person_changed_is_not_deleted_and_one_gone_is_not_deleted_again() -> None:
    edited = {**CURRENT, "jira": {**CURRENT["jira"], "SUP-9": {"summary": "renamed by a person"}}}
    planned = plan_rollback(_ledger(), edited, created="delete")
    assert list(planned["created"]["status"]) == ["changed_since"]
    assert _statuses(planned)[("salesforce", "Jira_Key__c", "500N")] == ("issue_kept", None)
    gone = {**CURRENT, "jira": {k: v for k, v in CURRENT["jira"].items() if k != "SUP-9"}}
    assert list(plan_rollback(_ledger(), gone, created="delete")["created"]["status"]) == ["gone"]


def test_fields_the_mapping_no_longer_writes_are_left_alone() -> None:
    planned = plan_rollback(_ledger(), CURRENT, writable={"jira": {"summary"}, "salesforce": {"Priority"}})
    statuses = _statuses(planned)
    assert statuses[("jira", "priority", "500A")] == ("unmapped", "Medium")
    assert statuses[("salesforce", "Priority", "500A")] == ("restore", "Low")


def test_diff_lists_each_group() -> None:
    text = render_diff("case_to_bug/manual__1", plan_rollback(_ledger(), CURRENT), masked={"priority"})
    assert "## Restored to the before-image (2)" in text and "## Changed since, left alone (1)" in text
    assert "| jira | SUP-1 | summary | Edited by a person | Wrong | Printer |" in text
    assert "| jira | SUP-1 | priority | *** | *** | *** |" in text  # a PII field's values are masked
    assert "- SUP-9 (Salesforce 500N): kept" in text and "(dry run: nothing written)" in text


def test_values_compare_as_flattened_jira_values() -> None:
    assert flat({"name": "High", "id": "2"}) == "High" and flat([{"name": "1.0"}]) == ["1.0"]
    assert same({"value": "Gold"}, "Gold") and same(3, 3.0) and same(None, "") and not same("a", "b")


def test_unknown_create_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="delete, label, keep"):
        plan_rollback(_ledger(), CURRENT, created="burn")
