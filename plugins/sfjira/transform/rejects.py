"""Rejected records: one row per (record, field, problem), each with a code and the fix.

A record with any rejected field is held back as a whole (half an update is worse than none),
and every reason is listed, so one pass over the rejects fixes all of a record's problems.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

REJECT_COLUMNS = ["record_id", "mapping", "direction", "field", "source_field", "target_field", "code", "value",
                  "message"]
SIDE_NAME = {"salesforce": "Salesforce", "jira": "Jira"}
PII_MASK = "***"
_VALUE_PREVIEW = 200

# code -> (what is wrong, what to do). Placeholders: side, source, target_side, target, key, file, limit.
REASONS: dict[str, tuple[str, str]] = {
    "VALUE_UNMAPPED": ("has no entry in the value map of `{key}`",
                       "add it to value_map (or reverse_map) of `{key}` in {file}, or set unmapped: default or pass"),
    "REQUIRED_MISSING": ("is empty, but `{key}` is required",
                         "fill {source} in {side}, or give `{key}` a default in {file}"),
    "STRING_TOO_LONG": ("is longer than the {limit} characters (UTF-16 units) {target_side} {target} allows",
                        "shorten it in {side}, or set on_overflow: truncate for `{key}` in {file}"),
    "STRING_MULTILINE": ("contains a line break, which {target_side} {target} does not allow",
                         "remove the line break in {side}, or add the single_line transform to `{key}` in {file}"),
    "INVALID_DATE": ("is not a calendar date (yyyy-mm-dd)", "correct {source} in {side}"),
    "INVALID_DATETIME": ("is not an ISO-8601 date-time with a UTC offset", "correct {source} in {side}"),
    "NAIVE_DATETIME": ("has no UTC offset, so the moment it means is ambiguous",
                       "deliver it with its offset (e.g. +0000) as the API sends it; the sync never guesses a zone"),
    "INVALID_NUMBER": ("is not a decimal number", "correct {source} in {side}, or change `type` of `{key}` in {file}"),
    "INVALID_BOOLEAN": ("is not true or false", "correct {source} in {side}"),
    "INVALID_VALUE": ("is not a valid value", "correct {source} in {side}"),
}


class Rejects:
    """Collects rejects for one transform call; `rows` is the mask of records held back."""

    def __init__(self, mapping_name: str, direction: str, file: str, ids: pa.Array | np.ndarray,
                 first_row: int = 0) -> None:
        self.mapping_name, self.direction, self.file, self.first_row = mapping_name, direction, file, first_row
        self.ids = ids if isinstance(ids, pa.Array) else pa.array(ids, pa.large_string())
        self.rows = np.zeros(len(ids), bool)
        self._parts: list[pd.DataFrame] = []

    def add(self, mask: np.ndarray, code: str, raw: pd.Series, *, key: str, source: str, target: str,
            side: str, target_side: str, detail: str = "", pii: bool = False, limit: int | None = None,
            fix: str = "") -> None:
        if not mask.any():
            return
        self.rows |= mask
        where = np.flatnonzero(mask)
        reason, default_fix = REASONS[code]
        words = {"side": SIDE_NAME[side], "source": source, "target_side": SIDE_NAME[target_side],
                 "target": target, "key": key, "file": self.file, "limit": limit}
        message = (f"{SIDE_NAME[side]} {source} {detail or reason.format(**words)} -- fix: "
                   f"{fix or default_fix.format(**words)}")
        self._parts.append(pd.DataFrame({
            "_row": where + self.first_row, "_seq": len(self._parts),
            "record_id": self.ids.take(pa.array(where)).to_pylist(), "mapping": self.mapping_name, "direction": self.direction,
            "field": key, "source_field": source, "target_field": target, "code": code,
            "value": _preview(raw.iloc[where], pii), "message": message,
        }))

    def raw(self) -> pd.DataFrame:
        """The collected rows with their ordering columns, for `ordered` to merge with other blocks."""
        return pd.concat(self._parts, ignore_index=True) if self._parts else pd.DataFrame()

    def frame(self) -> pd.DataFrame:
        """Rejects in input order (by row, then field), whatever order they were found in."""
        return ordered([pd.concat(self._parts, ignore_index=True)] if self._parts else [])


def ordered(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Reject frames (with their _row/_seq columns) as one frame in input order."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in REJECT_COLUMNS})
    frame = pd.concat(parts, ignore_index=True).sort_values(["_row", "_seq"], kind="stable")
    return frame[REJECT_COLUMNS].reset_index(drop=True).astype("str")


def _preview(values: pd.Series, pii: bool) -> np.ndarray:
    """The offending values as short text for people to read; PII never leaves as itself."""
    shown = values.astype(object).where(values.notna(), None)
    if pii:
        # numpy's stubs leave None out of ArrayLike; np.where takes it as the object null it is.
        return np.where(shown.isna(), None, PII_MASK)  # type: ignore[call-overload]
    text = shown.map(lambda v: None if v is None else str(v)[:_VALUE_PREVIEW])  # rejected rows only
    return text.to_numpy(dtype=object)
