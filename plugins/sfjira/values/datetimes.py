"""Dates and date-times, normalised to ISO-8601 UTC.

Salesforce sends `2026-11-28T15:04:05.000+0000`, Jira `2026-11-28T16:04:05.000+0100` (the offset
of the API user's time zone, which moves with DST). Every value carries its offset, so the UTC
instant is plain arithmetic and DST needs no time-zone database. A value without an offset is
rejected (NAIVE_DATETIME): guessing its zone would silently shift it by hours. Values are taken
exactly as the APIs send them (no surrounding blanks).

Canonical forms: dates `yyyy-mm-dd`; date-times `yyyy-mm-ddTHH:MM:SS.mmmZ` (floored to ms, the
precision of both APIs). Accepted input: the regex `_DATETIME` below, or tz-aware datetime64
columns (what the hooks produce for SystemModstamp / updated).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sfjira.values.arrowcol import (
    STRING,
    as_text,
    bool_mask,
    empty_to_null,
    is_text_array,
    null_mask,
    to_arrow,
)

_DATETIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
             r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$")
_NAIVE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
UTC_MS = pa.timestamp("ms", tz="UTC")
_UNIT_PER_MS = {"us": 1_000, "ns": 1_000_000}  # the units finer than ms (s and ms cast exactly)


def _raw(series: pd.Series) -> pa.Array:
    """Arrow view of a raw column; object columns of mixed things fall back to their text."""
    try:
        return to_arrow(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(series.where(series.notna(), None).astype("str"), type=STRING)


def instants(series: pd.Series) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """UTC instants (timestamp[ms, UTC]), the mask of unparseable values and the mask of naive ones."""
    array = _raw(series)
    n = len(array)
    if pa.types.is_timestamp(array.type):
        if array.type.tz is None:  # a naive datetime64 column: same ambiguity as a naive string
            return pa.nulls(n, UTC_MS), np.zeros(n, bool), ~null_mask(array)
        return to_ms(array), np.zeros(n, bool), np.zeros(n, bool)
    if not is_text_array(array):
        return pa.nulls(n, UTC_MS), ~null_mask(array), np.zeros(n, bool)
    text = empty_to_null(as_text(array))
    shaped = pc.match_substring_regex(text, _DATETIME)
    off = bool_mask(pc.invert(shaped)) & ~null_mask(text)
    naive = np.zeros(n, bool)
    if off.any():  # only the few misfits are looked at again
        naive[off] = bool_mask(pc.match_substring_regex(text.filter(pa.array(off)), _NAIVE))
        text = pc.if_else(shaped, text, pa.scalar(None, STRING))
    parsed = _parse(text)
    invalid = ~null_mask(text) & null_mask(parsed)
    return parsed, invalid | (off & ~naive), naive


def _parse(text: pa.Array) -> pa.Array:
    for unit in ("ms", "us"):  # both APIs send milliseconds; finer input is floored below
        try:
            return to_ms(text.cast(pa.timestamp(unit, tz="UTC")))
        except pa.ArrowInvalid:
            continue
    # Some value has the right shape but is no instant (month 13, hour 24) or has more than 6
    # fractional digits: let pandas sort them out one by one, as NaT.
    parsed = pd.to_datetime(pd.Series(text.to_pandas()), utc=True, format="ISO8601", errors="coerce")
    return to_ms(pa.array(parsed.array))


def to_ms(stamps: pa.Array) -> pa.Array:
    """timestamp[ms, UTC], floored (not truncated towards 1970) when the input is finer."""
    unit = stamps.type.unit
    if unit == "ms":
        return stamps.cast(UTC_MS)
    if unit == "s":
        return stamps.cast(UTC_MS)
    raw = np.frombuffer(stamps.buffers()[1], dtype=np.int64, count=len(stamps), offset=stamps.offset * 8)
    floored = np.floor_divide(raw, _UNIT_PER_MS[unit])
    return pa.array(floored, type=UTC_MS, mask=null_mask(stamps) if stamps.null_count else None)


def format_utc(stamps: pa.Array) -> pa.Array:
    """`yyyy-mm-ddTHH:MM:SS.mmmZ`. Casting the naive UTC wall time is ~20x faster than strftime,
    and every value has the same width, so the T and Z go in by position."""
    wall = stamps.cast(pa.timestamp("ms")).cast(STRING)  # "yyyy-mm-dd HH:MM:SS.mmm"
    wall = pc.binary_replace_slice(wall, start=10, stop=11, replacement="T")
    return pc.binary_replace_slice(wall, start=23, stop=23, replacement="Z")


def datetime_text(series: pd.Series) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Canonical UTC date-time strings, the mask of unparseable values and the mask of naive ones."""
    parsed, invalid, naive = instants(series)
    return format_utc(parsed), invalid, naive


def to_jira_datetime(canonical: pa.Array) -> pa.Array:
    """Jira's own write format: `...000+0000` (canonical values all have the Z at position 23)."""
    return pc.binary_replace_slice(canonical, start=23, stop=24, replacement="+0000")


def date_text(series: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """Canonical `yyyy-mm-dd` dates and the mask of values that are not calendar dates."""
    array = _raw(series)
    if pa.types.is_date(array.type):
        return array.cast(pa.date32()).cast(STRING), np.zeros(len(array), bool)
    if not is_text_array(array):  # a date-time is not a date: which day depends on a time zone
        return pa.nulls(len(array), STRING), ~null_mask(array)
    text = empty_to_null(as_text(array))
    # yyyy-mm-dd is exactly 10 bytes; Arrow's date cast then checks the calendar
    shaped = pc.if_else(pc.equal(pc.binary_length(text), 10), text, pa.scalar(None, STRING))
    try:
        days = shaped.cast(pa.date32())
    except pa.ArrowInvalid:  # e.g. 2026-02-30, or 10 bytes of something else
        shaped = pc.if_else(pc.match_substring_regex(shaped, _DATE), shaped, pa.scalar(None, STRING))
        parsed = pd.to_datetime(pd.Series(shaped.to_pandas()), format="%Y-%m-%d", errors="coerce")
        days = pa.array(parsed.array).cast(pa.date32())
    valid = pc.is_valid(days)
    return pc.if_else(valid, shaped, pa.scalar(None, STRING)), ~null_mask(text) & ~bool_mask(valid)
