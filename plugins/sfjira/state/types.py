"""Column types that behave the same on SQLite and PostgreSQL: UTC datetimes and JSON documents."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from sfjira.values.missing import is_missing

UTC = dt.UTC


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


def as_utc(value: Any) -> dt.datetime | None:
    """Any datetime-ish value (datetime, pandas Timestamp, ISO string) as an aware UTC datetime.

    Naive values are taken as UTC, which is what Airflow hands out everywhere."""
    if type(value) is dt.datetime:  # the common cases first: utcnow() on every row saved, SQLite's naive reads
        if value.tzinfo is UTC:
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
    if is_missing(value):  # None, NaT
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if not isinstance(value, dt.datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UtcDateTime(sa.TypeDecorator[dt.datetime]):
    """Stores UTC, returns aware UTC datetimes. SQLite has no time zones, so its values are stored naive
    in UTC; a fixed format also keeps them comparable as text (used by the watermark's max())."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        value = as_utc(value)
        if value is not None and dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        return as_utc(value)


def Json() -> sa.types.TypeEngine[Any]:  # noqa: N802 - reads like a type in the table definitions
    """JSON on SQLite, JSONB on PostgreSQL; Python None is stored as SQL NULL."""
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def _json_default(value: Any) -> Any:
    # pandas/numpy scalars and datetimes reach here from caller frames; store them as plain JSON.
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if hasattr(value, "tolist"):  # numpy array
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"value of type {type(value).__name__} cannot be stored as JSON: {value!r}")


def json_dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"))
