"""The one batching helper: a list (or any sequence) or a frame, `size` items at a time.

Every loop that cuts work into protocol- or statement-sized pieces uses it: the hooks' bulk writes and
by-id reads, the loads' chunks under intents, the state store's `IN (...)` batches and upserts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar, overload

import pandas as pd

T = TypeVar("T")


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
