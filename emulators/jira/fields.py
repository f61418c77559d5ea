"""Field definitions: what `/field` lists, what create/edit accept and what JQL can search.

`kind` drives validation (writes.py), rendering (render.py) and JQL (jql/compile.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"

# Opportunity.StageName values (restricted picklist in Salesforce) are the options of "Salesforce Stage".
STAGE_OPTIONS: dict[str, str] = {str(10100 + i): v for i, v in enumerate((
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
))}


@dataclass(frozen=True)
class FieldDef:
    id: str
    name: str
    kind: str
    schema: dict[str, Any]
    settable: bool = True
    navigable: bool = True
    orderable: bool = True
    searchable: bool = True
    clause_names: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)
    max_length: int | None = None

    @property
    def custom(self) -> bool:
        return self.id.startswith("customfield_")

    @property
    def custom_id(self) -> int | None:
        return int(self.id.split("_", 1)[1]) if self.custom else None


def _system(fid: str, name: str, kind: str, type_: str, *, items: str | None = None, **kw: Any) -> FieldDef:
    schema: dict[str, Any] = {"type": type_, "system": fid}
    if items:
        schema["items"] = items
    clauses = kw.pop("clause_names", (fid,))
    return FieldDef(fid, name, kind, schema, clause_names=clauses, **kw)


def _custom(num: int, name: str, kind: str, type_: str, plugin: str, **kw: Any) -> FieldDef:
    fid = f"customfield_{num}"
    schema = {"type": type_, "custom": _CF + plugin, "customId": num}
    return FieldDef(fid, name, kind, schema, clause_names=(f"cf[{num}]", name), **kw)


SYSTEM_FIELDS: tuple[FieldDef, ...] = (
    _system("summary", "Summary", "summary", "string", max_length=255),
    _system("description", "Description", "text", "string"),
    _system("issuetype", "Issue Type", "issuetype", "issuetype", clause_names=("issuetype", "type")),
    _system("project", "Project", "project", "project"),
    _system("status", "Status", "status", "status", settable=False),
    _system("priority", "Priority", "priority", "priority"),
    _system("assignee", "Assignee", "user", "user"),
    _system("reporter", "Reporter", "user", "user"),
    _system("creator", "Creator", "user", "user", settable=False),
    _system("labels", "Labels", "labels", "array", items="string"),
    _system("fixVersions", "Fix versions", "versions", "array", items="version", clause_names=("fixVersion",)),
    _system("parent", "Parent", "parent", "issuelink"),
    _system("resolution", "Resolution", "readonly", "resolution", settable=False),
    _system("resolutiondate", "Resolved", "readonly", "datetime", settable=False,
            clause_names=("resolved", "resolutiondate")),
    _system("created", "Created", "readonly", "datetime", settable=False, clause_names=("created", "createdDate")),
    _system("updated", "Updated", "readonly", "datetime", settable=False, clause_names=("updated", "updatedDate")),
    _system("comment", "Comment", "readonly", "comments-page", settable=False, navigable=False),
    _system("worklog", "Log Work", "readonly", "array", items="worklog", settable=False, navigable=False),
    _system("issuelinks", "Linked Issues", "readonly", "array", items="issuelinks", settable=False,
            clause_names=("issueLink",)),
)

CUSTOM_FIELDS: tuple[FieldDef, ...] = (
    _custom(10050, "Salesforce ID", "string", "string", "textfield", max_length=255),
    _custom(10051, "Account Name", "string", "string", "textfield", max_length=255),
    _custom(10052, "Deal Amount", "number", "number", "float"),
    _custom(10053, "Close Date", "date", "date", "datepicker"),
    _custom(10054, "Customer Email", "string", "string", "textfield", max_length=255),
    _custom(10055, "Salesforce Stage", "option", "option", "select", options=STAGE_OPTIONS),
    _custom(10056, "Salesforce URL", "url", "string", "url", max_length=255),
    # Multi-line text: takes Atlassian Document Format in v3, like description.
    _custom(10057, "Sync Notes", "text", "string", "textarea"),
)

ALL_FIELDS: dict[str, FieldDef] = {f.id: f for f in (*SYSTEM_FIELDS, *CUSTOM_FIELDS)}
NAVIGABLE: tuple[str, ...] = tuple(f.id for f in ALL_FIELDS.values() if f.navigable)
TEXT_FIELDS: tuple[str, ...] = tuple(f.id for f in ALL_FIELDS.values() if f.kind == "text")

# Fields the create screen of every issue type requires, besides per-type custom requirements.
ALWAYS_REQUIRED = ("project", "issuetype", "summary")
# Create-screen fields per issue type: everything settable; parent only below the epic level.
CREATE_SCREEN: tuple[str, ...] = tuple(f.id for f in ALL_FIELDS.values() if f.settable)


def by_clause_name(name: str) -> FieldDef | None:
    """Resolve a JQL field reference: `cf[10050]`, a clause name, or a custom field's name (any case)."""
    wanted = name.casefold()
    for f in ALL_FIELDS.values():
        if any(c.casefold() == wanted for c in f.clause_names):
            return f
    return None


def option_id(fdef: FieldDef, value: str) -> str | None:
    if value in fdef.options:
        return value
    wanted = value.casefold()
    return next((oid for oid, v in fdef.options.items() if v.casefold() == wanted), None)
