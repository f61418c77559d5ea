"""ADF validation and the plain-text conversion that v2 and v3 share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulators.jira import adf


@given(st.text())
def test_every_plain_string_survives_the_round_trip_through_adf(text: str) -> None:
    doc = adf.from_plain(text)
    assert adf.validate(doc) is doc
    assert adf.to_plain(doc) == text


def test_plain_text_becomes_paragraphs_and_hard_breaks() -> None:
    doc = adf.from_plain("line 1\nline 2\n\nsecond paragraph")
    assert doc == {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "line 1"}, {"type": "hardBreak"},
                                          {"type": "text", "text": "line 2"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "second paragraph"}]}]}


def test_rich_documents_flatten_to_their_text() -> None:
    doc = {"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 1}, "content": [{"type": "text", "text": "Title"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "bold", "marks": [{"type": "strong"}]}, {"type": "text", "text": " and "},
            {"type": "text", "text": "link", "marks": [{"type": "link", "attrs": {"href": "https://x.test"}}]},
            {"type": "mention", "attrs": {"id": "1", "text": "@Ada"}}, {"type": "emoji", "attrs": {"shortName": ":ok:"}}]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "two"}]}]}]},
        {"type": "codeBlock", "content": [{"type": "text", "text": "x = 1"}]},
    ]}
    assert adf.to_plain(adf.validate(doc)) == "Title\n\nbold and link@Ada:ok:\n\n- one\n- two\n\nx = 1"


@pytest.mark.parametrize("doc", [
    "plain string",
    {"type": "doc", "content": []},
    {"type": "doc", "version": 2, "content": []},
    {"type": "doc", "version": 1},
    {"type": "doc", "version": 1, "content": [{"type": "blink"}]},
    {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}]},
    {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text"}]}]},
    {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "x", "marks": [{"type": "sparkle"}]}]}]},
    {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": "text"}]},
    {"type": "doc", "version": 1, "content": ["paragraph"]},
])
def test_malformed_documents_are_rejected(doc: object) -> None:
    with pytest.raises(adf.AdfError):
        adf.validate(doc)
