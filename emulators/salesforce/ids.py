"""Salesforce record ids: 15-character case-sensitive ids and their 18-character case-safe form.

The suffix is the documented checksum: split the 15 characters into three chunks of five; in each
chunk, character i (from the left) sets bit i when it is an uppercase letter; each 5-bit number
picks a character of A-Z0-5. Because the suffix records where the uppercase letters are, an 18-character
id can be matched case-insensitively and its case restored, which is what `normalize` does.
"""

from __future__ import annotations

import re

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# Ordered like ASCII, so ids made from increasing counters also sort in creation order.
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")
# Two "instance" characters, like the pod part of real ids; the rest is a counter.
_INSTANCE = "Kj"
_COUNTER_WIDTH = 10


def checksum(id15: str) -> str:
    suffix = ""
    for start in (0, 5, 10):
        bits = 0
        for i, char in enumerate(id15[start:start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << i
        suffix += _SUFFIX_ALPHABET[bits]
    return suffix


def to18(id15: str) -> str:
    if len(id15) != 15:
        raise ValueError(f"a 15-character id is expected, got {id15!r}")
    return id15 + checksum(id15)


def normalize(raw: object) -> str | None:
    """The canonical 18-character id for a 15- or 18-character id, or None when it is malformed.

    An 18-character id's case is restored from its suffix (ids are case-safe in that form)."""
    if not isinstance(raw, str) or not _ID_RE.match(raw):
        return None
    if len(raw) == 15:
        return to18(raw)
    body, suffix = raw[:15], raw[15:].upper()
    if any(c not in _SUFFIX_ALPHABET for c in suffix):
        return None
    chars = list(body)
    for chunk, code in enumerate(suffix):
        bits = _SUFFIX_ALPHABET.index(code)
        for i in range(5):
            pos = chunk * 5 + i
            if chars[pos].isalpha():
                chars[pos] = chars[pos].upper() if bits & (1 << i) else chars[pos].lower()
    fixed = "".join(chars)
    # A suffix that marks a digit as uppercase belongs to no id.
    return fixed + suffix if checksum(fixed) == suffix else None


def base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _BASE62[rest] + digits
    if len(digits) > width:
        raise ValueError(f"{number} does not fit in {width} base-62 digits")
    return digits.rjust(width, "0")


def make_id(prefix: str, sequence: int) -> str:
    return to18(prefix + _INSTANCE + base62(sequence, _COUNTER_WIDTH))
