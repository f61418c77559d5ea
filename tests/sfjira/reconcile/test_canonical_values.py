"""transform.canonical_values: every mapped field from one side, whatever its direction.

(The helper lives in the transform; it was added for reconciliation and is tested here.)
"""

from __future__ import annotations

import pandas as pd
import pytest

from sfjira.exceptions import TransformError
from sfjira.mapping import Mapping, parse_mapping
from sfjira.transform import canonical_values, to_jira, to_salesforce
from tests.sfjira.reconcile.world import jira_frame, jira_issue, sf_frame, sf_record

TEMPLATED = """
name: templated
salesforce: {object: Opportunity, jira_key_field: Jira_Key__c}
jira: {project: DEL, issue_type: Epic, salesforce_id_field: customfield_10050}
fields:
  - {salesforce: Name, jira: summary, transforms: [{template: "{Name} ({Account.Name})"}], max_length: 20, required: true,
     on_overflow: truncate}
  - {salesforce: Amount, jira: customfield_10052, type: currency}
  - {salesforce: Jira_Status__c, jira: status, direction: jira_to_sf}
"""


@pytest.fixture(scope="module")
def templated() -> Mapping:
    return parse_mapping(TEMPLATED)


def test_every_field_from_both_sides(case_mapping: Mapping) -> None:
    sf = sf_frame(case_mapping, [sf_record("500Qy0000000000001", Subject="Hi", Description="a\r\nb",
                                           Priority="High", Fix_Version__c="1.1; 1.0", Status="Working",
                                           Jira_Key__c="SUP-1", Jira_Url__c=None,
                                           **{"Contact.Email": " Ada@Example.COM "})])
    jira = jira_frame(case_mapping, [jira_issue(1, "SUP-1", sfid="500Qy0000000000001", summary="Hi",
                                                description="a\nb", priority="Highest",
                                                customfield_10054="ada@example.com", fixVersions=["1.0", "1.1"],
                                                status="In Progress", customfield_10050=None)])
    keys = [f.canonical_key for f in case_mapping.synced_fields]
    left = canonical_values(case_mapping, sf, "salesforce").frame
    right = canonical_values(case_mapping, jira, "jira").frame
    assert list(left.columns) == list(right.columns) == keys
    assert left.iloc[0].tolist() == right.iloc[0].tolist() == ["Hi", "a\nb", "High", "ada@example.com", "1.0;1.1",
                                                               "Working"]
    # the fields that do flow from a side are exactly what to_jira / to_salesforce give
    pd.testing.assert_frame_equal(left[to_jira(case_mapping, sf).frame.columns], to_jira(case_mapping, sf).frame)
    pd.testing.assert_frame_equal(right[to_salesforce(case_mapping, jira).frame.columns],
                                  to_salesforce(case_mapping, jira).frame)


def test_a_template_is_read_back_not_rendered_again(templated: Mapping) -> None:
    sf = sf_frame(templated, [sf_record("006Qy0000000000001", "Opportunity", Name="A very long deal name",
                                        Amount=10.0, Jira_Key__c="DEL-1", Jira_Status__c="Done",
                                        **{"Account.Name": "Acme"})])
    jira = pd.DataFrame({"id": ["1"], "key": ["DEL-1"], "updated": [pd.Timestamp("2026-03-29", tz="UTC")],
                         "customfield_10050": ["006Qy0000000000001"], "summary": ["A very long deal nam"],
                         "customfield_10052": [10], "status": ["Done"]})
    left = canonical_values(templated, sf, "salesforce").frame.iloc[0]
    right = canonical_values(templated, jira, "jira").frame.iloc[0]
    assert left["Name"] == right["Name"] == "A very long deal nam"  # rendered, truncated; the Jira copy stays equal
    assert left.tolist() == right.tolist() == ["A very long deal nam", "10", "Done"]


def test_rejected_records_are_kept_and_listed(case_mapping: Mapping) -> None:
    jira = jira_frame(case_mapping, [jira_issue(1, "SUP-1", summary="x", status="Blocked", priority="High"),
                                     jira_issue(2, "SUP-2", summary="y", status="Done", priority="Low")])
    result = canonical_values(case_mapping, jira, "jira")
    assert list(result.frame.index) == ["SUP-1", "SUP-2"]
    assert result.frame.loc["SUP-1", "Status"] == "Blocked"
    assert result.rejects[["record_id", "field", "code"]].values.tolist() == [["SUP-1", "Status", "VALUE_UNMAPPED"]]
    assert list(to_salesforce(case_mapping, jira).frame.index) == ["SUP-2"]  # the sync itself holds it back


def test_side_is_checked(case_mapping: Mapping) -> None:
    with pytest.raises(TransformError, match="side='salesforce' or side='jira'"):
        canonical_values(case_mapping, pd.DataFrame(), "both")  # type: ignore[arg-type]
