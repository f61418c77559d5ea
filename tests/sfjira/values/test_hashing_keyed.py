"""PII field hashes are keyed: HMAC-SHA256 over the same documented serialisation, so a list of
candidate values hashed with plain SHA-256 finds nothing; other fields keep the plain hash."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest
from hypothesis import given, settings

from sfjira.values.hashing import field_hashes
from tests.sfjira.values.test_hashing import ROWS, _length, _text, frame_of, reference_field_hash

KEY = b"k" * 32


def reference_keyed_hash(key: str, value: object, secret: bytes) -> str:
    text = _text(value)
    serial = f"sfjira-field-v1\n{key}\n".encode() + _length(text) + (text or "").encode()
    return hmac.new(secret, serial, hashlib.sha256).hexdigest()[:32]


@given(ROWS)
@settings(max_examples=40, deadline=None)
def test_keyed_columns_are_hmacs_of_the_documented_serialisation(rows: list[tuple]) -> None:
    frame = frame_of(rows)
    out = field_hashes(frame, keyed=["a_text"], hmac_key=KEY)
    plain = frame.astype(object).to_dict("records")
    assert out["a_text"].tolist() == [reference_keyed_hash("a_text", r["a_text"], KEY) for r in plain]
    assert out["b_text"].tolist() == [reference_field_hash("b_text", r["b_text"]) for r in plain]
    assert out["b_text"].tolist() == field_hashes(frame)["b_text"].tolist()  # unkeyed path unchanged


def test_candidate_values_do_not_reveal_a_keyed_hash() -> None:
    emails = ["ada@example.com", "alan@example.com", "grace@example.com"]
    frame = pd.DataFrame({"Contact.Email": pd.array(["alan@example.com"], dtype="str")})
    stored = field_hashes(frame, keyed=["Contact.Email"], hmac_key=KEY)["Contact.Email"].iloc[0]
    assert stored not in {reference_field_hash("Contact.Email", e) for e in emails}
    other = field_hashes(frame, keyed=["Contact.Email"], hmac_key=b"x" * 32)["Contact.Email"].iloc[0]
    assert other != stored  # the key matters


def test_a_keyed_column_without_a_key_is_refused() -> None:
    frame = pd.DataFrame({"Contact.Email": pd.array(["a@b"], dtype="str"), "Subject": pd.array(["s"], dtype="str")})
    with pytest.raises(ValueError, match="Contact.Email"):
        field_hashes(frame, keyed=["Contact.Email"])
    assert list(field_hashes(frame, ["Subject"], keyed=["Contact.Email"]).columns) == ["Subject"]
