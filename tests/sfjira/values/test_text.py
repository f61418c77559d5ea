"""Lengths in UTF-16 units, truncation that never breaks a character, and text transforms."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfjira.transform import to_jira
from sfjira.values.text import cut_text, overflow_mask
from tests.sfjira.transform.conftest import mapping, sf_frame, values

FAMILY = "👨\u200d👩\u200d👧"  # a ZWJ sequence: one visible character, 8 UTF-16 units
FLAGS = "🇩🇪🇫🇷"  # two flags, each a pair of regional indicators
THUMB = "👍🏽"  # emoji + skin tone modifier


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("abc😀", 4, "abc"),  # the emoji needs 2 units: no half surrogate pair
    ("abc😀", 5, "abc😀"),
    ("ab" + FAMILY + "x", 9, "ab"),  # never a partial ZWJ sequence
    ("ab" + FAMILY + "x", 10, "ab" + FAMILY),
    ("cafe\u0301!", 4, "caf"),  # e + combining acute stay together
    ("cafe\u0301!", 5, "cafe\u0301"),
    (FLAGS, 6, "🇩🇪"),  # 3 regional indicators would fit: only whole flags are kept
    (FLAGS, 3, ""),
    (THUMB + "x", 3, ""),  # the modifier belongs to the thumb
    ("a\r\nb", 2, "a"),
    ("שלום עולם", 4, "שלום"),  # right-to-left text is plain text
    ("क्षत्रिय", 2, "क्"),  # Devanagari virama (a combining mark) stays with its consonant
])
def test_cut_at_cluster_boundaries(text: str, limit: int, expected: str) -> None:
    assert cut_text(text, limit) == expected


def test_lengths_count_utf16_units_like_salesforce_and_jira() -> None:
    texts = pa.array(["abc", "😀😀", "😀a", None, "e\u0301e\u0301"], pa.large_string())
    assert overflow_mask(texts, 3).tolist() == [False, True, False, False, True]


@given(st.text(st.characters(codec="utf-8"), max_size=40), st.integers(min_value=0, max_value=60))
@settings(max_examples=300, deadline=None)
def test_truncation_is_a_prefix_that_fits(text: str, limit: int) -> None:
    cut = cut_text(text, limit)
    assert text.startswith(cut)
    assert len(cut.encode("utf-16-le")) <= 2 * limit
    if len(text.encode("utf-16-le")) <= 2 * limit:
        assert cut == text


def test_truncate_in_the_transform_only_touches_long_rows() -> None:
    m = mapping({"salesforce": "Name", "jira": "customfield_1", "max_length": 5, "on_overflow": "truncate"})
    r = to_jira(m, sf_frame(Name=["short", "a" * 4 + FAMILY, "ok" + THUMB + "zz", "o" + THUMB + "zz"]))
    assert values(r.frame["Name"]) == ["short", "aaaa", "ok", "o" + THUMB]  # thumb + tone = 4 units
    assert r.rejects.empty


def test_overflow_reject() -> None:
    m = mapping({"salesforce": "Code__c", "jira": "customfield_1", "max_length": 3, "on_overflow": "reject"})
    r = to_jira(m, sf_frame(Code__c=["abc", "abcd", "😀a"]))
    assert r.rejects["code"].tolist() == ["STRING_TOO_LONG"]
    assert "longer than the 3 characters (UTF-16 units) Jira customfield_1 allows" in r.rejects["message"][0]
    assert "set on_overflow: truncate" in r.rejects["message"][0]
    assert values(r.frame["Code__c"]) == ["abc", "😀a"]


def test_summary_is_truncated_at_255_units() -> None:
    r = to_jira(mapping(), sf_frame(Subject=["x" * 254 + "😀", "x" * 300]))
    assert values(r.target["summary"]) == ["x" * 254, "x" * 255]


def test_jira_limits_apply_without_max_length() -> None:
    m = mapping({"salesforce": "Description", "jira": "description", "type": "text"})
    r = to_jira(m, sf_frame(Description=["fine", "y" * 32768]))
    assert r.rejects["code"].tolist() == ["STRING_TOO_LONG"]


def test_summary_cannot_hold_line_breaks_unless_made_single_line() -> None:
    r = to_jira(mapping(), sf_frame(Subject=["two\nlines", "one"]))
    assert r.rejects["code"].tolist() == ["STRING_MULTILINE"]
    assert "add the single_line transform" in r.rejects["message"][0]
    single = mapping(summary={"salesforce": "Subject", "jira": "summary", "required": True, "max_length": 255,
                              "on_overflow": "truncate", "transforms": ["single_line"]})
    assert values(to_jira(single, sf_frame(Subject=["two\r\nlines"])).target["summary"]) == ["two lines"]


def test_named_transforms() -> None:
    m = mapping({"salesforce": "Email__c", "jira": "customfield_1", "transforms": ["strip", "lower"]},
                {"salesforce": "Code__c", "jira": "customfield_2", "transforms": ["upper"]},
                {"salesforce": "Amount", "jira": "customfield_3", "type": "currency", "transforms": [{"round": 2}]},
                {"salesforce": "Name", "jira": "customfield_4", "transforms": [{"template": "{Name} ({Account.Name})"}]})
    r = to_jira(m, sf_frame(Email__c=["  Ada@Example.COM ", "   "], Code__c=["abc-ß", None], Amount=[1.005, "2.675"],
                            Name=["Deal", "Other"], **{"Account.Name": ["Acme 😀", None]}))
    assert values(r.frame["Email__c"]) == ["ada@example.com", None]
    assert values(r.frame["Code__c"]) == ["ABC-ẞ", None]  # simple one-to-one case mapping: ß -> ẞ, not SS
    assert values(r.frame["Amount"]) == ["1.01", "2.68"]  # half up on the exact decimal, not on the float
    assert values(r.target["customfield_4"]) == ["Deal (Acme 😀)", "Other ()"]
