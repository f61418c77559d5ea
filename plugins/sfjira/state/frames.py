"""DataFrame <-> rows: validate caller frames once, vectorized, and build typed frames from results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

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
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(df)), dtype=object)
    _check_not_null(out, what, list(not_null) or list(required))
    return out


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


def _check_not_null(df: pd.DataFrame, what: str, columns: list[str]) -> None:
    nulls = df[columns].isna()
    if nulls.to_numpy().any():
        bad = nulls.any(axis=1)
        cols = [c for c in columns if nulls[c].any()]
        raise bad_input(f"{what}: {int(bad.sum())} row(s) have no value in {', '.join(cols)}",
                        fix="fill these columns for every row", record=df.loc[bad].head(5).to_dict("records"))


def check_vocab(df: pd.DataFrame, column: str, allowed: Iterable[str], what: str) -> None:
    allowed = tuple(allowed)
    bad = ~df[column].isin(allowed)
    if bad.any():
        values = sorted({str(v) for v in df.loc[bad, column]})
        raise bad_input(f"{what}: unknown {column} value(s) {', '.join(values)}",
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
    added to every row after the conversion (cheaper than boxing a constant column row by row)."""
    # The store's column labels are strings; pandas-stubs can only promise Hashable.
    rows = cast("list[dict[str, Any]]", df.to_dict("records"))
    return [{**row, **constants} for row in rows] if constants else rows


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
                  datetimes: Sequence[str] = ()) -> pd.DataFrame:
    """One mapping's rows of `table` whose `column` is one of the given values, for any of the columns of
    `any_of` (IN lists of IN_CHUNK values, several statements); one row per `key`, in `order_by` order."""
    frames = []
    for column, values in any_of.items():
        wanted = sorted({str(v) for v in values if v is not None and v == v})
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start:start + IN_CHUNK]
            frames.append(read_frame(conn, table, columns, mapping, where=[table.c[column].in_(chunk)],
                                     order_by=order_by, datetimes=datetimes))
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

