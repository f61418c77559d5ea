"""SOQL building for incremental extraction: pure, no server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from sfjira.hooks.soql import ceil_second, deleted_soql, incremental_soql, soql_datetime, soql_literal
from sfjira.hooks.soql_condition import ConditionError

SINCE = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
UNTIL = datetime(2026, 3, 1, 13, 0, 0, tzinfo=UTC)


def test_incremental_query_shape() -> None:
    soql = incremental_soql("Opportunity", ["Name", "Account.Name", "Id"], SINCE, UNTIL)
    assert soql == ("SELECT Id, SystemModstamp, Name, Account.Name FROM Opportunity WHERE "
                    "SystemModstamp >= 2026-03-01T12:00:00Z AND SystemModstamp < 2026-03-01T13:00:00Z "
                    "ORDER BY SystemModstamp, Id")


def test_where_is_anded_in_parentheses() -> None:
    soql = incremental_soql("Case", ["Subject"], SINCE, UNTIL, where="Origin = 'Web' OR Origin = 'Email'")
    assert "AND (Origin = 'Web' OR Origin = 'Email') ORDER BY" in soql


def test_a_where_that_widens_past_the_window_is_wrapped_so_it_cannot() -> None:
    soql = incremental_soql("Case", ["Subject"], SINCE, UNTIL, where=" Origin = 'Web' OR Id != null ")
    assert soql == ("SELECT Id, SystemModstamp, Subject FROM Case WHERE SystemModstamp >= 2026-03-01T12:00:00Z "
                    "AND SystemModstamp < 2026-03-01T13:00:00Z AND (Origin = 'Web' OR Id != null) "
                    "ORDER BY SystemModstamp, Id")


@pytest.mark.parametrize("where", ["Origin = 'Web') OR (Id != null", "Origin = 'Web' LIMIT 1",
                                   "Id IN (SELECT ParentId FROM CaseComment)"])
def test_a_where_that_is_not_one_condition_never_becomes_soql(where: str) -> None:
    with pytest.raises(ConditionError, match="WHERE_INVALID"):
        incremental_soql("Case", ["Subject"], SINCE, UNTIL, where=where)


def test_bounds_in_other_zones_are_converted_to_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    soql = incremental_soql("Case", ["Subject"], SINCE.astimezone(berlin), UNTIL.astimezone(berlin))
    assert "SystemModstamp >= 2026-03-01T12:00:00Z" in soql


def test_fractional_bounds_widen_outwards_to_whole_seconds() -> None:
    # SOQL literals have whole seconds: the start is floored and the end ceiled, so a change stamped
    # inside either boundary second is read (again) rather than lost.
    assert ceil_second(SINCE + timedelta(microseconds=500_000)) == SINCE + timedelta(seconds=1)
    assert ceil_second(SINCE) == SINCE
    soql = incremental_soql("Case", ["Subject"], SINCE + timedelta(milliseconds=1),
                            UNTIL + timedelta(milliseconds=1))
    assert "SystemModstamp >= 2026-03-01T12:00:00Z" in soql
    assert f"SystemModstamp < {(UNTIL + timedelta(seconds=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}" in soql


@pytest.mark.parametrize("field", ["Name; DELETE", "Account..Name", "1Name", "Name FROM User", ""])
def test_rejects_field_names_that_are_not_identifiers(field: str) -> None:
    with pytest.raises(ValueError, match="invalid field"):
        incremental_soql("Case", [field], SINCE, UNTIL)


def test_rejects_bad_windows_and_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="empty window"):
        incremental_soql("Case", ["Subject"], UNTIL, SINCE)
    with pytest.raises(ValueError, match="timezone-aware"):
        incremental_soql("Case", ["Subject"], datetime(2026, 3, 1), UNTIL)
    with pytest.raises(ValueError, match="sObject"):
        incremental_soql("Case x", ["Subject"], SINCE, UNTIL)


def test_deleted_query_uses_isdeleted() -> None:
    assert deleted_soql("Case", SINCE, UNTIL) == (
        "SELECT Id, SystemModstamp FROM Case WHERE IsDeleted = true AND SystemModstamp >= "
        "2026-03-01T12:00:00Z AND SystemModstamp < 2026-03-01T13:00:00Z ORDER BY SystemModstamp, Id")


def test_literals() -> None:
    assert soql_literal("O'Brien \\ co") == "'O\\'Brien \\\\ co'"
    assert soql_literal(None) == "null"
    assert soql_literal(True) == "true"
    assert soql_literal(12.5) == "12.5"
    assert soql_literal(date(2026, 3, 1)) == "2026-03-01"
    assert soql_literal(SINCE) == soql_datetime(SINCE) == "2026-03-01T12:00:00Z"
    with pytest.raises(ValueError):
        soql_literal(float("nan"))
