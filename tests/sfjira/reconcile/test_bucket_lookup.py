"""The bucket plan's id structures (reconcile.buckets): the look-up by 64-bit hash, checked by text, and the
ids numbered by first sight across columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sfjira.reconcile import buckets
from sfjira.reconcile.buckets import _IdLookup, _one_dictionary, _Space

IDS = pa.array(["500000000000001AAA", "500000000000002AAA", "SUP-1", "SUP-10", "é"], pa.string())
ASKED = pa.array(["SUP-10", None, "500000000000002AAA", "never seen", "", "é", "SUP-1"], pa.string())


def _as_strings(ids: pa.Array, asked: pa.Array) -> list[int]:
    """What an Index of the strings answers: the look-up this one replaces."""
    return list(pd.Index(ids.to_pandas()).get_indexer(asked.to_pandas()))


def test_positions_agree_with_an_index_of_the_strings() -> None:
    lookup = _IdLookup(IDS)
    assert lookup.by_hash
    assert list(lookup.positions(ASKED)) == _as_strings(IDS, ASKED) == [3, -1, 1, -1, -1, 4, 2]


def test_no_ids() -> None:
    assert list(_IdLookup(pa.array([], pa.string())).positions(ASKED)) == [-1] * len(ASKED)


def _by_length(text: pa.Array) -> np.ndarray:
    """A hash that collides on purpose: strings of one length share it."""
    return np.array([-1 if v is None else len(v) for v in text.to_pylist()], dtype=np.int64)


def test_a_value_that_shares_an_ids_hash_is_not_taken_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buckets, "_hashes", _by_length)
    ids = pa.array(["SUP-1", "SUP-10", "5"], pa.string())       # lengths 5, 6, 1: no collision among ids
    lookup = _IdLookup(ids)
    assert lookup.by_hash
    asked = pa.array(["SUP-2", "SUP-10", "6", "SUP-1"], pa.string())  # SUP-2 and 6 share SUP-1's and 5's hash
    assert list(lookup.positions(asked)) == [-1, 1, -1, 0]


def test_ids_whose_hashes_collide_are_looked_up_by_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buckets, "_hashes", _by_length)
    lookup = _IdLookup(IDS)                                    # the two Salesforce ids share a length
    assert not lookup.by_hash
    assert list(lookup.positions(ASKED)) == _as_strings(IDS, ASKED)


def test_ids_are_numbered_by_first_sight_across_columns() -> None:
    space = _Space([pa.array(["b", None, "a"]), pa.array(["c", "a", ""]), pa.array([None, "b", "d"])], 10)
    assert space.ids.to_pylist() == ["b", "a", "c", "", "d"]
    assert list(space.column(0)) == [10, -1, 11] and list(space.column(1)) == [12, 11, 13]
    assert list(space.column(2)) == [-1, 10, 14]


def test_chunks_encoded_apart_are_given_one_dictionary() -> None:
    # As Arrow would hand them over if its memo were not shared: each chunk with a dictionary of its own.
    apart = pa.chunked_array([pa.DictionaryArray.from_arrays([0, 1, None], ["a", "b"]),
                              pa.DictionaryArray.from_arrays([1, 0], ["c", "b"])])
    one = _one_dictionary(apart)
    last = one.chunk(one.num_chunks - 1).dictionary
    decoded = [last[i].as_py() if i is not None else None for c in one.chunks for i in c.indices.to_pylist()]
    assert decoded == ["a", "b", None, "b", "c"]
