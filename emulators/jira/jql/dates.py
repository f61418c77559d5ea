"""JQL date literals, read in the searching user's time zone, at minute precision.

Accepted: "yyyy-MM-dd HH:mm", "yyyy/MM/dd HH:mm", "yyyy-MM-dd", "yyyy/MM/dd", and periods relative to
now such as "-5m", "-2h", "-1d", "-1w", "4w 2d". Date-only values mean 00:00 of that day.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from emulators.jira.jql.lexer import JqlError
from emulators.jira.timefmt import local_minute_ms

_ABSOLUTE = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_PERIOD = re.compile(r"^([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$", re.IGNORECASE)
_PART = re.compile(r"(\d+)\s*([wdhm])", re.IGNORECASE)
_UNIT_MS = {"w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}


def invalid(value: str, field: str) -> JqlError:
    return JqlError(f"Date value '{value}' for field '{field}' is invalid. Valid formats include: "
                    "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
                    "e.g. '-5d', '4w 2d'.")


def minute_of(value: str, field: str, tz: ZoneInfo, now_ms: int) -> int:
    """The epoch minute (ms // 60000) a JQL date literal denotes."""
    text = value.strip()
    match = _ABSOLUTE.match(text)
    if match:
        year, _, month, day, hour, minute = match.groups()
        try:
            ms = local_minute_ms(int(year), int(month), int(day), int(hour or 0), int(minute or 0), tz)
        except ValueError:
            raise invalid(value, field) from None
        return ms // 60_000
    match = _PERIOD.match(text)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = sum(int(n) * _UNIT_MS[u.lower()] for n, u in _PART.findall(match.group(2)))
        return (now_ms + sign * delta) // 60_000
    raise invalid(value, field)


def calendar_date(value: str, field: str) -> str:
    """A date-picker value (`yyyy-MM-dd`) for comparisons with date custom fields."""
    match = _ABSOLUTE.match(value.strip())
    if not match or match.group(5):
        raise invalid(value, field)
    year, _, month, day, *_ = match.groups()
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
