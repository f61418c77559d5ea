"""Authenticated encryption of PII values, and the key of the PII fields' keyed hashes.

Keys are Fernet keys (AES-128-CBC with an HMAC-SHA256 tag, from `cryptography`), newest first: a
value is sealed with the first key and opened with whichever key made it (MultiFernet), so a new
key put in front leaves every stored value readable, and `rotate` re-seals a value under it.

    sealed value   "enc:v1:" + the Fernet token of the value's JSON (types survive the round trip;
                   the prefix makes sealed values recognisable, so nothing is sealed twice)
    hash key       the connection's `hash_key` extra when set, else HKDF-SHA256 of the OLDEST key
                   (info "sfjira-field-hmac-v1"): putting a new key in front changes no hash
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sfjira.exceptions import SfJiraError
from sfjira.values.missing import is_missing

PREFIX = "enc:v1:"
HASH_INFO = b"sfjira-field-hmac-v1"
_SEPARATORS = re.compile(r"[\s,]+")
NEW_KEY = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


class PiiKeyError(SfJiraError):
    """The PII key is missing, malformed, or cannot open a stored value."""

    code = "PII_KEY_MISSING"


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays as Python values; datetimes, decimals and the rest as their text."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class PiiCipher:
    """Seal and open PII values with one or more Fernet keys (newest first).

    :param keys: Fernet keys (url-safe base64 of 32 bytes), the one to seal with first.
    :param hash_key: the HMAC key of PII field hashes; default: derived from the oldest key.
    """

    def __init__(self, keys: Sequence[str | bytes], hash_key: bytes | None = None) -> None:
        if not keys:
            raise PiiKeyError("no PII key given", fix=f"generate one with {NEW_KEY}")
        fernets = []
        for number, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                raise PiiKeyError(f"PII key #{number} is not a Fernet key (url-safe base64 of 32 bytes)",
                                  code="PII_KEY_INVALID", fix=f"generate keys with {NEW_KEY}") from None
        self._fernet = MultiFernet(fernets)
        self.key_count = len(fernets)
        self.hash_key = hash_key or _derive_hash_key(keys[-1])

    @classmethod
    def parse(cls, text: str, hash_key: str | None = None) -> PiiCipher:
        """Keys separated by whitespace or commas, newest first (an Airflow connection's password)."""
        keys = [k for k in _SEPARATORS.split(text or "") if k]
        if hash_key is not None and len(hash_key) < 16:
            raise PiiKeyError("the `hash_key` extra is shorter than 16 characters", code="PII_KEY_INVALID",
                              fix=f"use a random value, e.g. the output of {NEW_KEY}")
        return cls(keys, hash_key.encode() if hash_key else None)

    def seal(self, value: Any) -> Any:
        """The value sealed; None and values sealed already come back as they are."""
        if value is None or is_sealed(value):
            return value
        if is_missing(value):  # NaN, NaT, pd.NA from a frame: kept missing, not sealed
            return None
        text = json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))
        return PREFIX + self._fernet.encrypt(text.encode()).decode("ascii")

    def open(self, value: Any) -> Any:
        """A sealed value opened (with whichever key sealed it); anything else comes back as it is."""
        if not is_sealed(value):
            return value
        try:
            return json.loads(self._fernet.decrypt(value[len(PREFIX):].encode("ascii")))
        except InvalidToken:
            raise PiiKeyError("a stored PII value cannot be opened with any configured key",
                              code="PII_KEY_UNKNOWN",
                              fix="put the key it was sealed with back into the connection's password "
                                  "(after the current one); rotate before removing an old key") from None

    def rotate(self, value: Any) -> Any:
        """A sealed value re-sealed under the first key; anything else comes back as it is."""
        if not is_sealed(value):
            return value
        try:
            return PREFIX + self._fernet.rotate(value[len(PREFIX):].encode("ascii")).decode("ascii")
        except InvalidToken:
            return self.open(value)  # raises the error that says what to do


def _derive_hash_key(oldest: str | bytes) -> bytes:
    raw = base64.urlsafe_b64decode(oldest if isinstance(oldest, bytes) else oldest.encode())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HASH_INFO).derive(raw)
