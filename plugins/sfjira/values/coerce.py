"""Raw column -> canonical values for one field type, plus the rows that cannot be coerced.

Canonical values per type (the form both sides are compared in):
  string, picklist, user: the text exactly ("" counts as missing)
  text:                    the text with CR LF / CR line ends as LF
  number, currency:        exact decimal string ("1234567.89"), see numbers.py
  integer:                 decimal string without fraction ("42"); a fraction is INVALID_NUMBER
  boolean:                 True / False
  date:                    "yyyy-mm-dd"
  datetime:                "yyyy-mm-ddTHH:MM:SS.mmmZ" (UTC), see datetimes.py
  multi-picklist:          a list of values here; sorted, de-duplicated and ";"-joined after value mapping
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sfjira.values import multivalue
from sfjira.values.arrowcol import (
    STRING,
    any_true,
    as_text,
    bool_mask,
    empty_to_null,
    is_text_array,
    null_mask,
    to_arrow,
)
from sfjira.values.datetimes import date_text, datetime_text
from sfjira.values.numbers import decimal_text, integral

_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


@dataclass
class Bad:
    """Rows of one column that failed, with the reject code and an optional specific reason."""

    mask: np.ndarray
    code: str
    detail: str = ""
    limit: int | None = None


@dataclass
class Coerced:
    values: pa.Array
    bad: list[Bad] = field(default_factory=list)

    def flag(self, mask: np.ndarray, code: str, detail: str = "", limit: int | None = None) -> None:
        if mask.any():
            self.bad.append(Bad(mask, code, detail, limit))


def coerce(series: pd.Series, ftype: str, *, separator: str = ";") -> Coerced:
    if ftype in ("number", "currency", "integer"):
        text, bad = decimal_text(series)
        out = Coerced(text)
        out.flag(bad, "INVALID_NUMBER")
        if ftype == "integer":
            fraction = integral(text)
            out.values = pc.if_else(pa.array(fraction), pa.scalar(None, STRING), text)
            out.flag(fraction, "INVALID_NUMBER", "is not a whole number")
        return out
    if ftype == "date":
        text, bad = date_text(series)
        out = Coerced(text)
        out.flag(bad, "INVALID_DATE")
        return out
    if ftype == "datetime":
        text, invalid, naive = datetime_text(series)
        out = Coerced(text)
        out.flag(invalid, "INVALID_DATETIME")
        out.flag(naive, "NAIVE_DATETIME")
        return out
    if ftype == "boolean":
        return _boolean(series)
    if ftype == "multi-picklist":
        lists, bad = multivalue.to_lists(series, separator)
        out = Coerced(lists)
        out.flag(bad, "INVALID_VALUE", "is not text or a list of text")
        return out
    text, bad = text_of(series)
    if ftype == "text" and any_true(pc.match_substring(text, "\r")):  # a plain search is cheaper than the regex
        text = pc.replace_substring_regex(text, r"\r\n?", "\n")
    out = Coerced(text)
    out.flag(bad, "INVALID_VALUE", "is not text")
    return out


def text_of(series: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """A column as text. Numbers become exact decimals, booleans true/false; anything else is bad."""
    try:
        array = to_arrow(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _mixed_text(series)
    if is_text_array(array):
        return empty_to_null(as_text(array)), np.zeros(len(array), bool)
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_decimal(array.type):
        text, bad = decimal_text(series)
        return text, bad
    if pa.types.is_boolean(array.type):
        return pc.if_else(array, "true", "false").cast(STRING), np.zeros(len(array), bool)
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), STRING), np.zeros(len(array), bool)
    return pa.nulls(len(array), STRING), ~null_mask(array)


def _mixed_text(series: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """Rare fallback (an object column mixing str with dicts etc.): keep the strings, flag the rest."""
    values = series.to_numpy()
    is_str = np.fromiter((isinstance(v, str) for v in values), bool, len(values))
    # numpy's stubs leave None out of ArrayLike; np.where takes it as the object null it is.
    text = pa.array(np.where(is_str, values, None), type=STRING)  # type: ignore[call-overload]
    return empty_to_null(text), ~is_str & series.notna().to_numpy()


def _boolean(series: pd.Series) -> Coerced:
    try:
        array = to_arrow(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = _mixed_text(series)[0]
    if pa.types.is_boolean(array.type):
        return Coerced(array)
    if pa.types.is_integer(array.type):
        text = array.cast(STRING)
    elif is_text_array(array):
        text = empty_to_null(pc.utf8_lower(pc.utf8_trim_whitespace(as_text(array))))
    else:
        out = Coerced(pa.nulls(len(array), pa.bool_()))
        out.flag(~null_mask(array), "INVALID_BOOLEAN")
        return out
    truthy = pc.is_in(text, value_set=pa.array(_TRUE, STRING))
    known = pc.or_(truthy, pc.is_in(text, value_set=pa.array(_FALSE, STRING)))
    out = Coerced(pc.if_else(known, truthy, pa.scalar(None, pa.bool_())))
    out.flag(~bool_mask(known) & ~null_mask(text), "INVALID_BOOLEAN")
    return out


def coerce_scalar(value: Any, ftype: str) -> tuple[Any, str | None]:
    """One value (e.g. a mapping's `default`) in canonical form, or (None, reject code)."""
    if ftype == "multi-picklist":  # a default for a multi-value field is one value
        ftype = "string"
    result = coerce(pd.Series([value], dtype=object), ftype)
    if result.bad:
        return None, result.bad[0].code
    return result.values[0].as_py(), None
