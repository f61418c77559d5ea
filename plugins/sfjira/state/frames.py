"""DataFrame <-> rows: validate caller frames once, vectorized, and build typed frames from results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from sfjira.exceptions import StateStoreError


def bad_input(message: str, fix: str, record: Any = None) -> StateStoreError:
    return StateStoreError(message, code="STATE_INPUT_INVALID", fix=fix, record=record)


def prepare(df: pd.DataFrame, what: str, *, required: Sequence[str], optional: Mapping[str, Any] | None = None,
            fill: Mapping[str, Any] | None = None, not_null: Sequence[str] = ()) -> pd.DataFrame:
    """The frame reduced to the store's columns: `fill` supplies columns the caller left out (a value
    for every row), `optional` defaults missing columns and nulls. Extra columns are ignored, so a
    plan frame can be passed as it is."""
    if not isinstance(df, pd.DataFrame):
        raise bad_input(f"{what}: expected a pandas DataFrame, got {type(df).__name__}",
                        fix="pass a DataFrame with columns " + ", ".join(required))
    optional = dict(optional or {})
    # Column by column as object arrays, the frame built once: a chunk's save prepares four frames, and
    # pandas' per-column assignment and `where` cost more than the rows themselves at chunk sizes.
    columns: dict[str, np.ndarray] = {}
    for column in (*required, *optional):
        if column in df.columns:
            columns[column] = _nulls_to(df[column].to_numpy(dtype=object), optional.get(column))
        elif fill and fill.get(column) is not None:
            columns[column] = _constant(fill[column], len(df))
    missing = [c for c in required if c not in columns]
    if missing:
        raise bad_input(f"{what}: missing column(s) {', '.join(missing)}",
                        fix=f"required columns: {', '.join(required)}; optional: {', '.join(optional) or '-'}")
    for column, default in optional.items():
        if column not in columns:
            columns[column] = _constant(default, len(df))
    _check_not_null(columns, len(df), what, list(not_null) or list(required))
    return _object_frame(columns, len(df))


def _object_frame(columns: Mapping[str, np.ndarray], length: int) -> pd.DataFrame:
    """One 2-D object block: built and read back (`records`) faster than a frame of separate columns."""
    data = np.empty((length, len(columns)), dtype=object)
    for j, values in enumerate(columns.values()):
        data[:, j] = values
    return pd.DataFrame(data, columns=list(columns), index=pd.RangeIndex(length), dtype=object, copy=False)


def _nulls_to(values: np.ndarray, default: Any) -> np.ndarray:
    """`values` with every null (None, NaN, NaT, pd.NA) replaced by `default`."""
    nulls = pd.isna(values)
    if nulls.any():
        values = values.copy()
        values[nulls] = default
    return values


def _constant(value: Any, length: int) -> np.ndarray:
    out = np.empty(length, dtype=object)
    out[:] = [value] * length if isinstance(value, (list, tuple, dict)) else value
    return out


def _check_not_null(columns: Mapping[str, np.ndarray], length: int, what: str, names: list[str]) -> None:
    # On the arrays, before the frame exists: selecting columns of a frame costs more than the test.
    nulls = {name: pd.isna(columns[name]) for name in names}
    if not any(mask.any() for mask in nulls.values()):
        return
    bad = np.zeros(length, dtype=bool)
    for mask in nulls.values():
        bad |= mask
    cols = [name for name, mask in nulls.items() if mask.any()]
    sample = _object_frame(columns, length).loc[bad].head(5)
    raise bad_input(f"{what}: {int(bad.sum())} row(s) have no value in {', '.join(cols)}",
                    fix="fill these columns for every row", record=sample.to_dict("records"))


def check_vocab(df: pd.DataFrame, column: str, allowed: Iterable[str], what: str, *,
                nulls_ok: bool = False) -> None:
    """Refuse values of `column` outside `allowed` (a missing value too, unless `nulls_ok`)."""
    allowed = tuple(allowed)
    values = df[column].to_numpy(dtype=object)
    if nulls_ok:
        values = values[~pd.isna(values)]
    # The distinct values against a set: a chunk's frame is small, and `isin` costs more than its rows.
    bad = {v for v in pd.unique(values) if v not in allowed}
    if bad:
        raise bad_input(f"{what}: unknown {column} value(s) {', '.join(sorted({str(v) for v in bad}))}",
                        fix=f"allowed {column} values: {', '.join(allowed)}")


def check_value(value: Any, allowed: Iterable[str], name: str) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise bad_input(f"unknown {name} {value!r}", fix=f"allowed {name} values: {', '.join(allowed)}")


def equals(table: sa.Table, column: str, value: Any, allowed: Iterable[str] | None = None) -> list[Any]:
    """A filter for `read_frame`: [] when `value` is None, else column == value (checked against `allowed`)."""
    if value is None:
        return []
    if allowed is not None:
        check_value(value, allowed, column.replace("_", " "))
    return [table.c[column] == value]


def records(df: pd.DataFrame, **constants: Any) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (None for missing), ready for executemany. `constants` are
    added to every row (cheaper than boxing a constant column row by row)."""
    # What `to_dict("records")` returns (numpy scalars boxed, pd.NA -> None), read from the frame's object
    # array: pandas boxes every value one by one, which cost a quarter of a chunk's save; here only a
    # frame that holds a numpy scalar or pd.NA (rare: `prepare` makes plain object columns) is walked.
    names = [str(c) for c in df.columns]
    values = df.to_numpy(dtype=object)
    if any(issubclass(kind, np.generic) or kind is _NA_TYPE for kind in set(map(type, values.ravel()))):
        values = np.vectorize(_box, otypes=[object])(values) if values.size else values
    return [dict(zip(names, row, strict=True), **constants) for row in values.tolist()]


