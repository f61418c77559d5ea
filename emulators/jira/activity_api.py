"""Comments, worklogs and issue links."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from emulators.jira import catalog, render, webhook_delivery
from emulators.jira.context import Call
from emulators.jira.errors import JiraError, JiraJSON, bad_request, field_errors, not_found
from emulators.jira.issues_api import find
from emulators.jira.mutations import add_comment
from emulators.jira.store import Comment, Link, Worklog
from emulators.jira.timefmt import parse_ms
from emulators.jira.writes import FieldReader, FieldValueError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhm])", re.IGNORECASE)
_UNIT_SECONDS = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}


def _touch(call: Call, issue_id: int) -> int:
    """Comments, worklogs and links change the issue's `updated`, as in Jira."""
    issue = call.store.find_issue(str(issue_id))
    assert issue is not None
    issue.updated = call.store.write_ms()
    call.store.save_issue(issue)
    return issue.updated


# -- comments ----------------------------------------------------------------------------------------------

def _comment_body(call: Call, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return FieldReader(call).comment_body(body.get("body"))
    except FieldValueError as exc:
        raise field_errors({"comment": str(exc)}) from None


def _find_comment(call: Call, issue_id: int) -> Comment:
    comment_id = call.path("id")
    match = next((c for c in call.store.comments_for([issue_id]).get(issue_id, []) if str(c.id) == comment_id),
                 None)
    if match is None:
        raise not_found(f"Can not find a comment for the id: {comment_id}.")
    return match


async def list_comments(call: Call) -> Response:
    issue = find(call)
    comments = call.store.comments_for([issue.id]).get(issue.id, [])
    if call.param("orderBy") in ("-created", "-+created"):
        comments = comments[::-1]
    start, limit = call.int_param("startAt", 0), min(call.int_param("maxResults", 5000), 5000)
    return JiraJSON(render.comments_page(call, comments, start, limit))


async def add_comment_route(call: Call) -> Response:
    body = await call.json_object()  # read before loading the issue: no await between read and write
    issue = find(call)
    doc = _comment_body(call, body)
    with call.store.tx():
        stamp = _touch(call, issue.id)
        comment = add_comment(call, issue, doc, stamp)
    webhook_delivery.comment_changed(call, "comment_created", issue, comment)
    return JiraJSON(render.comment(call, comment), status_code=201)


async def get_comment(call: Call) -> Response:
    issue = find(call)
    return JiraJSON(render.comment(call, _find_comment(call, issue.id)))


async def update_comment(call: Call) -> Response:
    body = await call.json_object()
    issue = find(call)
    comment = _find_comment(call, issue.id)
    comment.body = _comment_body(call, body)
    with call.store.tx():
        comment.updated = _touch(call, issue.id)
        comment.update_author = call.me.account_id
        call.store.save_comment(comment)
    webhook_delivery.comment_changed(call, "comment_updated", issue, comment)
    return JiraJSON(render.comment(call, comment))


async def delete_comment(call: Call) -> Response:
    issue = find(call)
    comment = _find_comment(call, issue.id)
    with call.store.tx():
        call.store.delete_comment(comment.id)
        _touch(call, issue.id)
    webhook_delivery.comment_changed(call, "comment_deleted", issue, comment)
    return Response(status_code=204)


# -- worklogs ----------------------------------------------------------------------------------------------

def _seconds(body: dict[str, Any]) -> int:
    if body.get("timeSpentSeconds") is not None:
        seconds = body["timeSpentSeconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
            raise field_errors({"timeLogged": "Time Spent must be a positive number of seconds."})
        return seconds
    spent = body.get("timeSpent")
    parts = _DURATION.findall(spent) if isinstance(spent, str) else []
    if not parts or _DURATION.sub("", spent).strip():
        raise field_errors({"timeLogged": "You must indicate the time spent working."})
    return int(sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in parts))


async def list_worklogs(call: Call) -> Response:
    issue = find(call)
    worklogs = call.store.worklogs_for([issue.id]).get(issue.id, [])
    start, limit = call.int_param("startAt", 0), min(call.int_param("maxResults", 5000), 5000)
    return JiraJSON(render.worklogs_page(call, worklogs, start, limit))


async def add_worklog(call: Call) -> Response:
    body = await call.json_object()
    issue = find(call)
    seconds = _seconds(body)
    raw = body.get("comment")
    empty = raw in (None, "") or (isinstance(raw, dict) and not raw.get("content"))  # an empty ADF doc
    comment = None if empty else _comment_body(call, {"body": raw})
    started = None
    if body.get("started") is not None:
        try:
            started = parse_ms(str(body["started"]))
        except ValueError:
            raise field_errors({"started": "Invalid date format. Please use yyyy-MM-dd'T'HH:mm:ss.SSSZ."}) from None
    with call.store.tx():
        stamp = _touch(call, issue.id)
        me = call.me.account_id
        worklog = Worklog(call.store.next_id("worklog"), issue.id, me, comment, started or stamp, seconds, stamp,
                          stamp)
        call.store.add_worklog(worklog)
    return JiraJSON(render.worklog(call, worklog), status_code=201)


# -- links -------------------------------------------------------------------------------------------------

def _link_type(ref: Any) -> catalog.LinkType:
    ref = ref if isinstance(ref, dict) else {}
    if ref.get("id") is not None and str(ref["id"]) in catalog.LINK_TYPES:
        return catalog.LINK_TYPES[str(ref["id"])]
    name = str(ref.get("name", ""))
    found = catalog.find_by_name(catalog.LINK_TYPES, name)  # type: ignore[arg-type]
    if found is None:
        raise not_found(f"No issue link type with name '{name}' found.")
    return catalog.LINK_TYPES[found]


async def link_issues(call: Call) -> Response:
    body = await call.json_object()
    link_type = _link_type(body.get("type"))
    sides = []
    for side in ("inwardIssue", "outwardIssue"):
        ref = body.get(side) if isinstance(body.get(side), dict) else {}
        issue = call.store.find_issue(str(ref.get("key") or ref.get("id") or ""))
        if issue is None:
            raise not_found(f"Issue Does Not Exist: {side}")
        sides.append(issue)
    inward, outward = sides
    if inward.id == outward.id:
        raise bad_request("You cannot link an issue to itself.")
    comment = _comment_body(call, body["comment"]) if isinstance(body.get("comment"), dict) else None
    with call.store.tx():
        call.store.add_link(Link(call.store.next_id("link"), link_type.id, inward.id, outward.id))
        stamp = _touch(call, inward.id)
        _touch(call, outward.id)
        if comment is not None:
            add_comment(call, inward, comment, stamp)
    return Response(status_code=201)


async def get_link(call: Call) -> Response:
    link = _find_link(call)
    issues = {i.id: i for i in call.store.issues_by_ids([link.inward_id, link.outward_id])}
    return JiraJSON({"id": str(link.id), "self": call.api(f"issueLink/{link.id}"),
                     "type": render.link_type(call, catalog.LINK_TYPES[link.type_id]),
                     "inwardIssue": render.linked_issue(call, issues[link.inward_id]),
                     "outwardIssue": render.linked_issue(call, issues[link.outward_id])})


async def delete_link(call: Call) -> Response:
    link = _find_link(call)
    with call.store.tx():
        call.store.delete_link(link.id)
        _touch(call, link.inward_id)
        _touch(call, link.outward_id)
    return Response(status_code=204)


def _find_link(call: Call) -> Link:
    raw = call.path("linkId")
    link = call.store.get_link(int(raw)) if raw.isdigit() else None
    if link is None:
        raise JiraError(404, [f"No issue link with id '{raw}' exists."])
    return link


async def link_types(call: Call) -> Response:
    return JiraJSON({"issueLinkTypes": [render.link_type(call, t) for t in catalog.LINK_TYPES.values()]})
