"""CaseComment / Task <-> Jira comments and worklogs, with the echo marker."""

from __future__ import annotations

import pandas as pd
import pytest

from sfjira.exceptions import TransformError
from sfjira.mapping import load_mapping
from sfjira.transform import comments_to_jira, comments_to_salesforce
from tests.sfjira.mapping.conftest import SHIPPED
from tests.sfjira.transform.conftest import mapping, values

CASE = load_mapping(SHIPPED / "case_to_bug.yaml")


def test_salesforce_comments_to_jira_with_header_and_echo_skip() -> None:
    sf = pd.DataFrame({"Id": ["00a1", "00a2", "00a3"], "ParentId": ["500A", "500A", "500B"],
                       "CommentBody": ["Printer 🔥\r\nsecond line", "[sfjira] from Jira 10001 by Bob\nhi", ""],
                       "CreatedDate": ["2026-11-28T15:04:05.000+0000"] * 3, "CreatedBy.Name": ["Ada", "Bot", None]})
    r = comments_to_jira(CASE, sf)
    assert list(r.frame.index) == ["00a1"]
    assert r.frame.loc["00a1"].to_dict() == {"parent_sf_id": "500A", "created": "2026-11-28T15:04:05.000Z",
                                             "body": "[sfjira] from Salesforce 00a1 by Ada\nPrinter 🔥\nsecond line"}
    assert list(r.echoes) == ["00a2"]
    assert r.rejects[["record_id", "code"]].values.tolist() == [["00a3", "REQUIRED_MISSING"]]
    assert "nothing to copy" in r.rejects["message"][0]


def test_jira_comments_to_salesforce_respect_the_body_limit() -> None:
    jira = pd.DataFrame({"id": ["10001", "10002", "10003"], "issue_key": ["SUP-1"] * 3,
                         "body": ["short", "x" * 4000, "[sfjira] from Salesforce 00a1 by Ada\nPrinter"],
                         "author": ["Bob", "Bob", "sync-bot"],
                         "created": ["2026-11-28T16:04:05.000+0100"] * 3})
    r = comments_to_salesforce(CASE, jira)
    assert values(r.frame["body"]) == ["[sfjira] from Jira 10001 by Bob\nshort"]
    assert values(r.frame["issue_key"]) == ["SUP-1"] and values(r.frame["created"]) == ["2026-11-28T15:04:05.000Z"]
    assert r.rejects["code"].tolist() == ["STRING_TOO_LONG"] and r.rejects["record_id"].tolist() == ["10002"]
    assert list(r.echoes) == ["10003"]


def test_worklogs_carry_the_duration() -> None:
    m = mapping(comments={"direction": "both", "salesforce": {"object": "Task", "parent_field": "WhatId",
                                                              "body_field": "Description",
                                                              "duration_field": "Minutes__c"},
                          "jira": {"kind": "worklog"}})
    r = comments_to_jira(m, pd.DataFrame({"Id": ["00T1"], "WhatId": ["500A"], "Description": ["call"],
                                          "Minutes__c": [45.0]}))
    assert values(r.frame["timeSpentSeconds"]) == ["2700"]
    back = comments_to_salesforce(m, pd.DataFrame({"id": ["1"], "issue_key": ["SUP-1"], "body": ["fix"],
                                                   "timeSpentSeconds": [5400]}))
    assert values(back.frame["Minutes__c"]) == ["90"]


def test_a_mapping_without_comments_says_so() -> None:
    with pytest.raises(TransformError, match="does not copy comments"):
        comments_to_jira(mapping(), pd.DataFrame({"Id": []}))


def test_missing_columns() -> None:
    with pytest.raises(TransformError, match="lacks column"):
        comments_to_salesforce(CASE, pd.DataFrame({"id": ["1"]}))
