"""Salesforce date and time values, and the emulator's clock.

Datetimes are kept as strings in Salesforce's API format `2026-11-28T15:04:05.000+0000` (always UTC),
which sort like the instants they stand for, so SOQL compares and orders them as plain strings.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass

_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DAY_MS = 86_400_000


def format_datetime(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}+0000"


def format_date(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ms // 1000))


def parse_datetime(text: str) -> int:
    """Milliseconds since the epoch for an ISO 8601 datetime (Z, +0000, +00:00 or no zone = UTC)."""
    match = _DATETIME_RE.match(text.strip())
    if not match:
        raise ValueError(f"not a datetime: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    fields = (int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    _check_calendar(*fields[:3])
    if fields[3] > 23 or fields[4] > 59 or fields[5] > 59:
        raise ValueError(f"not a datetime: {text!r}")
    ms = calendar.timegm((*fields, 0, 0, 0)) * 1000 + int((fraction or "0")[:3].ljust(3, "0"))
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "").ljust(4, "0")
        offset = (int(digits[:2]) * 60 + int(digits[2:])) * 60_000
        ms -= offset if zone[0] == "+" else -offset
    return ms


def parse_date(text: str) -> str:
    """`YYYY-MM-DD` for a date, or for a datetime (its UTC date), as Salesforce accepts both."""
    match = _DATE_RE.match(text.strip())
    if match:
        _check_calendar(*(int(g) for g in match.groups()))
        return text.strip()
    return format_date(parse_datetime(text))


def date_to_ms(date: str) -> int:
    year, month, day = (int(part) for part in date.split("-"))
    return calendar.timegm((year, month, day, 0, 0, 0, 0, 0, 0)) * 1000


def normalize_datetime(text: str) -> str:
    return format_datetime(parse_datetime(text))


def _check_calendar(year: int, month: int, day: int) -> None:
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        raise ValueError(f"not a calendar date: {year:04d}-{month:02d}-{day:02d}")


@dataclass
class Clock:
    """The org's clock: wall time plus a test offset (time travel), and write stamps that never repeat.

    `stamp()` gives each write a SystemModstamp strictly greater than every earlier one, even when
    writes come faster than one per millisecond or the offset moves back; `floor_ms` is persisted so
    that also holds across restarts."""

    offset_ms: int = 0
    floor_ms: int = 0

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.offset_ms

    def stamp(self) -> int:
        self.floor_ms = max(self.now_ms(), self.floor_ms + 1)
        return self.floor_ms

    def stamps(self, count: int) -> list[int]:
        """`count` consecutive stamps that end no later than now where possible (bulk loads),
        so seeded data is already in the past for an incremental extract."""
        start = max(self.floor_ms + 1, self.now_ms() - count)
        self.floor_ms = start + count - 1
        return list(range(start, start + count))
