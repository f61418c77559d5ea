"""Text length and truncation that never breaks a character.

Salesforce and Jira are Java platforms: their length limits count UTF-16 code units, so an
emoji outside the Basic Multilingual Plane counts 2 (Salesforce documents this for surrogate
pairs). `max_length` therefore counts UTF-16 units too.

Truncation keeps whole grapheme clusters as far as text sync needs: it never splits a code point
(surrogate pair), a base letter from its combining marks, a ZWJ emoji sequence, an emoji from its
skin-tone modifier or variation selector, a flag's pair of regional indicators, or CR LF.
Detection is vectorized; only the rows that overflow are cut, one by one.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sfjira.values.arrowcol import STRING, put, subset

_ASTRAL = r"[\x{10000}-\x{10FFFF}]"
_ZWJ = "\u200d"


def overflow_mask(text: pa.Array, limit: int) -> np.ndarray:
    """Rows longer than `limit` UTF-16 units (nulls never overflow)."""
    points = np.asarray(pc.fill_null(pc.utf8_length(text), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    over = points > limit
    maybe = ~over & (points * 2 > limit)  # only these can cross the limit through surrogate pairs
    if maybe.any():
        astral = np.asarray(pc.count_substring_regex(subset(text, maybe), _ASTRAL).to_numpy(), dtype=np.int64)
        over[np.flatnonzero(maybe)] = points[maybe] + astral > limit
    return over


def truncate(text: pa.Array, mask: np.ndarray, limit: int) -> pa.Array:
    """`text` with the rows in `mask` cut to at most `limit` UTF-16 units at a cluster boundary."""
    if not mask.any():
        return text
    cut = [cut_text(value, limit) for value in subset(text, mask).to_pylist()]
    return put(text, mask, pa.array(cut, STRING))


def cut_text(value: str, limit: int) -> str:
    # Dropping a half surrogate pair at the end is exactly what "ignore" does on decode.
    head = value.encode("utf-16-le", "surrogatepass")[: 2 * limit].decode("utf-16-le", "ignore")
    end = len(head)
    if end == len(value):
        return value
    while end > 0 and not _is_boundary(value, end):
        end -= 1
    return value[:end]


def _extends(ch: str) -> bool:
    """True if `ch` belongs to the cluster before it (Grapheme_Extend, SpacingMark, ZWJ, modifiers)."""
    cp = ord(ch)
    return (unicodedata.category(ch) in ("Mn", "Me", "Mc") or ch == _ZWJ or 0xFE00 <= cp <= 0xFE0F
            or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F or 0xE0100 <= cp <= 0xE01EF)


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _is_boundary(value: str, i: int) -> bool:
    before, after = value[i - 1], value[i]
    if _extends(after) or before == _ZWJ or (before, after) == ("\r", "\n"):
        return False
    if _is_regional(before) and _is_regional(after):
        run = 0
        while i - 1 - run >= 0 and _is_regional(value[i - 1 - run]):
            run += 1
        return run % 2 == 0  # an odd run means `before` opens a flag that `after` closes
    return True
