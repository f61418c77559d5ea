"""The one batching helper: a list (or any sequence) or a frame, `size` items at a time.

Every loop that cuts work into protocol- or statement-sized pieces uses it: the hooks' bulk writes and
by-id reads, the loads' chunks under intents, the state store's `IN (...)` batches and upserts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import TypeVar, overload

import pandas as pd

T = TypeVar("T")
P = TypeVar("P", bound=Sized)


@overload
def batches(items: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]: ...


@overload
def batches(items: list[T], size: int) -> Iterator[list[T]]: ...


@overload
def batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]: ...


def batches(items: pd.DataFrame | Sequence[T], size: int) -> Iterator[pd.DataFrame] | Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items (rows of a frame), in order; none for no items."""
    if size < 1:
        raise ValueError(f"batch size must be >= 1, got {size}")
    if isinstance(items, pd.DataFrame):
        return (items.iloc[start:start + size] for start in range(0, len(items), size))
    return (items[start:start + size] for start in range(0, len(items), size))


def page_batches(pages: Iterable[P], size: int) -> Iterator[list[P]]:
    """API pages regrouped into lists holding about `size` records (a page is never split), as the extracts
    flush them to Parquet parts; always at least one list, maybe empty, so an empty read still writes its
    (empty) part."""
    held: list[P] = []
    count, yielded = 0, False
    for page in pages:
        held.append(page)
        count += len(page)
        if count >= size:
            yield held
            held, count, yielded = [], 0, True
    if held or not yielded:
        yield held
