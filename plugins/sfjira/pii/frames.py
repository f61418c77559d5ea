"""PII columns of a frame sealed cell by cell, and opened again, for the run folder's Parquet files.

The file's metadata (key `sfjira.sealed`) names the sealed columns, their pandas dtypes and the
connection holding the key, so `sfjira.storage.read_frame` opens them without being told.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sfjira.pii.cipher import PiiCipher

SEALED_KEY = b"sfjira.sealed"


def seal_columns(frame: pd.DataFrame, columns: Sequence[str], cipher: PiiCipher) -> pd.DataFrame:
    """A copy with each of `columns` as sealed text (missing values stay missing)."""
    out = frame.copy(deep=False)
    for column in columns:
        out[column] = _map_present(frame[column], cipher.seal)
    return out


def sealed_metadata(frame: pd.DataFrame, columns: Sequence[str], conn_id: str | None) -> bytes:
    return json.dumps({"columns": {c: str(frame[c].dtype) for c in columns}, "conn_id": conn_id}).encode()


def open_columns(frame: pd.DataFrame, metadata: bytes,
                 cipher_of: Callable[[str | None], PiiCipher]) -> pd.DataFrame:
    """The frame with the sealed columns named by `metadata` opened and given back their dtypes;
    `cipher_of(conn_id)` supplies the cipher."""
    info = json.loads(metadata)
    cipher: PiiCipher = cipher_of(info.get("conn_id"))
    out = frame.copy(deep=False)
    for column, dtype in info["columns"].items():
        opened = pd.Series(_map_present(frame[column], cipher.open), index=frame.index, dtype=object)
        out[column] = opened if dtype == "object" else opened.astype(dtype)
    return out


def _map_present(series: pd.Series, change: Callable[[Any], Any]) -> np.ndarray:
    values = series.to_numpy(dtype=object)
    present = series.notna().to_numpy()
    out = np.full(len(values), None, dtype=object)
    out[present] = [change(v) for v in values[present]]
    return out
