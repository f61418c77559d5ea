"""Building SOQL for incremental extraction. Pure functions: no connection needed.

Names come from mapping files, so they are checked against the SOQL identifier grammar before they
are put into a query (no injection through a field name); values go through `soql_literal`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sfjira.hooks.errors import QueryError, empty_window
from sfjira.hooks.soql_condition import where_clause

# Field paths: Name, Account.Name, Owner.Manager.Email, Jira_Key__c, ns__Field__c.
_FIELD_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
_SOBJECT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
WATERMARK_FIELD = "SystemModstamp"


def check_sobject(name: str) -> str:
    if not isinstance(name, str) or not _SOBJECT.match(name):
        raise QueryError(f"invalid sObject name {name!r}", fix="use the API name, e.g. Opportunity or Invoice__c")
    return name


def check_fields(fields: Iterable[str]) -> list[str]:
    checked = list(fields)
    if not checked:
        raise QueryError("no fields given", fix="list the API names to select, e.g. ['Name', 'Account.Name']")
    bad = [f for f in checked if not isinstance(f, str) or not _FIELD_PATH.match(f)]
    if bad:
        raise QueryError(f"invalid field name(s) {bad}", fix="use API names or relationship paths like Account.Name")
    return checked


def require_aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise QueryError(f"{name} must be a timezone-aware datetime, got {value!r}",
                         fix="pass an aware datetime, e.g. the DAG run's data_interval_start")
    return value


def ceil_second(value: datetime) -> datetime:
    whole = value.replace(microsecond=0)
    return whole if whole == value else whole + timedelta(seconds=1)


def floor_second(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def window_bounds(since: datetime, until: datetime) -> str:
    """SOQL literals have whole seconds. The window is widened outwards (floor the start, ceil the
    end): a change stamped inside the start's second -- on an org or emulator keeping fractions, or
    made after an earlier run read that second -- is read again rather than lost; re-reading is
    harmless because the plan skips what it already agreed on."""
    return (f"{WATERMARK_FIELD} >= {soql_datetime(floor_second(since))} AND "
            f"{WATERMARK_FIELD} < {soql_datetime(ceil_second(until))}")


def soql_datetime(value: datetime) -> str:
    """A SOQL dateTime literal in UTC: 2026-03-01T12:00:00Z (no quotes in SOQL)."""
    return require_aware(value, "datetime").astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def soql_literal(value: Any) -> str:
    """Quote a Python value for a SOQL WHERE clause."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise QueryError(f"cannot use {value!r} in SOQL", fix="compare with a finite number")
        return repr(value)
    if isinstance(value, datetime):
        return soql_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def incremental_soql(sobject: str, fields: Sequence[str], since: datetime, until: datetime,
                     where: str | None = None) -> str:
    """`SELECT ... WHERE SystemModstamp >= since AND SystemModstamp < until ORDER BY SystemModstamp, Id`.

    Id and SystemModstamp are always selected (keys and watermark). `where` is the mapping's SOQL
    condition, checked to be exactly one condition and ANDed in parentheses, so it cannot widen the window.
    """
    condition = _window_condition(sobject, since, until, where)
    columns = ["Id", WATERMARK_FIELD, *[f for f in check_fields(fields) if f not in ("Id", WATERMARK_FIELD)]]
    return (f"SELECT {', '.join(columns)} FROM {sobject} WHERE {condition} "
            f"ORDER BY {WATERMARK_FIELD}, Id")


def count_soql(sobject: str, since: datetime, until: datetime, where: str | None = None) -> str:
    """`SELECT COUNT() FROM ... WHERE <the same window condition as incremental_soql>`: how many records
    the extract of that window reads (run with queryAll, deleted ones count too)."""
    return f"SELECT COUNT() FROM {sobject} WHERE {_window_condition(sobject, since, until, where)}"


def _window_condition(sobject: str, since: datetime, until: datetime, where: str | None) -> str:
    check_sobject(sobject)
    require_aware(since, "since")
    require_aware(until, "until")
    if until <= since:
        raise empty_window(since, until)
    conditions = [window_bounds(since, until)]
    if (clause := where_clause(where)) is not None:
        conditions.append(clause)
    return " AND ".join(conditions)


def deleted_soql(sobject: str, since: datetime, until: datetime) -> str:
    """queryAll form of the deleted feed, for windows older than the feed keeps."""
    check_sobject(sobject)
    return (f"SELECT Id, {WATERMARK_FIELD} FROM {sobject} WHERE IsDeleted = true AND "
            f"{window_bounds(since, until)} ORDER BY {WATERMARK_FIELD}, Id")
