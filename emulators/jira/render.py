"""Representations of issues and the things on them, for the current call's API version and mode."""

from __future__ import annotations

from typing import Any

from emulators.jira import adf, catalog
from emulators.jira.context import Call
from emulators.jira.fields import ALL_FIELDS, NAVIGABLE, FieldDef
from emulators.jira.store import Comment, History, Issue, Link, Worklog

ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


# -- reference data ---------------------------------------------------------------------------------

def status_category(call: Call, cat: catalog.StatusCategory) -> dict[str, Any]:
    return {"self": call.api(f"statuscategory/{cat.id}"), "id": cat.id, "key": cat.key,
            "colorName": cat.color, "name": cat.name}


def status(call: Call, status_id: str) -> dict[str, Any]:
    s = catalog.STATUSES[status_id]
    return {"self": call.api(f"status/{s.id}"), "description": s.description,
            "iconUrl": f"{call.env.base_url}/images/icons/statuses/generic.png", "name": s.name, "id": s.id,
            "statusCategory": status_category(call, s.category)}


def issuetype(call: Call, type_id: str) -> dict[str, Any]:
    t = catalog.ISSUE_TYPES[type_id]
    return {"self": call.api(f"issuetype/{t.id}"), "id": t.id, "description": t.description,
            "iconUrl": f"{call.env.base_url}/secure/viewavatar?size=medium&avatarId={10300 + int(t.id) % 100}",
            "name": t.name, "subtask": False, "avatarId": 10300 + int(t.id) % 100, "hierarchyLevel": t.hierarchy_level}


def priority(call: Call, priority_id: str | None) -> dict[str, Any] | None:
    if priority_id is None:
        return None
    p = catalog.PRIORITIES[priority_id]
    return {"self": call.api(f"priority/{p.id}"), "iconUrl": f"{call.env.base_url}/images/icons/priorities/"
            f"{p.name.lower()}.svg", "name": p.name, "id": p.id}


def avatar_urls(call: Call, pid: str) -> dict[str, str]:
    base = f"{call.env.base_url}/secure/projectavatar?pid={pid}"
    return {"48x48": base, "24x24": base + "&size=small", "16x16": base + "&size=xsmall",
            "32x32": base + "&size=medium"}


def project_ref(call: Call, key: str) -> dict[str, Any]:
    p = catalog.PROJECTS[key]
    return {"self": call.api(f"project/{p.id}"), "id": p.id, "key": p.key, "name": p.name,
            "projectTypeKey": "software", "simplified": False, "avatarUrls": avatar_urls(call, p.id)}


def version(call: Call, project: catalog.Project, v: catalog.Version) -> dict[str, Any]:
    return {"self": call.api(f"version/{v.id}"), "id": v.id, "name": v.name, "description": "",
            "archived": False, "released": v.released, "projectId": int(project.id)}


def link_type(call: Call, t: catalog.LinkType) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "inward": t.inward, "outward": t.outward,
            "self": call.api(f"issueLinkType/{t.id}")}


def transition(call: Call, t: catalog.Transition, with_fields: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": t.id, "name": t.name, "to": status(call, t.target), "hasScreen": False,
                           "isGlobal": False, "isInitial": False, "isAvailable": True, "isConditional": False,
                           "looped": False}
    if with_fields:
        out["fields"] = {}
    return out


def text(call: Call, doc: dict[str, Any] | None) -> Any:
    return doc if call.rich_text else adf.to_plain(doc)


