"""issues_to_frame and ADF <-> text: no server."""

from __future__ import annotations

import pandas as pd
import pytest

from sfjira.hooks.jira_frames import adf_to_text, issues_to_frame, plain_value, text_to_adf


@pytest.mark.parametrize("text", ["one line", "line 1\nline 2", "para 1\n\npara 2\nbreak", "", "a\n\n\n\nb",
                                  "trailing\n", "ünïcödé ✓"])
def test_plain_text_round_trips_through_adf(text: str) -> None:
    assert adf_to_text(text_to_adf(text)) == text


def test_adf_marks_lists_mentions() -> None:
    doc = {"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Title"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "bold", "marks": [{"type": "strong"}]}, {"type": "text", "text": " and "},
            {"type": "mention", "attrs": {"id": "abc", "text": "@Ann"}}]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x"}]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "y"}]}]}]},
        {"type": "orderedList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "first"}]}]}]},
    ]}
    assert adf_to_text(doc) == "Title\n\nbold and @Ann\n\n- x\n- y\n\n1. first"
    assert adf_to_text(None) is None and adf_to_text("plain") == "plain"


def test_plain_values() -> None:
    assert plain_value({"value": "Closed Won", "id": "10"}) == "Closed Won"
    assert plain_value([{"value": "a"}, {"value": "b"}]) == ["a", "b"]
    assert plain_value({"name": "High", "id": "2"}) == "High"
    assert plain_value({"accountId": "5b10", "displayName": "Ann"}) == "5b10"
    assert plain_value(12.5) == 12.5


ISSUE_V3 = {
    "id": "10001", "key": "SUP-1",
    "fields": {"summary": "Broken", "description": text_to_adf("Steps\n\n1. click"),
               "status": {"name": "In Progress", "id": "3"}, "priority": {"name": "High"},
               "issuetype": {"name": "Bug"}, "fixVersions": [{"name": "1.0"}, {"name": "1.1"}], "labels": ["sf"],
               "updated": "2026-03-01T13:15:45.123+0100", "created": "2026-02-01T10:00:00.000+0100",
               "customfield_10055": {"value": "Closed Won", "id": "1"}, "customfield_10052": 1200.5,
               "customfield_10050": "006000000000001AAA"},
    "properties": {"sfjira": {"sfid": "006000000000001AAA", "mapping": "opportunity_to_epic"}},
}
ISSUE_V2 = {"id": "10002", "key": "SUP-2", "fields": {"summary": "Other", "description": "plain v2",
                                                      "status": {"name": "To Do"}, "priority": None,
                                                      "issuetype": {"name": "Bug"}, "fixVersions": [], "labels": [],
                                                      "updated": "2026-03-01T12:00:00.000+0000",
                                                      "created": "2026-03-01T12:00:00.000+0000"}}


def test_issues_to_frame() -> None:
    frame = issues_to_frame([[ISSUE_V3], [ISSUE_V2]], fields=["customfield_10055", "customfield_10099"])
    assert list(frame.columns[:11]) == ["id", "key", "updated", "created", "summary", "description", "status",
                                        "priority", "issuetype", "fixVersions", "labels"]
    first, second = frame.iloc[0], frame.iloc[1]
    assert first["description"] == "Steps\n\n1. click" and second["description"] == "plain v2"
    assert (first["status"], first["priority"], first["issuetype"]) == ("In Progress", "High", "Bug")
    assert first["fixVersions"] == ["1.0", "1.1"] and first["labels"] == ["sf"]
    assert first["customfield_10055"] == "Closed Won" and first["customfield_10052"] == 1200.5
    assert first["updated"] == pd.Timestamp("2026-03-01T12:15:45.123Z")
    assert str(frame["updated"].dt.tz) == "UTC"
    assert first["sfid"] == "006000000000001AAA" and pd.isna(second["sfid"])
    assert "customfield_10099" in frame.columns and frame["customfield_10099"].isna().all()


def test_empty_pages_give_the_columns() -> None:
    frame = issues_to_frame([])
    assert frame.empty and {"id", "key", "updated", "sfid"} <= set(frame.columns)
    assert "sfid" not in issues_to_frame([], sfid_property=None).columns
