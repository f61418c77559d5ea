"""Turning create/edit request bodies into stored field values, with Jira's validation messages.

Every problem is collected per field and reported together, as Jira does:
`{"errorMessages": [], "errors": {"<field>": "<message>"}}`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from emulators.jira import adf, catalog
from emulators.jira.context import Call
from emulators.jira.errors import JiraError, field_errors
from emulators.jira.fields import ALL_FIELDS, CREATE_SCREEN, FieldDef, option_id
from emulators.jira.store import Issue

CANNOT_SET = "Field '{0}' cannot be set. It is not on the appropriate screen, or unknown."
NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
NOT_STRING = "Operation value must be a string"
TEXT_LIMIT = 32767
PROPERTY_VALUE_LIMIT = 32768
PROPERTY_KEY_LIMIT = 255


class FieldValueError(ValueError):
    pass


@dataclass
class Changes:
    """The outcome of reading a create/edit body: new field values plus side effects to apply."""

    values: dict[str, Any] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)  # ADF bodies from update.comment.add
    errors: dict[str, str] = field(default_factory=dict)

    def raise_errors(self) -> None:
        if self.errors:
            raise field_errors(self.errors)


class FieldReader:
    def __init__(self, call: Call) -> None:
        self.call = call

    # -- entry points -----------------------------------------------------------------------------------

    def for_create(self, body: dict[str, Any]) -> tuple[str, str, Changes]:
        """Project key, issue type id and the validated values of a create request."""
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise field_errors({"project": "Specify a valid project ID or key",
                                "issuetype": "Specify an issue type"}) if fields is None else \
                JiraError(400, ["The 'fields' member must be an object."])
        changes = Changes()
        project = self._project(fields.get("project"), changes.errors)
        type_id = self._issuetype(fields.get("issuetype"), project, changes.errors) if project else None
        if project is None or type_id is None:
            changes.raise_errors()
        assert project is not None and type_id is not None
        rest = {k: v for k, v in fields.items() if k not in ("project", "issuetype")}
        self._read(rest, body.get("update"), changes, project.key, type_id)
        self._require(changes, project.key, type_id, creating=True)
        changes.raise_errors()
        return project.key, type_id, changes

    def for_edit(self, body: dict[str, Any], issue: Issue) -> Changes:
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            raise JiraError(400, ["The 'fields' member must be an object."])
        changes = Changes()
        if "project" in fields:
            changes.errors["project"] = CANNOT_SET.format("project")
        rest = {k: v for k, v in fields.items() if k != "project"}
        if "issuetype" in rest:
            type_id = self._issuetype(rest.pop("issuetype"), catalog.PROJECTS[issue.project], changes.errors)
            if type_id:
                changes.values["issuetype"] = type_id
        self._read(rest, body.get("update"), changes, issue.project,
                   changes.values.get("issuetype", issue.issuetype), current=issue)
        self._require(changes, issue.project, changes.values.get("issuetype", issue.issuetype), creating=False)
        changes.raise_errors()
        return changes

    # -- project and issue type -----------------------------------------------------------------------

    def _project(self, raw: Any, errors: dict[str, str]) -> catalog.Project | None:
        if raw is None:
            errors["project"] = "Specify a valid project ID or key"
            return None
        ref = raw if isinstance(raw, str) else (raw.get("key") or raw.get("id")) if isinstance(raw, dict) else None
        project = catalog.project_by_id_or_key(str(ref)) if ref is not None else None
        if project is None:
            errors["project"] = "valid project is required"
        return project

    def _issuetype(self, raw: Any, project: catalog.Project, errors: dict[str, str]) -> str | None:
        if raw is None:
            errors["issuetype"] = "Specify an issue type"
            return None
        type_id = None
        if isinstance(raw, dict):
            if raw.get("id") is not None:
                type_id = str(raw["id"])
            elif isinstance(raw.get("name"), str):
                type_id = catalog.find_by_name(catalog.ISSUE_TYPES, raw["name"])  # type: ignore[arg-type]
        if type_id not in project.issue_type_ids:
            errors["issuetype"] = "The issue type selected is invalid."
            return None
        return type_id

    # -- everything else --------------------------------------------------------------------------------

    def _read(self, fields: dict[str, Any], update: Any, changes: Changes, project: str, type_id: str,
              current: Issue | None = None) -> None:
        for fid, raw in fields.items():
            fdef = self._settable(fid, type_id, changes.errors)
            if fdef is None:
                continue
            try:
                changes.values[fid] = self.convert(fdef, raw, project, current)
            except FieldValueError as exc:
                changes.errors[fid] = str(exc)
        if update is None:
            return
        if not isinstance(update, dict):
            raise JiraError(400, ["The 'update' member must be an object."])
        for fid, ops in update.items():
            if fid in fields:
                changes.errors[fid] = f"Field '{fid}' cannot be set in both 'fields' and 'update'."
                continue
            self._apply_ops(fid, ops, changes, project, type_id, current)

    def _settable(self, fid: str, type_id: str, errors: dict[str, str]) -> FieldDef | None:
        fdef = ALL_FIELDS.get(fid)
        on_screen = fdef is not None and fid in CREATE_SCREEN
        if on_screen and fid == "parent" and catalog.ISSUE_TYPES[type_id].hierarchy_level > 0:
            on_screen = False  # epics sit at the top of this site's hierarchy
        if not on_screen:
            errors[fid] = CANNOT_SET.format(fid)
            return None
        return fdef

    def _apply_ops(self, fid: str, ops: Any, changes: Changes, project: str, type_id: str,
                   current: Issue | None) -> None:
        if fid == "comment":
            for op in ops if isinstance(ops, list) else []:
                body = (op.get("add") or {}).get("body") if isinstance(op, dict) else None
                try:
                    changes.comments.append(self.comment_body(body))
                except FieldValueError as exc:
                    changes.errors["comment"] = str(exc)
            return
        fdef = self._settable(fid, type_id, changes.errors)
        if fdef is None:
            return
        if not isinstance(ops, list) or not all(isinstance(op, dict) and len(op) == 1 for op in ops):
            changes.errors[fid] = "Field operations must be a list of single-operation objects, e.g. [{\"set\": ...}]"
            return
        value = changes.values.get(fid, (current.fields.get(fid) if current else None))
        try:
            for op in ops:
                (verb, arg), = op.items()
                value = self._operate(fdef, verb, arg, value, project, current)
        except FieldValueError as exc:
            changes.errors[fid] = str(exc)
            return
        changes.values[fid] = value

    def _operate(self, fdef: FieldDef, verb: str, arg: Any, value: Any, project: str, current: Issue | None) -> Any:
        if verb == "set":
            return self.convert(fdef, arg, project, current)
        if verb in ("add", "remove") and fdef.kind in ("labels", "versions"):
            items = list(value or [])
            (item,) = self.convert(fdef, [arg], project, current)
            if verb == "add":
                return items if item in items else [*items, item]
            return [i for i in items if i != item]
        raise FieldValueError(f"The operation '{verb}' is not supported for the field '{fdef.id}'.")

    def check_required(self, changes: Changes, issue: Issue) -> None:
        """Record in `changes.errors` the required fields an edit of `issue` would leave empty."""
        self._require(changes, issue.project, changes.values.get("issuetype", issue.issuetype), creating=False)

    def _require(self, changes: Changes, project: str, type_id: str, creating: bool) -> None:
        values = changes.values
        if (creating or "summary" in values) and not values.get("summary") and "summary" not in changes.errors:
            changes.errors["summary"] = "You must specify a summary of the issue."
        for fid in self.call.settings.required_for(project, catalog.ISSUE_TYPES[type_id].name):
            if fid in changes.errors or (not creating and fid not in values):
                continue
            if values.get(fid) in (None, "", []):
                changes.errors[fid] = f"{ALL_FIELDS[fid].name} is required."

    # -- value conversion -------------------------------------------------------------------------------

    def convert(self, fdef: FieldDef, raw: Any, project: str, current: Issue | None = None) -> Any:
        return getattr(self, f"_to_{fdef.kind}")(fdef, raw, project, current)

    def _to_summary(self, fdef: FieldDef, raw: Any, *_: Any) -> str:
        if not isinstance(raw, str):
            raise FieldValueError(NOT_STRING)
        if len(raw) > 255:
            raise FieldValueError("Summary must be less than 255 characters.")
        if not raw.strip():
            raise FieldValueError("You must specify a summary of the issue.")
        return raw

    def _to_text(self, fdef: FieldDef, raw: Any, *_: Any) -> dict[str, Any] | None:
        if raw is None:
            return None
        if self.call.rich_text:
            try:
                doc = adf.validate(raw)
            except adf.AdfError:
                raise FieldValueError(NOT_ADF) from None
        else:
            if not isinstance(raw, str):
                raise FieldValueError(NOT_STRING)
            if not raw:
                return None
            doc = adf.from_plain(raw)
        if len(adf.to_plain(doc) or "") > TEXT_LIMIT:
            raise FieldValueError("The entered text is too long. It exceeds the allowed limit of 32,767 characters.")
        return doc

    def comment_body(self, raw: Any) -> dict[str, Any]:
        if raw is None or raw == "":
            raise FieldValueError("Comment body can not be empty!")
        doc = self._to_text(ALL_FIELDS["description"], raw)
        if doc is None or not (adf.to_plain(doc) or "").strip():
            raise FieldValueError("Comment body can not be empty!")
        return doc

    def _to_string(self, fdef: FieldDef, raw: Any, *_: Any) -> str | None:
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str):
            raise FieldValueError(NOT_STRING)
        if fdef.max_length and len(raw) > fdef.max_length:
            raise FieldValueError(f"The entered text is too long. It exceeds the allowed limit of {fdef.max_length} "
                                  "characters.")
        return raw

    def _to_url(self, fdef: FieldDef, raw: Any, *rest: Any) -> str | None:
        value = self._to_string(fdef, raw, *rest)
        if value is not None and not value.startswith(("http://", "https://")):
            raise FieldValueError(f"Not a valid URL: '{value}'")
        return value

    def _to_number(self, fdef: FieldDef, raw: Any, *_: Any) -> float | None:
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise FieldValueError("Operation value must be a number")
        return float(raw)

    def _to_date(self, fdef: FieldDef, raw: Any, *_: Any) -> str | None:
        if raw is None or raw == "":
            return None
        if isinstance(raw, str) and len(raw) == 10:
            try:
                return dt.date.fromisoformat(raw).isoformat()
            except ValueError:
                pass
        raise FieldValueError(f"Error parsing date string: {raw}")

    def _to_option(self, fdef: FieldDef, raw: Any, *_: Any) -> str | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or not ({"id", "value"} & raw.keys()):
            raise FieldValueError("Could not find valid 'id' or 'value' in the Parent Option object.")
        if "id" in raw:
            if str(raw["id"]) not in fdef.options:
                raise FieldValueError(f"Option id '{raw['id']}' is not valid")
            return str(raw["id"])
        found = option_id(fdef, str(raw["value"]))
        if found is None or fdef.options[found] != raw["value"]:
            raise FieldValueError(f"Option value '{raw['value']}' is not valid")
        return found

    def _to_user(self, fdef: FieldDef, raw: Any, *_: Any) -> str | None:
        if raw is None:
            return None
        directory = self.call.env.directory
        if not isinstance(raw, dict):
            raise FieldValueError("expected Object")
        if self.call.cloud:
            found = directory.by_account_id(str(raw.get("accountId") or raw.get("id") or ""))
            if found is None:
                raise FieldValueError("Specified user does not exist or you do not have required permissions")
        else:
            name = str(raw.get("name") or raw.get("key") or "")
            found = directory.by_name_or_key(name)
            if found is None:
                raise FieldValueError(f"User '{name}' does not exist.")
        return found.account_id

    def _to_priority(self, fdef: FieldDef, raw: Any, *_: Any) -> str:
        pid = None
        if isinstance(raw, dict):
            if raw.get("id") is not None:
                pid = str(raw["id"]) if str(raw["id"]) in catalog.PRIORITIES else None
            elif isinstance(raw.get("name"), str):
                pid = catalog.find_by_name(catalog.PRIORITIES, raw["name"])  # type: ignore[arg-type]
        if pid is None:
            raise FieldValueError("The priority selected is invalid.")
        return pid

    def _to_labels(self, fdef: FieldDef, raw: Any, *_: Any) -> list[str]:
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise FieldValueError("Operation value must be an array of strings")
        for label in raw:
            if not label or any(c.isspace() for c in label):
                raise FieldValueError(f"The label '{label}' contains spaces which is invalid.")
            if len(label) > 255:
                raise FieldValueError("The label is too long. It exceeds the allowed limit of 255 characters.")
        return list(dict.fromkeys(raw))

    def _to_versions(self, fdef: FieldDef, raw: Any, project: str, *_: Any) -> list[str]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise FieldValueError("Operation value must be an array")
        versions = catalog.PROJECTS[project].versions
        ids = []
        for ref in raw:
            ref = ref if isinstance(ref, dict) else {}
            if ref.get("id") is not None:
                match = next((v for v in versions if v.id == str(ref["id"])), None)
                if match is None:
                    raise FieldValueError(f"Version id '{ref['id']}' is not valid")
            else:
                match = next((v for v in versions if v.name == ref.get("name")), None)
                if match is None:
                    raise FieldValueError(f"Version name '{ref.get('name')}' is not valid")
            ids.append(match.id)
        return list(dict.fromkeys(ids))

    def _to_parent(self, fdef: FieldDef, raw: Any, project: str, current: Issue | None) -> int | None:
        if raw is None:
            return None
        ref = raw.get("key") or raw.get("id") if isinstance(raw, dict) else None
        parent = self.call.store.find_issue(str(ref)) if ref else None
        if parent is None:
            raise FieldValueError("Could not find issue by id or key.")
        if catalog.ISSUE_TYPES[parent.issuetype].hierarchy_level != 1 or (current and parent.id == current.id):
            raise FieldValueError("Given parent work item does not belong to appropriate hierarchy.")
        return parent.id


def property_errors(key: str, value: Any) -> str | None:
    """Jira's limits on an entity property; None when the property is acceptable."""
    if not key or len(key) > PROPERTY_KEY_LIMIT:
        return f"The property key must be between 1 and {PROPERTY_KEY_LIMIT} characters long."
    if len(json.dumps(value, ensure_ascii=False, separators=(",", ":"))) > PROPERTY_VALUE_LIMIT:
        return f"The property value cannot be longer than {PROPERTY_VALUE_LIMIT} characters."
    return None
