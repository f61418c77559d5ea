"""Sealing PII values: authenticated, recognisable, type-preserving, and rotatable without losing old rows."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet

from sfjira.pii import PREFIX, PiiCipher, PiiKeyError, is_sealed

EMAIL = "ada.lovelace@example.com"


def test_sealed_values_open_to_the_same_value_and_type() -> None:
    cipher = PiiCipher([Fernet.generate_key()])
    for value in (EMAIL, 42, 1.5, True, {"customfield_10054": EMAIL}, ["a", "b"]):
        sealed = cipher.seal(value)
        assert is_sealed(sealed) and sealed.startswith(PREFIX)
        assert "lovelace" not in sealed
        assert cipher.open(sealed) == value


def test_sealing_is_randomised_idempotent_and_leaves_missing_values() -> None:
    cipher = PiiCipher([Fernet.generate_key()])
    first, second = cipher.seal(EMAIL), cipher.seal(EMAIL)
    assert first != second  # equal values do not give equal tokens
    assert cipher.seal(first) == first  # a sealed value is never sealed twice
    assert cipher.seal(None) is None and cipher.seal(float("nan")) is None
    assert cipher.open("plain") == "plain"


def test_a_tampered_or_foreign_token_is_refused() -> None:
    mine, theirs = PiiCipher([Fernet.generate_key()]), PiiCipher([Fernet.generate_key()])
    sealed = theirs.seal(EMAIL)
    with pytest.raises(PiiKeyError) as err:
        mine.open(sealed)
    assert err.value.code == "PII_KEY_UNKNOWN" and "put the key" in err.value.fix
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(PiiKeyError):
        theirs.open(tampered)


def test_rotation_keeps_old_values_readable_and_reseals_them_under_the_new_key() -> None:
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    old = PiiCipher([old_key])
    stored = old.seal(EMAIL)
    rotated_cipher = PiiCipher([new_key, old_key])  # the new key put first
    assert rotated_cipher.open(stored) == EMAIL
    assert Fernet(new_key).decrypt(rotated_cipher.seal(EMAIL)[len(PREFIX):].encode())  # new values: new key
    resealed = rotated_cipher.rotate(stored)
    assert PiiCipher([new_key]).open(resealed) == EMAIL  # readable without the old key
    with pytest.raises(PiiKeyError):
        old.open(resealed)


def test_the_hash_key_comes_from_the_oldest_key_so_a_new_first_key_changes_no_hash() -> None:
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    assert PiiCipher([old_key]).hash_key == PiiCipher([new_key, old_key]).hash_key
    assert PiiCipher([old_key]).hash_key != PiiCipher([new_key]).hash_key
    assert PiiCipher.parse(old_key.decode(), "a-separate-hash-key").hash_key == b"a-separate-hash-key"
    assert len(PiiCipher([old_key]).hash_key) == 32 and old_key not in PiiCipher([old_key]).hash_key


def test_keys_parse_from_a_password_with_spaces_or_commas() -> None:
    one, two = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    cipher = PiiCipher.parse(f" {one}, {two}\n")
    assert cipher.key_count == 2
    assert Fernet(one.encode()).decrypt(cipher.seal("x")[len(PREFIX):].encode()) == b'"x"'


@pytest.mark.parametrize("text", ["", "not-a-key", "{good} short"])
def test_bad_keys_are_refused_with_how_to_make_one(text: str) -> None:
    with pytest.raises(PiiKeyError) as err:
        PiiCipher.parse(text.format(good=Fernet.generate_key().decode()))
    assert "Fernet.generate_key()" in err.value.fix


def test_a_short_hash_key_is_refused() -> None:
    with pytest.raises(PiiKeyError) as err:
        PiiCipher.parse(Fernet.generate_key().decode(), "short")
    assert err.value.code == "PII_KEY_INVALID"


def test_hmac_is_not_the_plain_sha256() -> None:
    cipher = PiiCipher([Fernet.generate_key()])
    data = EMAIL.encode()
    assert hmac.digest(cipher.hash_key, data, "sha256") != hashlib.sha256(data).digest()
