"""The one test for a missing scalar: None, NaN, NaT or pd.NA (what a frame hands over for "no value").

A list or array is never missing here (an empty multi-value is a value: it clears the field).
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return pd.isna(value) is True  # arrays answer with arrays, not True
    except (TypeError, ValueError):
        return False
