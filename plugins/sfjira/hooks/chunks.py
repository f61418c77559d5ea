"""Chunked bulk writes that isolate a bad record instead of failing its whole chunk."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sfjira.hooks.results import WriteResult

T = TypeVar("T")

# Sends one chunk of (input index, payload) pairs; returns one result per pair, or raises
# ChunkRejected when the API refused the request as a whole (malformed JSON, one unknown field...).
ChunkWriter = Callable[[Sequence[tuple[int, T]]], list[WriteResult]]


class ChunkRejected(Exception):
    """The API refused a whole request. `code`/`message` are its error, kept for single records."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def write_isolating(items: Sequence[tuple[int, T]], write: ChunkWriter[T]) -> list[WriteResult]:
    """Write `items` in one request; if the API rejects the request as a whole, split it in halves
    until the record(s) that cause it stand alone, so the rest still lands."""
    try:
        return write(items)
    except ChunkRejected as rejected:
        if len(items) == 1:
            return [WriteResult.failed(items[0][0], rejected.code, rejected.message)]
        middle = len(items) // 2
        return write_isolating(items[:middle], write) + write_isolating(items[middle:], write)
