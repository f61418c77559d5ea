"""Rollback planning: restore what the run left, leave alone what changed since, skip what is back."""

from __future__ import annotations

import pandas as pd
import pytest

from sfjira.sync.rollback_plan import flat, plan_rollback, render_diff, same


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
    "jira": {"SUP-1": {"priority": "High", "summary": "Edited by a person"}, "SUP-2": {"summary": "Fax"}},
    "salesforce": {"500A": {"Priority": "Medium"}, "500N": {"Jira_Key__c": "SUP-9"}},
}


def test_restore_changed_since_and_already() -> None:
    planned = plan_rollback(_ledger(), CURRENT, created="label")
    got = {(r.side, r.field, r.sf_id): (r.status, r.before) for r in planned["actions"].itertuples()}
    assert got == {
        ("jira", "priority", "500A"): ("restore", "Medium"),
        ("jira", "summary", "500A"): ("changed_since", "Printer"),
        ("jira", "summary", "500B"): ("already", "Fax"),
        ("salesforce", "Priority", "500A"): ("restore", "Low"),
        ("salesforce", "Jira_Key__c", "500N"): ("restore", None),  # the key write-back is reverted
    }
    assert planned["created"].to_dict("records") == [{"sf_id": "500N", "jira_key": "SUP-9", "policy": "label"}]


def test_diff_lists_each_group() -> None:
    text = render_diff("case_to_bug/manual__1", plan_rollback(_ledger(), CURRENT))
    assert "## Restored to the before-image (3)" in text and "## Changed since, left alone (1)" in text
    assert "| jira | SUP-1 | summary | Edited by a person | Wrong | Printer |" in text
    assert "- SUP-9 (Salesforce 500N): keep" in text


def test_values_compare_as_flattened_jira_values() -> None:
    assert flat({"name": "High", "id": "2"}) == "High" and flat([{"name": "1.0"}]) == ["1.0"]
    assert same({"value": "Gold"}, "Gold") and same(3, 3.0) and same(None, "") and not same("a", "b")


def test_unknown_create_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="delete, label, keep"):
        plan_rollback(_ledger(), CURRENT, created="burn")
