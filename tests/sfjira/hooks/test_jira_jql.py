"""JQL window bounds in the user's zone (minute precision, DST-safe) and sfid lookups: no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfjira.hooks.jql import JQL_MINUTE_FORMAT, SfidLocation, changed_issues_jql, jql_string, minute_bounds

BERLIN = ZoneInfo("Europe/Berlin")


def test_bounds_widen_to_whole_minutes_in_the_users_zone() -> None:
    since = datetime(2026, 3, 1, 12, 15, 30, tzinfo=UTC)
    until = datetime(2026, 3, 1, 12, 20, 30, tzinfo=UTC)
    assert minute_bounds(since, until, BERLIN) == ("2026/03/01 13:15", "2026/03/01 13:21")


def test_whole_minute_bounds_stay() -> None:
    since = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
    assert minute_bounds(since, since + timedelta(hours=1), BERLIN) == ("2026/07/01 02:00", "2026/07/01 03:00")
    assert minute_bounds(since, since + timedelta(hours=1), ZoneInfo("UTC")) == ("2026/07/01 00:00",
                                                                                 "2026/07/01 01:00")


def test_repeated_hour_in_autumn_moves_lower_bound_before_it() -> None:
    # 2026-10-25 02:30 happens twice in Berlin (00:30Z and 01:30Z). If since is the first one,
    # Jira may read "02:30" as the second: the bound must step back out of the repeated hour.
    since = datetime(2026, 10, 25, 0, 30, 20, tzinfo=UTC)
    lower, _ = minute_bounds(since, since + timedelta(minutes=5), BERLIN)
    assert lower == "2026/10/25 01:59"


def test_skipped_hour_in_spring() -> None:
    since = datetime(2026, 3, 29, 0, 59, 30, tzinfo=UTC)  # 01:59:30 CET, 02:00-03:00 never happens
    lower, upper = minute_bounds(since, since + timedelta(minutes=1), BERLIN)
    assert lower == "2026/03/29 01:59" and upper == "2026/03/29 03:01"


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31)),
       st.integers(min_value=1, max_value=86_400 * 3),
       st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]))
def test_every_reading_of_the_bounds_contains_the_window(start: datetime, seconds: int, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    since = start.replace(tzinfo=UTC)
    until = since + timedelta(seconds=seconds, microseconds=start.microsecond)
    lower, upper = minute_bounds(since, until, zone)
    for fold in (0, 1):
        assert datetime.strptime(lower, JQL_MINUTE_FORMAT).replace(tzinfo=zone, fold=fold) <= since
        assert datetime.strptime(upper, JQL_MINUTE_FORMAT).replace(tzinfo=zone, fold=fold) >= until
    # and the widening stays small (no runaway loop)
    assert datetime.strptime(upper, JQL_MINUTE_FORMAT) - datetime.strptime(lower, JQL_MINUTE_FORMAT) <= (
        until - since) + timedelta(hours=2, minutes=2)


def test_bad_windows() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="empty window"):
        minute_bounds(now, now, BERLIN)
    with pytest.raises(ValueError, match="timezone-aware"):
        minute_bounds(datetime(2026, 3, 1), now, BERLIN)


def test_changed_issues_jql() -> None:
    assert changed_issues_jql("SUP", "Bug", "2026/03/01 13:15", "2026/03/01 13:21") == (
        'project = "SUP" AND issuetype = "Bug" AND updated >= "2026/03/01 13:15" AND '
        'updated < "2026/03/01 13:21" ORDER BY updated ASC, key ASC')
    assert 'issuetype' not in changed_issues_jql("DEL", None, "a", "b")


def test_jql_string_escapes() -> None:
    assert jql_string('say "hi" \\o/') == '"say \\"hi\\" \\\\o/"'


@pytest.mark.parametrize(("spec", "term"), [
    ("customfield_10050", "cf[10050]"), ("cf[10050]", "cf[10050]"),
    ("sfjira.sfid", "issue.property[sfjira].sfid"), ("issue.property[sfjira].sfid", "issue.property[sfjira].sfid"),
])
def test_sfid_locations(spec: str, term: str) -> None:
    where = SfidLocation.parse(spec)
    assert where.jql_term == term
    assert where.in_clause(["006A", "006B"]) == f'{term} in ("006A", "006B")'


def test_sfid_read_from_field_and_property() -> None:
    issue = {"fields": {"customfield_10050": "006A"}, "properties": {"sfjira": {"sfid": "006B", "mapping": "m"}}}
    assert SfidLocation.parse("customfield_10050").read(issue) == "006A"
    assert SfidLocation.parse("sfjira.sfid").read(issue) == "006B"
    assert SfidLocation.parse("sfjira.sfid").read({"properties": {}}) is None


def test_sfid_location_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="customfield_10050"):
        SfidLocation.parse("Salesforce ID")
