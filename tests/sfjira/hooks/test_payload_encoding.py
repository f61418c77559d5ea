"""The hooks are the only encoders: canonical plan values -> each API's wire shapes (Cloud vs Data Center,
option objects, users, numbers). Pure functions first, then the hooks' `encode_fields` on both Jira
deployments of the emulator."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from sfjira.hooks.jira import JiraSyncHook
from sfjira.hooks.payload import canonical, jira_wire, salesforce_wire
from sfjira.hooks.salesforce import SalesforceSyncHook
from sfjira.mapping.model import FieldMapping


def _f(jira: str, kind: str = "string", salesforce: str = "Name") -> FieldMapping:
    return FieldMapping(salesforce=salesforce, jira=jira, type=kind)


@pytest.mark.parametrize(("field", "value", "cloud", "wire"), [
    (_f("priority", "picklist"), "High", True, {"name": "High"}),
    (_f("customfield_10055", "picklist"), "Prospecting", True, {"value": "Prospecting"}),
    (_f("customfield_10056", "multi-picklist"), "A;B", True, [{"value": "A"}, {"value": "B"}]),
    (_f("fixVersions", "multi-picklist"), ["1.0", "2.0"], False, [{"name": "1.0"}, {"name": "2.0"}]),
    (_f("labels", "multi-picklist"), ["x", "y"], True, ["x", "y"]),
    (_f("labels", "multi-picklist"), None, True, []),  # an empty multi-value clears the field
    (_f("assignee", "user"), "5b10ac8d82e05b22cc7d4ef5", True, {"accountId": "5b10ac8d82e05b22cc7d4ef5"}),
    (_f("assignee", "user"), "jsmith", False, {"name": "jsmith"}),
    (_f("customfield_10060", "user"), "jsmith", False, {"name": "jsmith"}),
    (_f("customfield_10052", "currency"), "1200.50", True, 1200.5),
    (_f("customfield_10057", "integer"), "42", False, 42),
    (_f("customfield_10058", "boolean"), True, True, True),
    (_f("summary"), None, True, None),
    (_f("description", "text"), "Line one", True, "Line one"),  # ADF is made when written
])
def test_jira_wire_shapes(field: FieldMapping, value: object, cloud: bool, wire: object) -> None:
    assert jira_wire(field, value, cloud=cloud) == wire


@pytest.mark.parametrize(("kind", "value", "wire"), [
    ("currency", "1200.50", 1200.5), ("integer", "7", 7), ("number", "", None), ("boolean", "true", True),
    ("boolean", "0", False), ("boolean", False, False), ("string", float("nan"), None), ("date", "2026-12-31",
                                                                                         "2026-12-31"),
])
def test_salesforce_wire_shapes(kind: str, value: object, wire: object) -> None:
    assert salesforce_wire(_f("customfield_1", kind, "Amount"), value) == wire


def test_canonical_values_are_plain_json_with_exact_decimals() -> None:
    assert canonical(Decimal("1200.50")) == "1200.50"
    assert canonical(np.array(["a", "b"], dtype=object)) == ["a", "b"]
    assert canonical(np.int64(3)) == 3
    assert canonical(pd.NA) is None and canonical(float("nan")) is None and canonical(None) is None
    assert canonical("High") == "High"


def test_salesforce_hook_encodes_mapped_fields_and_passes_the_others() -> None:
    mapped = [_f("customfield_10052", "currency", "Amount"), _f("customfield_10058", "boolean", "IsWon")]
    wire = SalesforceSyncHook.encode_fields(mapped, {"Amount": "10.25", "IsWon": "false", "Jira_Key__c": "DEL-1"})
    assert wire == {"Amount": 10.25, "IsWon": False, "Jira_Key__c": "DEL-1"}


@pytest.mark.parametrize(("mode", "user"), [("cloud", {"accountId": "u1"}), ("datacenter", {"name": "u1"})])
def test_jira_hook_encodes_for_its_deployment(jira_conn, mode: str, user: dict[str, str]) -> None:  # noqa: ANN001
    hook = JiraSyncHook(jira_conn(mode))
    mapped = [_f("assignee", "user"), _f("priority", "picklist"), _f("customfield_10052", "currency", "Amount")]
    wire = hook.encode_fields(mapped, {"assignee": "u1", "priority": "High", "customfield_10052": "3.5",
                                       "customfield_10050": "006000000000001AAA"})
    assert wire == {"assignee": user, "priority": {"name": "High"}, "customfield_10052": 3.5,
                    "customfield_10050": "006000000000001AAA"}
    assert hook.api_version == ("3" if mode == "cloud" else "2")