_NA_TYPE = type(pd.NA)


def _box(value: Any) -> Any:
    if value is pd.NA:
        return None
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    if isinstance(value, np.timedelta64):
        return pd.Timedelta(value)
    return value.item() if isinstance(value, np.generic) else value


def last_of_each(df: pd.DataFrame, subset: Sequence[str]) -> pd.DataFrame:
    """`df.drop_duplicates(subset, keep="last")` (missing values equal to each other), the frame itself when
    no key repeats -- the usual case, found with one pass over the keys instead of pandas' factorizing."""
    keys = zip(*(_null_as_none(df[c].to_numpy(dtype=object)) for c in subset), strict=True)
    last = {key: i for i, key in enumerate(keys)}
    if len(last) == len(df):
        return df
    return df.iloc[sorted(last.values())]


def _null_as_none(values: np.ndarray) -> np.ndarray:
    nulls = pd.isna(values)
    if nulls.any():
        values = values.copy()
        values[nulls] = None
    return values


def read_frame(conn: sa.Connection, table: sa.Table, columns: Sequence[str], mapping: str, *,
               where: Iterable[Any] = (), order_by: Sequence[str], datetimes: Sequence[str] = ()) -> pd.DataFrame:
    """One mapping's rows of `table` as a frame with `columns`, in `order_by` order."""
    query = (sa.select(*(table.c[c] for c in columns)).where(table.c.mapping == mapping, *where)
             .order_by(*(table.c[c] for c in order_by)))
    return to_frame(conn.execute(query), datetimes=datetimes)


_READ_ROWS = 100_000
IN_CHUNK = 500  # ids per `IN (...)` list: far below SQLite's and PostgreSQL's bind-parameter limits


def read_frame_in(conn: sa.Connection, table: sa.Table, columns: Sequence[str], mapping: str,
                  any_of: dict[str, Iterable[str]], *, key: Sequence[str], order_by: Sequence[str],
                  datetimes: Sequence[str] = (), where: Iterable[Any] = ()) -> pd.DataFrame:
    """One mapping's rows of `table` whose `column` is one of the given values, for any of the columns of
    `any_of` (IN lists of IN_CHUNK values, several statements), that also meet `where`; one row per `key`,
    in `order_by` order."""
    where = list(where)
    frames = []
    for column, values in any_of.items():
        wanted = sorted({str(v) for v in values if v is not None and v == v})
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start:start + IN_CHUNK]
            # Unordered here, sorted once below: with an ORDER BY on the key, SQLite walks the primary key's
            # index over all the mapping's rows for an IN list on another indexed column (a jira_key list of
            # 500 against a million links: 0.5 s, not 2 ms).
            frames.append(read_frame(conn, table, columns, mapping, where=[table.c[column].in_(chunk), *where],
                                     order_by=(), datetimes=datetimes))
    filled = [f for f in frames if len(f)]
    if not filled:
        return read_frame(conn, table, columns, mapping, where=[sa.false()], order_by=order_by, datetimes=datetimes)
    frame = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]
    return frame.drop_duplicates(subset=list(key)).sort_values(list(order_by), kind="stable").reset_index(drop=True)


def to_frame(result: sa.CursorResult[Any], *, datetimes: Sequence[str] = ()) -> pd.DataFrame:
    # Plain tuples: pandas probes each Row for namedtuple attributes, and a Row answers every unknown
    # attribute by raising inside SQLAlchemy -- seconds per million rows, more than the query. Built
    # _READ_ROWS rows at a time: a million rows as Python objects at once cost hundreds of MB, the
    # frame's (Arrow-backed) columns a tenth of it.
    columns = list(result.keys())
    parts = [pd.DataFrame([tuple(row) for row in rows], columns=columns) for rows in result.partitions(_READ_ROWS)]
    frame = (pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]) if parts else \
        pd.DataFrame([], columns=columns)
    for column in datetimes:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame

