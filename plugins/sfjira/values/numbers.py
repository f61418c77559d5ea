"""Exact decimals: numbers travel as canonical decimal strings, never through float arithmetic.

Both APIs send JSON numbers, which json.loads turns into Python floats. A float that came from
JSON text with at most 15 significant digits prints back (repr, shortest round-trip) to exactly
that text, so `1234567.89` stays "1234567.89". Arrow's float->string cast is the same
shortest-round-trip algorithm, vectorized. Hooks that parse JSON with `parse_float=Decimal` or
keep strings lose nothing either: strings and Decimals are taken digit for digit.

Canonical form: optional "-", no exponent, no leading zeros, no trailing fractional zeros,
"0" for zero (so 100.0, "100", "1.0E+2" and "100.00" all compare equal).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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
    put,
    subset,
    to_arrow,
)

_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_CANONICAL = r"^(0|-?[1-9][0-9]*(\.[0-9]*[1-9])?|-?0\.[0-9]*[1-9])$"


def decimal_text(series: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """Canonical decimal strings for a raw column, and the mask of values that are not numbers."""
    try:
        array = to_arrow(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Strings, Decimals, ints and floats mixed: str() is exact for each (a float's str is its repr).
        text = pa.array(series.where(series.notna(), None).astype("str"), type=STRING)
        return canonical_decimal(empty_to_null(pc.utf8_trim_whitespace(text)))
    if pa.types.is_floating(array.type):
        return _from_floats(array)
    if pa.types.is_integer(array.type) or pa.types.is_decimal(array.type):
        return canonical_decimal(array.cast(STRING))
    if is_text_array(array):
        return canonical_decimal(empty_to_null(pc.utf8_trim_whitespace(as_text(array))))
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), STRING), np.zeros(len(array), bool)
    # booleans, timestamps, lists: not numbers
    return pa.nulls(len(array), STRING), ~null_mask(array)


def _from_floats(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Arrow prints a double as its shortest round-trip text, like repr(): canonical already,
    except for exponents (1e+16) and "-0", which the few rows that have them get fixed."""
    finite = pc.is_finite(array)
    infinite = bool_mask(pc.invert(finite)) & ~null_mask(array)
    text = array.cast(STRING)
    if infinite.any():
        text = pc.if_else(finite, text, pa.scalar(None, STRING))
    fix = bool_mask(pc.or_(pc.match_substring(text, "e"), pc.equal(text, "-0")))
    if fix.any():
        text = put(text, fix, _normalise(subset(text, fix)))
    return text, infinite


def canonical_decimal(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    valid = pc.match_substring_regex(text, _NUMBER)
    bad = ~bool_mask(valid) & ~null_mask(text)
    if bad.any():
        text = pc.if_else(valid, text, pa.scalar(None, STRING))
    fix = ~bool_mask(pc.match_substring_regex(text, _CANONICAL)) & ~null_mask(text)
    if fix.any():
        text = put(text, fix, _normalise(subset(text, fix)))
    return text, bad


def _normalise(text: pa.Array) -> pa.Array:
    """Rewrite the (few) non-canonical numbers; exponents go through Decimal, rows with them are rare."""
    exp = bool_mask(pc.match_substring(text, "e", ignore_case=True))
    if exp.any():
        plain = [format(Decimal(v), "f") for v in subset(text, exp).to_pylist()]
        text = put(text, exp, pa.array(plain, STRING))
    text = pc.replace_substring_regex(text, r"^\+", "")
    text = pc.replace_substring_regex(text, r"^(-?)\.", r"\10.")  # RE2 group refs are one digit: \1 then "0."
    text = pc.replace_substring_regex(text, r"^(-?)0+([0-9])", r"\1\2")
    text = pc.replace_substring_regex(text, r"(\.[0-9]*?)0+$", r"\1")
    text = pc.replace_substring_regex(text, r"\.$", "")
    return pc.replace_substring_regex(text, r"^-0$", "0")


def integral(text: pa.Array) -> np.ndarray:
    """Mask of canonical decimals that carry a fractional part."""
    return bool_mask(pc.match_substring(text, "."))


def round_decimal(text: pa.Array, places: int) -> pa.Array:
    """Round half up (as Salesforce does) to `places`; only rows with more decimals are touched."""
    frac = pc.utf8_length(pc.fill_null(pc.extract_regex(text, r"\.(?P<f>[0-9]+)$").field("f"), ""))
    long = bool_mask(pc.greater(frac, places))
    if not long.any():
        return text
    quantum = Decimal(1).scaleb(-places)
    rounded = []
    for value in subset(text, long).to_pylist():
        try:
            rounded.append(format(Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP), "f"))
        except InvalidOperation:  # more digits than Decimal's context: keep rather than invent
            rounded.append(value)
    text = put(text, long, pa.array(rounded, STRING))
    return canonical_decimal(text)[0]
