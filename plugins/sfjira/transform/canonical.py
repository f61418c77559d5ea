"""Comparing canonical frames of the two sides, field by field.

Both `to_jira(...).frame` (from Salesforce) and `to_salesforce(...).frame` (from Jira) hold the
canonical form of each field (see coerce.py), so equal values are equal strings (or booleans) and
missing is missing on both sides. Two-way fields appear in both frames under the same key.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sfjira.transform.engine import TransformResult


def by_sf_id(result: TransformResult) -> pd.DataFrame:
    """The canonical frame indexed by Salesforce id (Jira rows without a known id are left out)."""
    if result.direction == "sf_to_jira":
        return result.frame
    sf_id = result.meta["sf_id"]
    frame = result.frame[sf_id.notna().to_numpy()].copy()
    frame.index = pd.Index(sf_id.dropna().to_numpy(), dtype="str", name="sf_id")
    return frame


def differences(left: pd.DataFrame, right: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """True where two canonical frames disagree, for the rows (index) and columns they share.

    Missing equals missing; everything else compares exactly (canonical values need no tolerance).
    """
    keys = list(columns) if columns is not None else [c for c in left.columns if c in right.columns]
    rows = left.index.intersection(right.index)
    a, b = left.loc[rows, keys], right.loc[rows, keys]
    out = {}
    for key in keys:
        x, y = a[key].astype(object), b[key].astype(object)
        same = (x == y).to_numpy(dtype=bool) | (x.isna() & y.isna()).to_numpy()
        out[key] = ~same
    return pd.DataFrame(out, index=rows)