def time_spent(seconds: int) -> str:
    """Jira's duration text with its default 5-day week and 8-hour day."""
    parts = []
    for unit, size in (("w", 5 * 8 * 3600), ("d", 8 * 3600), ("h", 3600), ("m", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0m"


# -- things hanging off an issue ----------------------------------------------------------------------

def comment(call: Call, c: Comment) -> dict[str, Any]:
    return {"self": call.api(f"issue/{c.issue_id}/comment/{c.id}"), "id": str(c.id), "author": call.user(c.author),
            "body": text(call, c.body), "updateAuthor": call.user(c.update_author), "created": call.ts(c.created),
            "updated": call.ts(c.updated), "jsdPublic": True}


def comments_page(call: Call, comments: list[Comment], start: int = 0, limit: int = 5000) -> dict[str, Any]:
    page = comments[start:start + limit]
    return {"comments": [comment(call, c) for c in page], "maxResults": limit, "total": len(comments),
            "startAt": start}


def worklog(call: Call, w: Worklog) -> dict[str, Any]:
    out = {"self": call.api(f"issue/{w.issue_id}/worklog/{w.id}"), "author": call.user(w.author),
           "updateAuthor": call.user(w.author), "created": call.ts(w.created), "updated": call.ts(w.updated),
           "started": call.ts(w.started), "timeSpent": time_spent(w.seconds), "timeSpentSeconds": w.seconds,
           "id": str(w.id), "issueId": str(w.issue_id)}
    if w.comment is not None:
        out["comment"] = text(call, w.comment)
    return out


def worklogs_page(call: Call, worklogs: list[Worklog], start: int = 0, limit: int = 5000) -> dict[str, Any]:
    page = worklogs[start:start + limit]
    return {"startAt": start, "maxResults": limit, "total": len(worklogs),
            "worklogs": [worklog(call, w) for w in page]}


def linked_issue(call: Call, issue: Issue) -> dict[str, Any]:
    return {"id": str(issue.id), "key": issue.key, "self": call.api(f"issue/{issue.id}"),
            "fields": {"summary": issue.fields.get("summary"), "status": status(call, issue.status),
                       "priority": priority(call, issue.priority), "issuetype": issuetype(call, issue.issuetype)}}


def history(call: Call, h: History) -> dict[str, Any]:
    return {"id": str(h.id), "author": call.user(h.author), "created": call.ts(h.created), "items": h.items}


def changelog_page(call: Call, histories: list[History]) -> dict[str, Any]:
    return {"startAt": 0, "maxResults": len(histories), "total": len(histories),
            "histories": [history(call, h) for h in histories]}


# -- field selection ------------------------------------------------------------------------------------

def select_fields(requested: list[str] | None, default: str) -> list[str]:
    """Resolve a `fields` parameter (`*all`, `*navigable`, ids, `-id` exclusions) to field ids."""
    tokens = requested or [default]
    if all(t.startswith("-") for t in tokens):
        tokens = [default, *tokens]
    chosen: list[str] = []
    excluded = {t[1:] for t in tokens if t.startswith("-")}
    for token in tokens:
        if token == "*all":
            chosen.extend(ALL_FIELDS)
        elif token == "*navigable":
            chosen.extend(NAVIGABLE)
        elif token in ALL_FIELDS:
            chosen.append(token)
    return [f for f in dict.fromkeys(chosen) if f not in excluded]


class IssueRenderer:
    """Renders a page of issues, loading what the selected fields need in one query per kind."""

    def __init__(self, call: Call, issues: list[Issue], field_ids: list[str], expand: set[str],
                 properties: list[str] | None = None) -> None:
        self.call = call
        self.issues = issues
        self.field_ids = field_ids
        self.expand = expand
        self.properties = properties
        store, ids = call.store, [i.id for i in issues]
        self.comments = store.comments_for(ids) if "comment" in field_ids else {}
        self.worklogs = store.worklogs_for(ids) if "worklog" in field_ids else {}
        self.links = store.links_for(ids) if "issuelinks" in field_ids else {}
        self.histories = store.histories_for(ids) if "changelog" in expand else {}
        self.props = store.properties_for(ids, None if properties == ["*all"] else properties) if properties else {}
        related = {p for i in issues if "parent" in field_ids and (p := i.parent_id)}
        related |= {side for links in self.links.values() for link in links for side in (link.inward_id,
                                                                                      link.outward_id)}
        self.related = {i.id: i for i in store.issues_by_ids(sorted(related))}

    def render(self, issue: Issue, per_issue_meta: bool = False) -> dict[str, Any]:
        call = self.call
        out: dict[str, Any] = {"expand": ISSUE_EXPAND, "id": str(issue.id), "self": call.api(f"issue/{issue.id}"),
                               "key": issue.key}
        if "transitions" in self.expand:
            out["transitions"] = [transition(call, t) for t in catalog.transitions_from(issue.status)]
        if self.properties:
            out["properties"] = self.props.get(issue.id, {})
        if per_issue_meta:
            out.update(self.meta())
        if "changelog" in self.expand:
            out["changelog"] = changelog_page(call, self.histories.get(issue.id, []))
        out["fields"] = {fid: value for fid in self.field_ids
                         if (value := self.value(issue, fid)) is not _OMIT}
        return out

    def meta(self) -> dict[str, Any]:
        """`names` and `schema` for the selected fields, as the expand options ask."""
        out: dict[str, Any] = {}
        if "names" in self.expand:
            out["names"] = {fid: ALL_FIELDS[fid].name for fid in self.field_ids}
        if "schema" in self.expand:
            out["schema"] = {fid: ALL_FIELDS[fid].schema for fid in self.field_ids}
        return out

    def value(self, issue: Issue, fid: str) -> Any:
        call, fdef = self.call, ALL_FIELDS[fid]
        simple = _SIMPLE.get(fid)
        if simple is not None:
            return simple(call, issue)
        if fid == "parent":
            parent = self.related.get(issue.parent_id) if issue.parent_id else None
            return linked_issue(call, parent) if parent else _OMIT
        if fid == "comment":
            return comments_page(call, self.comments.get(issue.id, []))
        if fid == "worklog":
            return worklogs_page(call, self.worklogs.get(issue.id, []))
        if fid == "issuelinks":
            return [self.link(issue, link) for link in self.links.get(issue.id, [])]
        return custom_value(call, fdef, issue.fields.get(fid))

    def link(self, issue: Issue, link: Link) -> dict[str, Any]:
        call = self.call
        out: dict[str, Any] = {"id": str(link.id), "self": call.api(f"issueLink/{link.id}"),
                               "type": link_type(call, catalog.LINK_TYPES[link.type_id])}
        if link.inward_id == issue.id and link.outward_id in self.related:
            out["outwardIssue"] = linked_issue(call, self.related[link.outward_id])
        elif link.inward_id in self.related:
            out["inwardIssue"] = linked_issue(call, self.related[link.inward_id])
        return out


_OMIT = object()


def custom_value(call: Call, fdef: FieldDef, value: Any) -> Any:
    if value is None:
        return None
    if fdef.kind == "text":
        return text(call, value)
    if fdef.kind == "option":
        return {"self": f"{call.env.base_url}/rest/api/{call.version}/customFieldOption/{value}",
                "value": fdef.options[value], "id": value}
    return value


def _versions(call: Call, issue: Issue) -> list[dict[str, Any]]:
    project = catalog.PROJECTS[issue.project]
    by_id = {v.id: v for v in project.versions}
    return [version(call, project, by_id[v]) for v in issue.fields.get("fixVersions", []) if v in by_id]


def _resolution(call: Call, issue: Issue) -> dict[str, Any] | None:
    if not issue.fields.get("resolution"):
        return None
    return {"self": call.api(f"resolution/{catalog.RESOLUTION_DONE['id']}"), **catalog.RESOLUTION_DONE}


_SIMPLE = {
    "summary": lambda call, i: i.fields.get("summary"),
    "description": lambda call, i: text(call, i.fields.get("description")),
    "issuetype": lambda call, i: issuetype(call, i.issuetype),
    "project": lambda call, i: project_ref(call, i.project),
    "status": lambda call, i: status(call, i.status),
    "priority": lambda call, i: priority(call, i.priority),
    "assignee": lambda call, i: call.user(i.fields.get("assignee")),
    "reporter": lambda call, i: call.user(i.fields.get("reporter")),
    "creator": lambda call, i: call.user(i.fields.get("creator")),
    "labels": lambda call, i: list(i.fields.get("labels", [])),
    "fixVersions": _versions,
    "resolution": _resolution,
    "resolutiondate": lambda call, i: call.ts(i.fields.get("resolutiondate")),
    "created": lambda call, i: call.ts(i.created),
    "updated": lambda call, i: call.ts(i.updated),
}
