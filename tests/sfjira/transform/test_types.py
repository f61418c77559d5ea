"""Coercion of each field type to its canonical form, and the target-native form on each side."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from sfjira.transform import to_jira, to_salesforce
from tests.sfjira.transform.conftest import jira_frame, mapping, sf_frame, values


def one(ftype: str, **extra) -> dict:
    return {"salesforce": "F__c", "jira": "customfield_1", "type": ftype, **extra}


def codes(result) -> dict[str, str]:
    return dict(zip(result.rejects["record_id"], result.rejects["code"], strict=True))


def test_string_kept_exactly_and_empty_is_missing() -> None:
    texts = ["plain", "  spaced  ", "emoji 😀👍🏽", "مرحبا بالعالم", "e\u0301 combining", "", None]
    r = to_jira(mapping(one("string")), sf_frame(F__c=texts))
    assert values(r.frame["F__c"]) == texts[:5] + [None, None]
    assert values(r.target["customfield_1"]) == texts[:5] + [None, None]


def test_text_line_ends_become_lf() -> None:
    r = to_jira(mapping(one("text")), sf_frame(F__c=["a\r\nb", "c\rd", "e\nf"]))
    assert values(r.frame["F__c"]) == ["a\nb", "c\nd", "e\nf"]


def test_numbers_from_json_floats_are_exact() -> None:
    raw = [1234567.89, 100.0, 0.1, 1e16, -0.0, 0.30000000000000004, None, np.nan, 123456789012.34]
    r = to_jira(mapping(one("currency")), sf_frame(F__c=raw))
    assert values(r.frame["F__c"]) == ["1234567.89", "100", "0.1", "10000000000000000", "0",
                                       "0.30000000000000004", None, None, "123456789012.34"]
    assert values(r.target["customfield_1"]) == values(r.frame["F__c"])


def test_numbers_from_strings_and_decimals_keep_every_digit() -> None:
    raw = ["1234567.89", "007.50", "+.5", "1.0E+2", "12345678901234567890.123456789", " 42 "]
    r = to_jira(mapping(one("number")), sf_frame(F__c=raw))
    assert values(r.frame["F__c"]) == ["1234567.89", "7.5", "0.5", "100", "12345678901234567890.123456789", "42"]
    mixed = pd.Series([Decimal("1234567.89"), 3, 2.5, "9.90", None], dtype=object)
    r = to_jira(mapping(one("number")), sf_frame(F__c=mixed))
    assert values(r.frame["F__c"]) == ["1234567.89", "3", "2.5", "9.9", None]


def test_not_a_number_is_rejected() -> None:
    r = to_jira(mapping(one("number")), sf_frame(F__c=["12,5", "abc", "1e", float("inf"), "1.5"]))
    assert set(codes(r).values()) == {"INVALID_NUMBER"} and len(codes(r)) == 4
    assert values(r.frame["F__c"]) == ["1.5"]


def test_integer_needs_a_whole_number() -> None:
    r = to_jira(mapping(one("integer")), sf_frame(F__c=[42.0, "7", 2.5, "3.000"]))
    assert values(r.frame["F__c"]) == ["42", "7", "3"]
    reject = r.rejects.iloc[0]
    assert (reject.code, reject.value) == ("INVALID_NUMBER", "2.5")
    assert "is not a whole number" in reject.message


@pytest.mark.parametrize(("raw", "expected"), [
    ([True, False, None], [True, False, None]),
    (["true", "FALSE", "1", "0", "yes", "no", ""], [True, False, True, False, True, False, None]),
    ([1, 0], [True, False]),
])
def test_booleans(raw, expected) -> None:
    r = to_jira(mapping(one("boolean")), sf_frame(F__c=raw))
    assert values(r.frame["F__c"]) == expected
    assert str(r.frame["F__c"].dtype) == "boolean"


def test_not_a_boolean_is_rejected() -> None:
    r = to_jira(mapping(one("boolean")), sf_frame(F__c=["maybe", "true"]))
    assert list(codes(r).values()) == ["INVALID_BOOLEAN"]


def test_dates() -> None:
    r = to_jira(mapping(one("date")), sf_frame(F__c=["2026-11-28", "2024-02-29", None, "2026-02-30", "28/11/2026",
                                                     "2026-11-28T10:00:00Z"]))
    assert values(r.frame["F__c"]) == ["2026-11-28", "2024-02-29", None]
    assert list(codes(r).values()) == ["INVALID_DATE"] * 3


def test_datetimes_from_both_apis_become_utc_with_ms() -> None:
    raw = ["2026-11-28T15:04:05.000+0000",  # Salesforce
           "2026-11-28T16:04:05.123+0100",  # Jira, user in Europe/Berlin (winter)
           "2026-07-01T12:00:00.000+0200",  # Jira, summer time
           "2026-11-28T15:04:05Z", "2026-11-28T10:04:05.5-05:00", "2026-11-28T15:04:05.123456+0000"]
    r = to_jira(mapping(one("datetime")), sf_frame(F__c=raw))
    assert values(r.frame["F__c"]) == ["2026-11-28T15:04:05.000Z", "2026-11-28T15:04:05.123Z",
                                       "2026-07-01T10:00:00.000Z", "2026-11-28T15:04:05.000Z",
                                       "2026-11-28T15:04:05.500Z", "2026-11-28T15:04:05.123Z"]
    assert values(r.target["customfield_1"])[0] == "2026-11-28T15:04:05.000+0000"


def test_datetimes_across_dst_changes() -> None:
    # Berlin: 2026-03-29 02:00 -> 03:00 (spring), 2026-10-25 03:00 -> 02:00 (autumn, 02:30 happens twice)
    raw = ["2026-03-29T01:59:59.999+0100", "2026-03-29T03:00:00.000+0200",
           "2026-10-25T02:30:00.000+0200", "2026-10-25T02:30:00.000+0100"]
    r = to_salesforce(mapping(one("datetime", direction="jira_to_sf")), jira_frame(customfield_1=raw))
    assert values(r.frame["F__c"]) == ["2026-03-29T00:59:59.999Z", "2026-03-29T01:00:00.000Z",
                                       "2026-10-25T00:30:00.000Z", "2026-10-25T01:30:00.000Z"]


def test_naive_and_unparseable_datetimes_are_rejected_not_guessed() -> None:
    r = to_jira(mapping(one("datetime")), sf_frame(F__c=["2026-11-28T15:04:05.000", "2026-11-28 15:04",
                                                         "2026-13-01T00:00:00Z", "soon", "2026-01-01T00:00:00Z"]))
    assert [codes(r)[f"500{i:015d}"] for i in range(4)] == ["NAIVE_DATETIME", "NAIVE_DATETIME", "INVALID_DATETIME",
                                                             "INVALID_DATETIME"]
    assert values(r.frame["F__c"]) == ["2026-01-01T00:00:00.000Z"]


def test_tz_aware_timestamp_columns_are_accepted_and_naive_ones_rejected() -> None:
    aware = pd.Series(pd.to_datetime(["2026-01-01T01:00:00+01:00", None], utc=True))
    r = to_jira(mapping(one("datetime")), sf_frame(F__c=aware))
    assert values(r.frame["F__c"]) == ["2026-01-01T00:00:00.000Z", None]
    naive = pd.Series(pd.to_datetime(["2026-01-01T01:00:00"]))
    assert list(codes(to_jira(mapping(one("datetime")), sf_frame(F__c=naive))).values()) == ["NAIVE_DATETIME"]


def test_picklist_and_user_pass_text_through() -> None:
    r = to_jira(mapping(one("picklist"), {"salesforce": "Owner.Email", "jira": "assignee", "type": "user"}),
                sf_frame(F__c=["A", None], **{"Owner.Email": ["ada@example.com", "bob@example.com"]}))
    assert values(r.frame["F__c"]) == ["A", None]
    assert values(r.target["assignee"]) == ["ada@example.com", "bob@example.com"]


def test_user_map_translates_both_ways() -> None:
    m = mapping({"salesforce": "OwnerId", "jira": "assignee", "type": "user", "direction": "both", "owner": "jira"})
    users = {"005A": "acc-1", "005B": "acc-2"}
    r = to_jira(m, sf_frame(OwnerId=["005A", "005B"]), user_map=users)
    assert values(r.target["assignee"]) == ["acc-1", "acc-2"]
    back = to_salesforce(m, jira_frame(assignee=["acc-2", "acc-9"]), user_map=users)
    assert values(back.target["OwnerId"]) == ["005B"]
    assert back.rejects["code"].tolist() == ["VALUE_UNMAPPED"]


def test_multi_picklist_canonical_is_a_sorted_set() -> None:
    m = mapping(one("multi-picklist", jira="labels"))
    r = to_jira(m, sf_frame(F__c=["b;a;b", "solo", "", None, " x ; y "]))
    assert values(r.frame["F__c"]) == ["a;b", "solo", None, None, "x;y"]
    assert values(r.target["labels"]) == [["a", "b"], ["solo"], None, None, ["x", "y"]]


def test_multi_picklist_from_jira_lists_with_a_declared_separator() -> None:
    m = mapping(one("multi-picklist", jira="fixVersions", direction="jira_to_sf", separator="; ", max_length=255,
                    on_overflow="reject"))
    r = to_salesforce(m, jira_frame(fixVersions=[["2.0", "1.0"], [], None, ["1.1", "1.1"]]))
    assert values(r.frame["F__c"]) == ["1.0;2.0", None, None, "1.1"]
    assert values(r.target["F__c"]) == ["1.0; 2.0", None, None, "1.1"]


def test_multi_value_with_the_separator_inside_is_rejected() -> None:
    m = mapping(one("multi-picklist", jira="fixVersions", direction="jira_to_sf"))
    r = to_salesforce(m, jira_frame(fixVersions=[["a;b"], ["c"]]))
    assert r.rejects["code"].tolist() == ["INVALID_VALUE"]
    assert "would read back as two values" in r.rejects["message"][0]


def test_labels_cannot_hold_spaces() -> None:
    r = to_jira(mapping(one("multi-picklist", jira="labels")), sf_frame(F__c=["two words;ok", "ok"]))
    assert r.rejects["code"].tolist() == ["INVALID_VALUE"]
    assert "Jira labels cannot contain" in r.rejects["message"][0]


def test_non_text_in_a_text_field_is_rejected() -> None:
    r = to_jira(mapping(one("string")), sf_frame(F__c=pd.Series([{"name": "x"}, "ok"], dtype=object)))
    assert r.rejects["code"].tolist() == ["INVALID_VALUE"]
    assert values(r.frame["F__c"]) == ["ok"]


def test_numbers_in_a_string_field_become_exact_text() -> None:
    r = to_jira(mapping(one("string")), sf_frame(F__c=[1234567.89, 2.0]))
    assert values(r.frame["F__c"]) == ["1234567.89", "2"]
