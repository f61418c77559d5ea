"""Target-native values from the transform -> the JSON shapes each API takes.

The transform yields plain values (names, option values, decimal strings); Jira wants objects for
some fields (`{"name": ...}` for priority, `{"value": ...}` for select options, lists of
`{"name": ...}` for versions) and both APIs want JSON numbers for numeric fields.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from sfjira.mapping.catalog import CUSTOM_FIELD_ID, DECIMAL_TYPES
from sfjira.mapping.model import FieldMapping

_NAMED = frozenset({"priority", "resolution"})
_NAMED_LISTS = frozenset({"fixVersions", "versions", "components"})
_USERS = frozenset({"assignee", "reporter"})


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def number(value: Any, kind: str) -> int | float | None:
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


def jira_value(f: FieldMapping, value: Any, *, cloud: bool) -> Any:
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


def salesforce_value(f: FieldMapping, value: Any) -> Any:
    if f.type in DECIMAL_TYPES:
        return number(value, f.type)
    if is_missing(value):
        return None
    if f.type == "boolean":
        return str(value).lower() in ("true", "1") if isinstance(value, str) else bool(value)
    return value
