"""The reconciliation's Salesforce query keeps the mapping's `where` inside its own parentheses too."""

from __future__ import annotations

import datetime as dt

import pytest

from sfjira.hooks.soql_condition import ConditionError
from sfjira.mapping.loader import parse_mapping
from sfjira.mapping.model import Mapping
from sfjira.reconcile.extract import reconcile_soql
from tests.sfjira.mapping.conftest import BASE


def _with_where(condition: str) -> Mapping:
    return parse_mapping(BASE.replace("  object: Case\n", f'  object: Case\n  where: "{condition}"\n'), "w.yaml")


def test_the_where_is_wrapped_before_the_key_scope_and_the_since_bound() -> None:
    soql = reconcile_soql(_with_where("Origin = 'Web' OR Id != null"), dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    assert soql.endswith(" FROM Case WHERE (SystemModstamp >= 2026-01-02T00:00:00Z) AND "
                         "((Origin = 'Web' OR Id != null) OR Jira_Key__c != null) ORDER BY Id")


def test_a_where_that_is_not_one_condition_never_reaches_the_query() -> None:
    mapping = _with_where("Origin = 'Web'")
    broken = mapping.model_copy(update={"salesforce": mapping.salesforce.model_copy(
        update={"where": "Origin = 'Web') OR (Id != null"})})  # as if the file had been edited past validation
    with pytest.raises(ConditionError, match="WHERE_INVALID"):
        reconcile_soql(broken)
