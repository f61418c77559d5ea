"""Building JQL for incremental extraction and id lookups. Pure functions: no connection needed.

JQL date literals have minute precision and are read in the searching user's time zone (their
profile's `timeZone`, from /myself). To get every issue with `since <= updated < until`, the window
is widened to whole minutes in that zone (`updated >= floor(since)` and `updated < ceil(until)`), and
the caller filters the results on the full `updated` timestamp. Around daylight-saving changes a
wall-clock minute can mean two instants (or none); the bounds are moved until every reading of them
still contains the window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sfjira.hooks.errors import QueryError, empty_window

JQL_MINUTE_FORMAT = "%Y/%m/%d %H:%M"
_CUSTOM_FIELD = re.compile(r"^(?:customfield_(\d+)|cf\[(\d+)\])$")
_PROPERTY_JQL = re.compile(r"^issue\.property\[([\w.-]+)\]\.([\w.]+)$")  # issue.property[sfjira].sfid
_PROPERTY_SHORT = re.compile(r"^([\w-]+)\.([\w.]+)$")  # sfjira.sfid


def jql_string(value: str) -> str:
    """A JQL string literal."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def user_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryError(f"the Jira user's timeZone {name!r} is not an IANA zone name",
                         fix="set the time zone in the Jira profile of the connection's user to a named zone, "
                             "e.g. Europe/Berlin") from None


def _readings(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """The instants a naive wall-clock time can mean in `zone` (two in a repeated hour)."""
    return [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]


def minute_bounds(since: datetime, until: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """JQL literals (user's zone, minute precision) for a window containing [since, until)."""
    for name, value in (("since", since), ("until", until)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise QueryError(f"{name} must be a timezone-aware datetime, got {value!r}",
                             fix="pass an aware datetime, e.g. the DAG run's data_interval_start")
    if until <= since:
        raise empty_window(since, until)
    minute = timedelta(minutes=1)
    lower = since.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    while max(_readings(lower, zone)) > since:
        lower -= minute
    upper_local = until.astimezone(zone).replace(tzinfo=None)
    upper = upper_local.replace(second=0, microsecond=0)
    if upper != upper_local:
        upper += minute
    while min(_readings(upper, zone)) < until:
        upper += minute
    return lower.strftime(JQL_MINUTE_FORMAT), upper.strftime(JQL_MINUTE_FORMAT)


def changed_issues_jql(project: str, issue_type: str | None, lower: str, upper: str) -> str:
    clauses = [f"project = {jql_string(project)}"]
    if issue_type:
        clauses.append(f"issuetype = {jql_string(issue_type)}")
    clauses += [f'updated >= "{lower}"', f'updated < "{upper}"']
    return " AND ".join(clauses) + " ORDER BY updated ASC, key ASC"


@dataclass(frozen=True)
class SfidLocation:
    """Where the Salesforce id lives on an issue: a custom field or an entity property path."""

    field_id: str | None = None       # customfield_10050
    property_key: str | None = None   # sfjira
    property_path: str | None = None  # sfid

    @classmethod
    def parse(cls, spec: str) -> SfidLocation:
        """`customfield_10050` / `cf[10050]`, or `sfjira.sfid` / `issue.property[sfjira].sfid`."""
        if match := _CUSTOM_FIELD.match(spec.strip()):
            return cls(field_id=f"customfield_{match.group(1) or match.group(2)}")
        if match := _PROPERTY_JQL.match(spec.strip()) or _PROPERTY_SHORT.match(spec.strip()):
            return cls(property_key=match.group(1), property_path=match.group(2))
        raise QueryError(f"cannot tell where the Salesforce id lives from {spec!r}",
                         fix="use a custom field (customfield_10050 or cf[10050]) or an issue property path "
                             "(sfjira.sfid)")

    @property
    def jql_term(self) -> str:
        if self.field_id:
            return f"cf[{self.field_id.removeprefix('customfield_')}]"
        return f"issue.property[{self.property_key}].{self.property_path}"

    def in_clause(self, sfids: Iterable[str]) -> str:
        return f"{self.jql_term} in ({', '.join(jql_string(s) for s in sfids)})"

    def read(self, issue: dict[str, Any]) -> str | None:
        """The Salesforce id on a search result issue (fields or properties), or None."""
        if self.field_id:
            value = (issue.get("fields") or {}).get(self.field_id)
        else:
            value = (issue.get("properties") or {}).get(str(self.property_key))
            for part in str(self.property_path).split("."):
                value = value.get(part) if isinstance(value, dict) else None
        return str(value) if value not in (None, "") else None
