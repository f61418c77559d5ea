"""What we know about both systems without asking them: field types, limits, read-only fields.

Used by the static checks (mapping/semantic.py), the live checks (mapping/live.py) and the
transform (which enforces e.g. the single-line summary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

FieldType = Literal["string", "text", "number", "integer", "currency", "boolean", "date", "datetime",
                    "picklist", "multi-picklist", "user"]
FIELD_TYPES: tuple[str, ...] = ("string", "text", "number", "integer", "currency", "boolean", "date", "datetime",
                                "picklist", "multi-picklist", "user")
TEXT_TYPES = frozenset({"string", "text", "picklist", "user"})
DECIMAL_TYPES = frozenset({"number", "integer", "currency"})
# Types a value map makes sense for (translating vocabularies).
MAPPABLE_TYPES = frozenset({"string", "picklist", "multi-picklist", "user"})

CUSTOM_FIELD_ID = re.compile(r"^customfield_\d+$")
SF_FIELD_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class JiraSystemField:
    types: frozenset[str]          # mapping types that fit the field
    max_length: int | None = None  # in UTF-16 code units (Jira is Java: String.length())
    writable: bool = True
    single_line: bool = False
    no_spaces: bool = False        # labels cannot contain spaces


JIRA_SYSTEM_FIELDS: dict[str, JiraSystemField] = {
    "summary": JiraSystemField(frozenset({"string"}), max_length=255, single_line=True),
    "description": JiraSystemField(frozenset({"text", "string"}), max_length=32767),
    "environment": JiraSystemField(frozenset({"text", "string"}), max_length=32767),
    "priority": JiraSystemField(frozenset({"picklist"})),
    "labels": JiraSystemField(frozenset({"multi-picklist"}), max_length=255, no_spaces=True),
    "fixVersions": JiraSystemField(frozenset({"multi-picklist"})),
    "versions": JiraSystemField(frozenset({"multi-picklist"})),
    "components": JiraSystemField(frozenset({"multi-picklist"})),
    "duedate": JiraSystemField(frozenset({"date"})),
    "assignee": JiraSystemField(frozenset({"user"})),
    "reporter": JiraSystemField(frozenset({"user"})),
    "resolution": JiraSystemField(frozenset({"picklist"})),
    # Written only through workflow transitions (the `status:` section), read as a picklist.
    "status": JiraSystemField(frozenset({"picklist", "string"}), writable=False),
    "key": JiraSystemField(frozenset({"string"}), writable=False),
    "created": JiraSystemField(frozenset({"datetime"}), writable=False),
    "updated": JiraSystemField(frozenset({"datetime"}), writable=False),
    "resolutiondate": JiraSystemField(frozenset({"datetime"}), writable=False),
    "creator": JiraSystemField(frozenset({"user"}), writable=False),
    "issuetype": JiraSystemField(frozenset({"picklist"}), writable=False),
    "project": JiraSystemField(frozenset({"picklist", "string"}), writable=False),
}

# Salesforce fields no API client can write.
SF_READ_ONLY = frozenset({"Id", "SystemModstamp", "CreatedDate", "CreatedById", "LastModifiedDate",
                          "LastModifiedById", "IsDeleted", "LastActivityDate", "LastViewedDate",
                          "LastReferencedDate"})

# Jira schema.type (+ items) -> mapping types that fit. Keys are "type" or "array:items".
JIRA_SCHEMA_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"string", "text", "picklist"}),
    "number": frozenset({"number", "integer", "currency"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"datetime"}),
    "option": frozenset({"picklist", "boolean"}),
    "priority": frozenset({"picklist"}),
    "resolution": frozenset({"picklist"}),
    "status": frozenset({"picklist", "string"}),
    "user": frozenset({"user"}),
    "any": frozenset(FIELD_TYPES),
    "array:string": frozenset({"multi-picklist"}),
    "array:option": frozenset({"multi-picklist"}),
    "array:version": frozenset({"multi-picklist"}),
    "array:component": frozenset({"multi-picklist"}),
    "array:user": frozenset({"multi-picklist"}),
}

# Salesforce describe field "type" -> mapping types that fit.
SF_DESCRIBE_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"string", "text", "picklist", "multi-picklist", "user"}),
    "textarea": frozenset({"text", "string", "multi-picklist"}),
    "email": frozenset({"string", "user"}),
    "phone": frozenset({"string"}),
    "url": frozenset({"string"}),
    "id": frozenset({"string"}),
    "reference": frozenset({"string", "user"}),
    "picklist": frozenset({"picklist", "string"}),
    "multipicklist": frozenset({"multi-picklist"}),
    "combobox": frozenset({"picklist", "string"}),
    "currency": frozenset({"currency", "number"}),
    "double": frozenset({"number", "currency", "integer"}),
    "percent": frozenset({"number"}),
    "int": frozenset({"integer", "number"}),
    "long": frozenset({"integer", "number"}),
    "boolean": frozenset({"boolean"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"datetime"}),
}


def is_jira_field_id(name: str) -> bool:
    """True for ids the REST API accepts as keys (system names and customfield_NNNNN)."""
    return name in JIRA_SYSTEM_FIELDS or bool(CUSTOM_FIELD_ID.match(name))


def jira_schema_key(schema: dict[str, Any]) -> str:
    kind = str(schema.get("type", "any"))
    return f"array:{schema.get('items', 'string')}" if kind == "array" else kind
