"""Turning JSON request values into field values, with Salesforce's errors for the wrong kinds.

A value of the wrong JSON kind fails the whole request with JSON_PARSER_ERROR (the real API fails while
deserializing the body, before any record is looked at); INVALID_TYPE_ON_FIELD_IN_RECORD is a per-record
error for a value of the right kind that the field cannot hold.
"""

from __future__ import annotations

import math
import re
from typing import Any

from emulators.salesforce.errors import ApiError, RecordError, json_parser_error, no_such_column
from emulators.salesforce.schema import NUMBER_TYPES, FieldDef, SObjectDef
from emulators.salesforce.timefmt import normalize_datetime, parse_date

_JAVA_TYPE = {"boolean": "boolean", "int": "int", "currency": "double", "double": "double", "percent": "double",
              "date": "date", "datetime": "datetime"}
_NUMBER_RE = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def _token(value: Any) -> tuple[str, str]:
    """Jackson's token name and text for a JSON value, as quoted in Salesforce's parser errors."""
    if isinstance(value, bool):
        return ("VALUE_TRUE", "true") if value else ("VALUE_FALSE", "false")
    if isinstance(value, int):
        return "VALUE_NUMBER_INT", str(value)
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT", repr(value)
    if isinstance(value, dict):
        return "START_OBJECT", "{"
    if isinstance(value, list):
        return "START_ARRAY", "["
    return "VALUE_STRING", str(value)


def _parser_error(field: FieldDef, value: Any, raw: str) -> Exception:
    token, text = _token(value)
    at = raw.find(f'"{field.name}"')
    column = at + len(field.name) + 4 if at >= 0 else 1
    java = _JAVA_TYPE.get(field.type, "string")
    return json_parser_error(f"Cannot deserialize instance of {java} from {token} value {text} or request may be "
                             f"missing a required field at [line:1, column:{column}]")


def _not_of_type(field: FieldDef, value: Any) -> RecordError:
    shown = "null" if value is None else value
    return RecordError(ApiError("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{field.label}: value not of required type: {shown}",
                                (field.name,)))


def coerce(field: FieldDef, value: Any, raw: str) -> Any:
    if value is None:
        if field.type == "boolean":
            raise _not_of_type(field, value)
        return None
    if isinstance(value, dict | list):
        raise _parser_error(field, value, raw)
    kind = field.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _parser_error(field, value, raw)
    if kind in NUMBER_TYPES:
        return _number(field, value, raw)
    if kind in ("date", "datetime"):
        if not isinstance(value, str):
            raise _parser_error(field, value, raw)
        try:
            return parse_date(value) if kind == "date" else normalize_datetime(value)
        except ValueError:
            raise _parser_error(field, value, raw) from None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _number(field: FieldDef, value: Any, raw: str) -> int | float:
    if isinstance(value, bool) or (isinstance(value, str) and not _NUMBER_RE.match(value)):
        raise _parser_error(field, value, raw)
    number = float(value)
    if not math.isfinite(number):
        raise _parser_error(field, value, raw)
    if field.type == "int":
        if number != int(number):
            raise _not_of_type(field, value)
        return int(number)
    return round(number, field.scale) if field.scale else number


def coerce_body(obj: SObjectDef, body: Any, raw: str) -> dict[str, Any]:
    """Field values by canonical name; `attributes` is metadata, not a field."""
    if not isinstance(body, dict):
        raise json_parser_error(f"Cannot deserialize instance of {obj.name} from {_token(body)[0]} value "
                                f"{_token(body)[1]} or request may be missing a required field at [line:1, column:1]")
    values: dict[str, Any] = {}
    for key, value in body.items():
        if key == "attributes":
            continue
        field = obj.field(key)
        if field is None:
            raise no_such_column(obj.name, key)
        values[field.name] = coerce(field, value, raw)
    return values
