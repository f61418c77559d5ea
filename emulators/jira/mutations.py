"""Applying validated changes to an issue: `updated`, the changelog entry, status and resolution."""

from __future__ import annotations

from typing import Any

from emulators.jira import adf, catalog, webhook_delivery
from emulators.jira.context import Call
from emulators.jira.fields import ALL_FIELDS
from emulators.jira.store import Comment, Issue
from emulators.jira.writes import Changes

COLUMN_FIELDS = {"issuetype": "issuetype", "priority": "priority", "parent": "parent_id", "status": "status"}


def get_value(issue: Issue, fid: str) -> Any:
    column = COLUMN_FIELDS.get(fid)
    return getattr(issue, column) if column else issue.fields.get(fid)


def set_value(issue: Issue, fid: str, value: Any) -> None:
    column = COLUMN_FIELDS.get(fid)
    if column:
        setattr(issue, column, value)
    elif value in (None, []) and fid not in ("labels", "fixVersions"):
        issue.fields.pop(fid, None)
    else:
        issue.fields[fid] = value


def apply_changes(call: Call, issue: Issue, changes: Changes, extra: list[dict[str, Any]] | None = None,
                  notify: bool = True) -> bool:
    """Write the changes; one changelog entry for all of them. False when nothing changed. With `notify`,
    webhooks hear of it (a create passes False: its transition is part of `jira:issue_created`)."""
    items = []
    for fid, new in changes.values.items():
        old = get_value(issue, fid)
        if old == new or (old in (None, []) and new in (None, [])):
            continue
        items.append(change_item(call, fid, old, new))
        set_value(issue, fid, new)
    items.extend(extra or [])
    if not items and not changes.comments:
        return False
    store = call.store
    with store.tx():
        issue.updated = store.write_ms()
        store.save_issue(issue)
        if items:
            store.add_history(issue.id, call.me.account_id, issue.updated, items)
        comments = [add_comment(call, issue, body, issue.updated) for body in changes.comments]
    if notify:
        webhook_delivery.issue_updated(call, issue, items, comments)
    return True


def add_comment(call: Call, issue: Issue, body: dict[str, Any], stamp: int) -> Comment:
    me = call.me.account_id
    comment = Comment(call.store.next_id("comment"), issue.id, me, me, body, stamp, stamp)
    call.store.add_comment(comment)
    return comment


def status_items(call: Call, issue: Issue, target: str) -> list[dict[str, Any]]:
    """Move the issue to `target`, setting or clearing the resolution with the done category."""
    items = [change_item(call, "status", issue.status, target)]
    done = catalog.STATUSES[target].category.key == "done"
    resolved = bool(issue.fields.get("resolution"))
    issue.status = target
    if done and not resolved:
        issue.fields["resolution"] = catalog.RESOLUTION_DONE["id"]
        issue.fields["resolutiondate"] = call.store.now_ms()
        items.append(change_item(call, "resolution", None, catalog.RESOLUTION_DONE["id"]))
    elif not done and resolved:
        issue.fields.pop("resolution", None)
        issue.fields.pop("resolutiondate", None)
        items.append(change_item(call, "resolution", catalog.RESOLUTION_DONE["id"], None))
    return items


def change_item(call: Call, fid: str, old: Any, new: Any) -> dict[str, Any]:
    fdef = ALL_FIELDS[fid]
    item: dict[str, Any] = {
        "field": fdef.name if fdef.custom else ("IssueParentAssociation" if fid == "parent" else fid),
        "fieldtype": "custom" if fdef.custom else "jira",
        "fieldId": fid,
        "from": _raw(call, fid, old),
        "fromString": _display(call, fid, old),
        "to": _raw(call, fid, new),
        "toString": _display(call, fid, new),
    }
    # The spec types these as plain strings, so absent values are left out rather than sent as null.
    return {k: v for k, v in item.items() if v is not None}


def _raw(call: Call, fid: str, value: Any) -> str | None:
    kind = ALL_FIELDS[fid].kind
    if value is None or kind in ("summary", "text", "string", "url", "number", "date", "labels"):
        return None
    if kind == "user":
        found = call.env.directory.by_account_id(value)
        return found.account_id if call.cloud or found is None else found.name
    if kind == "versions":
        return ", ".join(value) or None
    return str(value)


def _display(call: Call, fid: str, value: Any) -> str | None:
    if value is None or value == []:
        return None
    kind = ALL_FIELDS[fid].kind
    names: dict[str, Any] = {
        "status": lambda v: catalog.STATUSES[v].name,
        "priority": lambda v: catalog.PRIORITIES[v].name,
        "issuetype": lambda v: catalog.ISSUE_TYPES[v].name,
        "resolution": lambda v: catalog.RESOLUTION_DONE["name"],
    }
    if fid in names:
        return str(names[fid](value))
    if kind == "text":
        return adf.to_plain(value)
    if kind == "user":
        found = call.env.directory.by_account_id(value)
        return found.display_name if found else value
    if kind == "labels":
        return " ".join(value)
    if kind == "versions":
        by_id = {v.id: v.name for p in catalog.PROJECTS.values() for v in p.versions}
        return ", ".join(by_id.get(v, v) for v in value)
    if kind == "option":
        return str(ALL_FIELDS[fid].options.get(value, value))
    if kind == "parent":
        parent = call.store.find_issue(str(value))
        return parent.key if parent else str(value)
    if kind == "number":
        return f"{value:g}"
    return str(value)
