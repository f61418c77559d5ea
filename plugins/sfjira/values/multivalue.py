"""Multi-value fields (Salesforce multipicklists, Jira labels / fixVersions / components).

Salesforce sends `"A;B"` (or another declared separator), Jira a list of names. Canonical form
is the set of values, sorted by code point and joined with ";" so both sides compare as text.
Everything runs on the flattened values with their parent row index: no per-row Python.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sfjira.values.arrowcol import STRING, as_text, bool_mask, combine, is_text_array, null_mask
from sfjira.values.missing import is_missing

# Canonical separator of multi-picklist values (Salesforce's own multipicklist separator).
MULTI_SEPARATOR = ";"

LIST = pa.list_(STRING)


def to_lists(series: pd.Series, separator: str) -> tuple[pa.Array, np.ndarray]:
    """Raw column -> list array, and the mask of values that are neither text nor a list of text."""
    if series.dtype != object and not isinstance(series.dtype, pd.ArrowDtype):
        array = pa.array(series.array) if isinstance(series.dtype, pd.StringDtype) else None
        if array is None or not is_text_array(array):
            return pa.nulls(len(series), LIST), series.notna().to_numpy()
        return pc.split_pattern(as_text(array), separator).cast(LIST), np.zeros(len(series), bool)
    values = series.to_numpy()
    try:
        if isinstance(series.dtype, pd.ArrowDtype):
            array = pa.array(series.array)
        else:
            array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _mixed_to_lists(values, separator)
    if is_text_array(array):
        return pc.split_pattern(as_text(array), separator).cast(LIST), np.zeros(len(series), bool)
    if (pa.types.is_list(array.type) or pa.types.is_large_list(array.type)) and (
            is_text_array(array.values) or pa.types.is_null(array.values.type)):
        return array.cast(LIST), np.zeros(len(series), bool)
    if pa.types.is_null(array.type):
        return pa.nulls(len(series), LIST), np.zeros(len(series), bool)
    return pa.nulls(len(series), LIST), ~null_mask(array)


def _mixed_to_lists(values: np.ndarray, separator: str) -> tuple[pa.Array, np.ndarray]:
    """Rare fallback for object columns mixing lists and strings: sorted out value by value."""
    out: list[list[str] | None] = []
    bad = np.zeros(len(values), bool)
    for i, value in enumerate(values):
        if is_missing(value):
            out.append(None)
        elif isinstance(value, str):
            out.append(value.split(separator))
        elif isinstance(value, list | tuple | np.ndarray) and all(isinstance(v, str) for v in value):
            out.append(list(value))
        else:
            out.append(None)
            bad[i] = True
    return pa.array(out, LIST), bad


def flatten(lists: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Values of all lists, trimmed, and the row each came from."""
    # A column concatenated from several Parquet parts can reach here as chunks (seen when every list of
    # one chunk is null); the ranking below needs one array.
    lists = combine(lists)
    flat = pc.utf8_trim_whitespace(as_text(pc.list_flatten(lists)))
    parents = np.asarray(pc.list_parent_indices(lists).to_numpy(), dtype=np.int64)
    return flat, parents


def rows_with(mask: np.ndarray, parents: np.ndarray, n: int) -> np.ndarray:
    """Row mask: rows owning at least one flagged value."""
    return np.bincount(parents[mask], minlength=n) > 0 if mask.any() else np.zeros(n, bool)


def separator_inside(flat: pa.Array) -> np.ndarray:
    return bool_mask(pc.match_substring(flat, MULTI_SEPARATOR))


def rebuild(flat: pa.Array, parents: np.ndarray, n: int) -> pa.Array:
    """Lists again, each sorted by code point without duplicates or empty values; empty -> null."""
    flat, parents = sorted_unique(flat, parents)
    return build(flat, parents, n)


def sorted_unique(flat: pa.Array, parents: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Values ordered by (row, code point) with duplicates and empties dropped.

    Multi-value fields have few distinct values, so the strings are ranked once through their
    dictionary and the rows sorted on an integer key (row * distinct + rank)."""
    keep = bool_mask(pc.and_(pc.is_valid(flat), pc.not_equal(flat, "")))
    if not keep.all():
        flat, parents = flat.filter(pa.array(keep)), parents[keep]
    if len(flat) == 0:
        return flat, parents
    encoded = pc.dictionary_encode(flat)
    distinct = len(encoded.dictionary)
    rank = np.empty(distinct, np.int64)
    rank[np.asarray(pc.sort_indices(encoded.dictionary))] = np.arange(distinct)
    key = parents * distinct + rank[np.asarray(encoded.indices)]
    order = np.argsort(key, kind="stable")
    key = key[order]
    chosen = order[np.concatenate([[True], key[1:] != key[:-1]])]
    return flat.take(pa.array(chosen)), parents[chosen]


def build(flat: pa.Array, parents: np.ndarray, n: int) -> pa.Array:
    """A list array of `n` rows from values grouped by row (rows without values are null)."""
    counts = np.bincount(parents, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), flat, type=LIST, mask=pa.array(counts == 0))


def join(lists: pa.Array, separator: str = MULTI_SEPARATOR) -> pa.Array:
    return pc.binary_join(lists, pa.scalar(separator, STRING))
