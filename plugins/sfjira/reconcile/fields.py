"""Field-by-field comparison of paired canonical values, in Arrow: one kernel call per field, no rows in Python."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sfjira.values.arrowcol import STRING, bool_mask, to_arrow


def column(frame: pd.DataFrame, key: str, positions: np.ndarray) -> pa.Array:
    """The canonical values of `key` at `positions` (booleans stay booleans, the rest is text)."""
    array = to_arrow(frame[key])
    return array.take(pa.array(positions, pa.int64()))


def as_text(array: pa.Array) -> pa.Array:
    """Display text of canonical values: booleans are "true" / "false", as in the field hashes."""
    if pa.types.is_boolean(array.type):
        return pc.if_else(array, "true", "false").cast(STRING)
    return array.cast(STRING)


def differs(left: pa.Array, right: pa.Array) -> np.ndarray:
    """True where the values differ; missing equals missing and nothing else (canonical values need
    no tolerance)."""
    if left.type != right.type:
        left, right = as_text(left), as_text(right)
    same = bool_mask(pc.equal(left, right)) | (bool_mask(pc.is_null(left)) & bool_mask(pc.is_null(right)))
    return ~same


def mismatches(keys: Sequence[str], sf: pd.DataFrame, jira: pd.DataFrame, sf_pos: np.ndarray,
               jira_pos: np.ndarray) -> pd.DataFrame:
    """One row per differing (pair, field): pair (index into the pair arrays), field, sf_value,
    jira_value (canonical text)."""
    parts = []
    for key in keys:
        left, right = column(sf, key, sf_pos), column(jira, key, jira_pos)
        where = np.flatnonzero(differs(left, right))
        if not len(where):
            continue
        take = pa.array(where, pa.int64())
        parts.append(pd.DataFrame({
            "pair": where, "field": key,
            "sf_value": as_text(left.take(take)).to_pandas(types_mapper=None).to_numpy(dtype=object),
            "jira_value": as_text(right.take(take)).to_pandas(types_mapper=None).to_numpy(dtype=object),
        }))
    if not parts:
        return pd.DataFrame({"pair": pd.Series(dtype=np.int64), "field": pd.Series(dtype=object),
                             "sf_value": pd.Series(dtype=object), "jira_value": pd.Series(dtype=object)})
    return pd.concat(parts, ignore_index=True)
