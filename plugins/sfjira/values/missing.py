"""The one test for a missing scalar: None, NaN, NaT or pd.NA (what a frame hands over for "no value"),
and its column form for text that identifies something (a carried key or id), where "" is nothing too.

A list or array is never missing here (an empty multi-value is a value: it clears the field).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return pd.isna(value) is True  # arrays answer with arrays, not True
    except (TypeError, ValueError):
        return False


def has_text(values: pd.Series) -> np.ndarray:
    """Where a column holds text: not None, NaN, NaT, pd.NA or ""."""
    return _texts(values)[1]


def text_or_none(values: pd.Series) -> pd.Series:
    """Each value as text, None where it holds none (`has_text`); object dtype, same index."""
    text, present = _texts(values)
    out = text.to_numpy(dtype=object)
    out[~present] = None
    return pd.Series(out, index=values.index, dtype="object")


def _texts(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    text = values.astype(str)
    return text, (values.notna() & (text.str.len() > 0)).to_numpy(dtype=bool)
