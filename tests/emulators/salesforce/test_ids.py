"""Record ids: the 15 -> 18 case-safe checksum against ids published with the algorithm."""

from __future__ import annotations

import pytest

from emulators.salesforce.ids import checksum, make_id, normalize, to18

# Pairs published alongside descriptions of Salesforce's CASESAFEID algorithm.
KNOWN = [
    ("a01M00000062mPg", "a01M00000062mPgIAI"),
    ("001M000000qfPyS", "001M000000qfPySIAU"),
    ("a0FE000000D6r3F", "a0FE000000D6r3FMAR"),
    ("0F9E000000092w2", "0F9E000000092w2KAA"),
    ("aaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaAAA"),
    ("a0D30000001n7Pi", "a0D30000001n7PiEAI"),
    ("a0RE000000IJmcN", "a0RE000000IJmcNMAT"),
]


@pytest.mark.parametrize(("id15", "id18"), KNOWN)
def test_to18_matches_published_ids(id15: str, id18: str) -> None:
    assert to18(id15) == id18


def test_all_uppercase_chunks_use_the_digits() -> None:
    assert checksum("AAAAAAAAAAAAAAA") == "555"
    assert checksum("0000000000AAAAA") == "AA5"


@pytest.mark.parametrize(("raw", "expected"), [
    ("001M000000qfPyS", "001M000000qfPySIAU"),       # 15 -> 18
    ("001M000000qfPySIAU", "001M000000qfPySIAU"),    # already canonical
    ("001m000000qfpysiau", "001M000000qfPySIAU"),    # case restored from the suffix
])
def test_normalize_accepts_15_and_case_insensitive_18(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw", ["", "001", "001M000000qfPy!", "001M000000qfPySIA", "001M000000qfPySIA9",
                                 "000000000000000BBB", None, 12345])
def test_normalize_rejects_malformed(raw: object) -> None:
    assert normalize(raw) is None


def test_made_ids_carry_prefix_checksum_and_creation_order() -> None:
    ids = [make_id("006", n) for n in (1, 61, 62, 3843, 3844)]
    assert all(len(i) == 18 and i.startswith("006") and to18(i[:15]) == i for i in ids)
    assert ids == sorted(ids)
