"""pandas <-> pyarrow column conversion.

The transform works on pyarrow arrays: pandas 3 stores `str` columns in Arrow already, and
pyarrow.compute gives us vectorized string, regex, cast and list kernels without Python loops.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STRING = pa.large_string()
STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3's default `str` dtype
LIST_DTYPE = pd.ArrowDtype(pa.list_(STRING))


_pool_checked = False


def reuse_memory() -> None:
    """Use an Arrow memory pool that keeps freed pages, unless the deployment chose one.

    Arrow's default on Linux is mimalloc, which hands freed memory back to the OS within ~10 ms;
    the transform allocates and frees the same block-sized buffers over and over, so every block
    faulted its pages in again (measured: ~1.2 s of kernel time per million rows on a VM, ~0.3 s
    with jemalloc). Once per process, and never over an explicit ARROW_DEFAULT_MEMORY_POOL."""
    global _pool_checked
    if _pool_checked:
        return
    _pool_checked = True
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL") or pa.default_memory_pool().backend_name != "mimalloc":
        return
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # a pyarrow build without jemalloc
        pa.set_memory_pool(pa.system_memory_pool())


def combine(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def to_arrow(series: pd.Series) -> pa.Array:
    """The column as one Arrow array (zero-copy where pandas already holds Arrow or numpy data;
    NaN/NaT/None become nulls). Raises pa.ArrowInvalid/ArrowTypeError for mixed object columns.

    Converts the Series' array, not the Series: pyarrow probes the object for __arrow_array__, and a
    Series answers an unknown attribute by searching its index (~0.2 s on a million-row index)."""
    return combine(pa.array(series.array, from_pandas=True))


def is_text_array(array: pa.Array) -> bool:
    return pa.types.is_string(array.type) or pa.types.is_large_string(array.type)


def as_text(array: pa.Array) -> pa.Array:
    return array.cast(STRING) if not pa.types.is_large_string(array.type) else array


def null_mask(array: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(array).to_numpy(zero_copy_only=False), dtype=bool)


def bool_mask(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a numpy mask, nulls counted as False."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def to_series(array: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """Canonical Series: text -> `str` dtype, booleans -> nullable `boolean`, lists -> Arrow list dtype,
    timestamps -> datetime64[ms, UTC]."""
    if pa.types.is_timestamp(array.type):
        return pd.Series(array.cast(pa.timestamp("ms", tz="UTC")).to_pandas().array, index=index)
    if pa.types.is_boolean(array.type):
        return pd.Series(pd.array(array, dtype="boolean"), index=index)
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        return pd.Series(pd.arrays.ArrowExtensionArray(array.cast(pa.list_(STRING))), index=index)
    if isinstance(array, pa.ChunkedArray) and not pa.types.is_large_string(array.type):
        array = array.cast(STRING)
    return pd.Series(pd.array(as_text(array), dtype=STR_DTYPE), index=index)


def empty_to_null(array: pa.Array) -> pa.Array:
    """'' and null mean the same ("no value") on both sides. Copies only if there is an ''."""
    empty = pc.equal(array, "")
    if not pc.any(empty).as_py():
        return array
    return pc.if_else(empty, pa.scalar(None, array.type), array)


def any_true(mask: pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def put(array: pa.Array, mask: np.ndarray, values: pa.Array) -> pa.Array:
    """`array` with the rows in `mask` replaced by `values` (one value per masked row)."""
    if not mask.any():
        return array
    return pc.replace_with_mask(array, pa.array(mask), values.cast(array.type))


def subset(array: pa.Array, mask: np.ndarray) -> pa.Array:
    return array.filter(pa.array(mask))
