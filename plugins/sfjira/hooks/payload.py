"""Wire shapes: the canonical values a plan carries -> the JSON each API takes, and JSON bodies from values
that come out of pandas frames (numpy scalars, NaN, Timestamps, Decimals).

The hooks are the only encoders: a plan table's `fields` holds canonical target values (plain names,
option values, decimal strings, ISO dates, plain text) and `JiraSyncHook.encode_fields` /
`SalesforceSyncHook.encode_fields` turn them into these shapes at write time. Jira wants objects for some
fields (`{"name": ...}` for priority, `{"value": ...}` for custom select options, lists of `{"name": ...}`
for versions, users by accountId on Cloud and by name on Data Center); both APIs want JSON numbers.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sfjira.mapping.catalog import CUSTOM_FIELD_ID, DECIMAL_TYPES
from sfjira.values.missing import is_missing

if TYPE_CHECKING:
    from sfjira.mapping.model import FieldMapping

_NAMED = frozenset({"priority", "resolution"})
_NAMED_LISTS = frozenset({"fixVersions", "versions", "components"})
_USERS = frozenset({"assignee", "reporter"})


def jsonable(value: Any) -> Any:
    """Plain JSON types. NaN/NaT/None become null (which clears the field on both APIs);
    datetimes become ISO 8601, dates yyyy-mm-dd, numpy scalars Python numbers."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if is_missing(value):
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


def number(value: Any, kind: str) -> int | float | None:
    """A decimal (string or number) as a JSON number: int for `integer`, else float."""
    if is_missing(value) or value == "":
        return None
    exact = Decimal(str(value))
    # float(Decimal(s)) round-trips any decimal of <= 15 significant digits exactly through JSON.
    return int(exact) if kind == "integer" else float(exact)


def _as_list(value: Any) -> list[Any]:
    if is_missing(value):
        return []
    if isinstance(value, str):
        return [v for v in value.split(";") if v]
    return list(value)


def jira_wire(f: FieldMapping, value: Any, *, cloud: bool) -> Any:
    """One canonical value of mapped field `f` as Jira's REST API takes it (rich text aside: the hook
    turns plain text into ADF on Cloud when it writes)."""
    field_id, kind = f.jira, f.type
    if kind in DECIMAL_TYPES:
        return number(value, kind)
    if kind == "multi-picklist":
        items = _as_list(value)
        if field_id in _NAMED_LISTS:
            return [{"name": v} for v in items]
        return [{"value": v} for v in items] if CUSTOM_FIELD_ID.match(field_id) else items
    if is_missing(value):
        return None
    if kind == "boolean":
        return bool(value)
    if field_id in _NAMED:
        return {"name": value}
    if kind == "user" or field_id in _USERS:
        return {"accountId": value} if cloud else {"name": value}
    if kind == "picklist" and CUSTOM_FIELD_ID.match(field_id):
        return {"value": value}
    return value


def salesforce_wire(f: FieldMapping, value: Any) -> Any:
    """One canonical value of mapped field `f` as the Salesforce REST API takes it."""
    if f.type in DECIMAL_TYPES:
        return number(value, f.type)
    if is_missing(value):
        return None
    if f.type == "boolean":
        return str(value).lower() in ("true", "1") if isinstance(value, str) else bool(value)
    return value


def canonical(value: Any) -> Any:
    """A canonical target value as plain JSON for a plan table's `fields`: missing -> None, decimals as
    exact decimal strings, multi-values as lists, numpy scalars as Python values."""
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    return jsonable(value)
