"""Salesforce query pages -> one pandas DataFrame with flat `Parent.Field` columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from sfjira.hooks.soql import WATERMARK_FIELD


def records_to_frame(pages: Iterable[Sequence[dict[str, Any]]], fields: Sequence[str] | None = None) -> pd.DataFrame:
    """Flatten SOQL records: `{"Account": {"Name": "Acme"}}` becomes column `Account.Name`.

    `attributes` blocks are dropped. With `fields` (the selected field paths) the columns are exactly
    Id, SystemModstamp (when selected) and `fields`, in that order, and a null parent gives nulls in
    its columns. Without `fields`, whatever the records hold is kept. `SystemModstamp` is parsed to a
    UTC timestamp; all other values stay as the API returned them.
    """
    frames = [pd.json_normalize(list(page), sep=".") for page in pages if page]
    return shaped_frame(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(), fields)


def shaped_frame(frame: pd.DataFrame, fields: Sequence[str] | None = None) -> pd.DataFrame:
    """A frame of flat `Parent.Field` columns given `records_to_frame`'s columns and watermark type. It is
    that function's second half, shared with the Bulk API's CSV parts, which are flat from the start."""
    frame = frame.drop(columns=[c for c in frame.columns if _is_attributes(c)])
    if fields is not None:
        ordered = list(dict.fromkeys([c for c in ("Id", WATERMARK_FIELD) if c in frame.columns or c in fields]
                                     + list(fields)))
        frame = frame.reindex(columns=ordered)
    else:
        # A relationship that was null in some records shows up as its own column next to its fields.
        frame = frame.drop(columns=[c for c in frame.columns if any(o.startswith(f"{c}.") for o in frame.columns)])
    if WATERMARK_FIELD in frame.columns:
        frame[WATERMARK_FIELD] = pd.to_datetime(frame[WATERMARK_FIELD], utc=True, format="ISO8601")
    return frame


def _is_attributes(column: str) -> bool:
    return "attributes" in column.split(".")
