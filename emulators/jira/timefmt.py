"""Jira's wire formats for instants: `2026-11-28T16:04:05.123+0100`, rendered in the API user's zone."""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_TS = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})$"
)


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def zone(name: str) -> ZoneInfo:
    """The IANA zone, or ValueError naming what is accepted."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'") from exc


def format_ms(ms: int, tz: ZoneInfo) -> str:
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=tz)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}" + moment.strftime("%z")


def parse_ms(text: str) -> int:
    """Parse Jira's timestamp format (also accepts `Z` and `+01:00`); ValueError when malformed."""
    match = _TS.match(text.strip())
    if not match:
        raise ValueError(f"invalid timestamp {text!r}; expected yyyy-MM-ddTHH:mm:ss.SSS+hhmm")
    year, month, day, hour, minute, second, frac, offset = match.groups()
    if offset == "Z":
        tzinfo = dt.UTC
    else:
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        tzinfo = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    moment = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                         tzinfo=tzinfo)
    millis = int((frac or "0").ljust(3, "0")[:3])
    return int(moment.timestamp()) * 1000 + millis


def local_minute_ms(year: int, month: int, day: int, hour: int, minute: int, tz: ZoneInfo) -> int:
    """Epoch ms of a wall-clock minute in `tz` (what a JQL date literal means for that user)."""
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=tz).timestamp()) * 1000
