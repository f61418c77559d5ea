"""The one batching helper: lists, other sequences and frames, in order, never an empty batch."""

from __future__ import annotations

import pandas as pd
import pytest

from sfjira.batching import batches, page_batches


def test_lists_are_cut_in_order_with_a_short_last_batch() -> None:
    assert [len(b) for b in batches(list(range(450)), 200)] == [200, 200, 50]
    assert [x for b in batches(list(range(450)), 200) for x in b] == list(range(450))
    assert list(batches([], 50)) == []
    assert list(batches("abcde", 2)) == ["ab", "cd", "e"]  # any sequence


def test_frames_are_cut_by_rows_keeping_their_index() -> None:
    frame = pd.DataFrame({"sf_id": [f"id{i}" for i in range(5)]}, index=range(10, 15))
    parts = list(batches(frame, 2))
    assert [len(p) for p in parts] == [2, 2, 1]
    assert [list(p.index) for p in parts] == [[10, 11], [12, 13], [14]]
    assert list(batches(frame.iloc[:0], 2)) == []


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch size"):
        batches([1], 0)


def test_pages_are_grouped_whole_into_parts_of_about_the_size() -> None:
    pages = [[1, 2], [3], [4, 5, 6], [7]]
    assert list(page_batches(pages, 3)) == [[[1, 2], [3]], [[4, 5, 6]], [[7]]]
    assert list(page_batches(pages, 100)) == [pages]


def test_no_pages_still_give_one_empty_part() -> None:
    assert list(page_batches([], 3)) == [[]]
    assert list(page_batches([[1, 2, 3]], 3)) == [[[1, 2, 3]]], "no empty part after a full one"
