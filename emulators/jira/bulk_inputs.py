"""Reading a bulk edit's `editedFieldsInput` (Jira Cloud's JiraIssueFields) into one edit per field.

Bulk edit takes one value per field for all the selected issues, in a typed shape per kind of field:
text in `singleLineTextFields`, rich text (ADF only) in `richTextFields`, labels and versions with an
ADD/REPLACE/REMOVE/REMOVE_ALL option, `priority` by id, numbers in `clearableNumberFields`, select
options by `optionId`, dates as `formattedDate`, users by `accountId`. Fields that bulk edit cannot
change here (project, issue type, parent, status, read-only fields) are refused for the whole request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulators.jira import adf, catalog
from emulators.jira.context import Call
from emulators.jira.errors import JiraError
from emulators.jira.fields import ALL_FIELDS, FieldDef
from emulators.jira.store import Issue
from emulators.jira.writes import FieldReader, FieldValueError

MAX_FIELDS = 200
# editedFieldsInput member -> (the field kinds it edits, the member holding the value)
LISTS: dict[str, tuple[tuple[str, ...], str]] = {
    "singleLineTextFields": (("summary", "string"), "text"),
    "richTextFields": (("text",), "richText"),
    "labelsFields": (("labels",), "labels"),
    "clearableNumberFields": (("number",), "value"),
    "singleSelectFields": (("option",), "option"),
    "urlFields": (("url",), "url"),
    "datePickerFields": (("date",), "date"),
    "singleSelectClearableUserPickerFields": (("user",), "user"),
    "multipleVersionPickerFields": (("versions",), "versions"),
}
MULTI_OPTIONS = ("ADD", "REMOVE", "REPLACE", "REMOVE_ALL")

# An edit gives an issue's new value of its field from the current one (labels may ADD or REMOVE).
Edit = Callable[[Issue], Any]


class BulkRequestError(JiraError):
    """A bulk request refused as a whole: Jira's BulkOperationErrorResponse `{"errors": [{"message"}]}`."""

    def __init__(self, message: str) -> None:
        super().__init__(400, [message])

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": m} for m in self.messages]}


def read_edits(call: Call, fields_input: Any, actions: list[str]) -> dict[str, Edit]:
    """{field id: edit} of a bulk edit, checked against `selectedActions` and the field kinds."""
    if not isinstance(fields_input, dict):
        raise BulkRequestError("editedFieldsInput must be an object.")
    reader = FieldReader(call)
    edits: dict[str, Edit] = {}
    for member, entries in fields_input.items():
        if member == "priority":
            edits["priority"] = _fixed(reader, "priority", {"id": (entries or {}).get("priorityId")})
        elif member in LISTS:
            kinds, value_key = LISTS[member]
            for entry in entries if isinstance(entries, list) else []:
                fid = str(entry.get("fieldId"))
                fdef = ALL_FIELDS.get(fid)
                if fdef is None or not fdef.settable or fdef.kind not in kinds:
                    raise BulkRequestError(f"The field {fid} cannot be edited through {member}.")
                edits[fid] = _edit(reader, fdef, value_key, entry)
        else:
            raise BulkRequestError(f"Bulk edit of {member} is not supported by this site.")
    unlisted = sorted(set(edits) - set(actions))
    if unlisted:
        raise BulkRequestError(f"The following editedFieldInput values are not listed as selectedActions : "
                               f"{', '.join(unlisted)}")
    missing = sorted(set(actions) - set(edits))
    if missing:
        raise BulkRequestError(f"The following selectedActions have no value in editedFieldsInput : "
                               f"{', '.join(missing)}")
    if len(edits) > MAX_FIELDS:
        raise BulkRequestError(f"A bulk edit can change at most {MAX_FIELDS} fields; this one changes {len(edits)}.")
    return edits


def _fixed(reader: FieldReader, fid: str, raw: Any) -> Edit:
    fdef = ALL_FIELDS[fid]
    try:
        value = reader.convert(fdef, raw, next(iter(catalog.PROJECTS)))
    except FieldValueError as exc:
        raise BulkRequestError(f"{fdef.name}: {exc}") from None
    return lambda _issue: value


def _edit(reader: FieldReader, fdef: FieldDef, value_key: str, entry: dict[str, Any]) -> Edit:
    raw = entry.get(value_key)
    if fdef.kind == "text":
        doc = (raw or {}).get("adfValue") if isinstance(raw, dict) else None
        if doc is None:
            return lambda _issue: None  # an empty richText object clears the field
        try:
            adf.validate(doc)
        except adf.AdfError:
            raise BulkRequestError(f"{fdef.name}: rich text fields only take an Atlassian Document.") from None
        return lambda _issue: doc
    if fdef.kind in ("labels", "versions"):
        return _multi(reader, fdef, entry, raw)
    wire: Any = raw
    if fdef.kind == "option":
        option = (raw or {}).get("optionId")
        wire = None if option in (None, -1) else {"id": str(option)}
    elif fdef.kind == "date":
        wire = (raw or {}).get("formattedDate") if isinstance(raw, dict) else None
    elif fdef.kind == "user":
        wire = None if raw is None else {"accountId": raw.get("accountId")}
    elif fdef.kind == "summary" and raw == "":
        wire = ""
    return lambda issue: reader.convert(fdef, wire, issue.project, issue)


def _multi(reader: FieldReader, fdef: FieldDef, entry: dict[str, Any], raw: Any) -> Edit:
    option = entry.get("bulkEditMultiSelectFieldOption")
    if option not in MULTI_OPTIONS:
        raise BulkRequestError(f"{fdef.name}: bulkEditMultiSelectFieldOption must be one of {', '.join(MULTI_OPTIONS)}.")
    items = raw if isinstance(raw, list) else []
    wire = [i.get("name") for i in items] if fdef.kind == "labels" else [{"id": i.get("versionId")} for i in items]

    def edit(issue: Issue) -> Any:
        given = reader.convert(fdef, wire, issue.project, issue)
        held = list(issue.fields.get(fdef.id) or [])
        if option == "REPLACE":
            return given
        if option == "REMOVE_ALL":
            return []
        if option == "ADD":
            return [*held, *(v for v in given if v not in held)]
        return [v for v in held if v not in given]

    return edit
