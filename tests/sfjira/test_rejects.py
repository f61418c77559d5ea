"""One reject shape: transform rejects and identity refusals become the rows the state store keeps."""

from __future__ import annotations

import pandas as pd

from sfjira.identity.rules import REFUSED_COLUMNS
from sfjira.rejects import REJECT_COLUMNS, combined, from_refused, from_transform, reject
from sfjira.state.rejects import STORED_COLUMNS
from sfjira.transform import REJECT_COLUMNS as TRANSFORM_COLUMNS


def test_every_producer_ends_in_the_stored_shape() -> None:
    transform = pd.DataFrame([["500A", "m", "jira_to_sf", "Priority", "priority", "Priority", "VALUE_UNMAPPED",
                               "Blocker", "Jira priority has no entry -- fix: add it"]], columns=TRANSFORM_COLUMNS)
    refused = pd.DataFrame([["salesforce", "500B", "500B", "SUP-1", "IDENTITY_KEY_OTHER_PROJECT", "Jira_Key__c",
                             "SUP-1", "SUP-1 is not in DEL", "clear Jira_Key__c"]], columns=REFUSED_COLUMNS)
    load = pd.DataFrame([reject("jira", "500C", "JIRA_HTTP_400", "refused", "correct it", field="summary")])
    rows = combined(from_transform(transform), from_refused(refused), load)
    assert list(rows.columns) == REJECT_COLUMNS == [c for c in STORED_COLUMNS if c in REJECT_COLUMNS]
    assert rows.values.tolist() == [
        ["jira", "500A", "VALUE_UNMAPPED", "priority", "Jira priority has no entry -- fix: add it",
         "Jira priority has no entry -- fix: add it", "Blocker"],
        ["salesforce", "500B", "IDENTITY_KEY_OTHER_PROJECT", "Jira_Key__c", "SUP-1 is not in DEL",
         "clear Jira_Key__c", "SUP-1"],
        ["jira", "500C", "JIRA_HTTP_400", "summary", "refused", "correct it", None]]
    assert list(combined().columns) == REJECT_COLUMNS
