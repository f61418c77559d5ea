"""Chunking, bad-record isolation and JSON payloads: pure, no server."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from sfjira.hooks.chunks import ChunkRejected, write_isolating
from sfjira.hooks.payload import dumps
from sfjira.hooks.results import WriteResult


def test_write_isolating_finds_the_bad_record_and_lands_the_rest() -> None:
    sent: list[int] = []

    def write(chunk: Sequence[tuple[int, str]]) -> list[WriteResult]:
        sent.append(len(chunk))
        if any(value == "bad" for _, value in chunk):
            raise ChunkRejected("JSON_PARSER_ERROR", "unexpected token")
        return [WriteResult(index=i, success=True, id=f"id{i}") for i, _ in chunk]

    items = [(i, "bad" if i == 5 else "ok") for i in range(8)]
    results = write_isolating(items, write)
    assert [r.index for r in results] == list(range(8))
    assert [r.success for r in results] == [i != 5 for i in range(8)]
    assert results[5].errors[0].code == "JSON_PARSER_ERROR"
    assert sent[0] == 8 and len(sent) <= 1 + 2 * 3  # log2(8) levels of halves at most


def test_write_result_to_dict() -> None:
    assert WriteResult.failed(3, "X", "msg", ("A",)).to_dict() == {
        "index": 3, "success": False, "id": None, "key": None, "created": None,
        "errors": [{"code": "X", "message": "msg", "fields": ["A"]}]}


def test_payload_from_pandas_values() -> None:
    body = dumps({"n": np.int64(3), "f": np.float64("nan"), "t": pd.Timestamp("2026-03-01T12:00Z"),
                  "d": date(2026, 3, 1), "m": Decimal("12.50"), "x": pd.NA, "z": pd.NaT,
                  "w": datetime(2026, 3, 1, tzinfo=UTC), "l": ["a", float("inf")]})
    assert body == ('{"n":3,"f":null,"t":"2026-03-01T12:00:00+00:00","d":"2026-03-01","m":12.5,"x":null,'
                    '"z":null,"w":"2026-03-01T00:00:00+00:00","l":["a",null]}')
