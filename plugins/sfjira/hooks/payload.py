"""JSON bodies from values that come out of pandas frames (numpy scalars, NaN, Timestamps, Decimals)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd


def jsonable(value: Any) -> Any:
    """Plain JSON types. NaN/NaT/None become null (which clears the field on both APIs);
    datetimes become ISO 8601, dates yyyy-mm-dd, numpy scalars Python numbers."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if pd.isna(value) is True:  # NaN, NaT, pd.NA, None-likes; arrays answer with arrays, not True
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # +-inf
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if hasattr(value, "tolist"):  # numpy scalar or array
        return jsonable(value.tolist())
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(jsonable(value), allow_nan=False, separators=(",", ":"))
