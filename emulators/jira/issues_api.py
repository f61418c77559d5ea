"""Issue resources: create (single and bulk), get, edit, delete, transitions, properties, changelog."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from emulators.jira import catalog, render, webhook_delivery
from emulators.jira.context import Call
from emulators.jira.errors import JiraError, JiraJSON, bad_request, locked, not_found
from emulators.jira.mutations import add_comment, apply_changes, set_value, status_items
from emulators.jira.store import Issue
from emulators.jira.writes import Changes, FieldReader, property_errors

BULK_LIMIT = 50


def find(call: Call, name: str = "issueIdOrKey") -> Issue:
    issue = call.store.find_issue(call.path(name))
    if issue is None:
        raise not_found()
    return issue


def changeable(call: Call, name: str = "issueIdOrKey") -> Issue:
    """The issue of the path, refused (400) when the API user may not change it (settings.locked_issues)."""
    issue = find(call, name)
    if issue.key in call.settings.locked_issues:
        raise locked()
    return issue


def created_ref(call: Call, issue: Issue) -> dict[str, Any]:
    return {"id": str(issue.id), "key": issue.key, "self": call.api(f"issue/{issue.id}")}


# -- create ------------------------------------------------------------------------------------------------

def _properties(body: dict[str, Any]) -> list[tuple[str, Any]]:
    raw = body.get("properties") or []
    if not isinstance(raw, list) or not all(isinstance(p, dict) and "key" in p for p in raw):
        raise bad_request("Issue properties must be a list of {\"key\": ..., \"value\": ...} objects.")
    props = [(str(p["key"]), p.get("value")) for p in raw]
    problems = [msg for key, value in props if (msg := property_errors(key, value))]
    if problems:
        raise bad_request(problems[0])
    return props


def create_one(call: Call, body: Any) -> Issue:
    if not isinstance(body, dict):
        raise bad_request("Each issue must be a JSON object with 'fields'.")
    project, type_id, changes = FieldReader(call).for_create(body)
    props = _properties(body)
    transition = _requested_transition(body, catalog.INITIAL_STATUS) if body.get("transition") else None
    store = call.store
    with store.tx():
        issue_id = store.next_id("issue")
        num = store.next_issue_numbers(project, 1)
        stamp = store.write_ms()
        issue = Issue(issue_id, f"{project}-{num}", project, num, type_id, catalog.INITIAL_STATUS,
                      catalog.DEFAULT_PRIORITY, None, stamp, stamp,
                      {"reporter": call.me.account_id, "creator": call.me.account_id, "labels": [],
                       "fixVersions": []})
        for fid, value in changes.values.items():
            set_value(issue, fid, value)
        store.insert_issues([issue])
        for key, value in props:
            store.set_property(issue.id, key, value)
        for doc in changes.comments:
            add_comment(call, issue, doc, stamp)
        if transition is not None:
            apply_changes(call, issue, Changes(), status_items(call, issue, transition.target), notify=False)
    webhook_delivery.issue_created(call, issue)
    return issue


async def create_issue(call: Call) -> Response:
    issue = create_one(call, await call.json_object())
    return JiraJSON(created_ref(call, issue), status_code=201)


async def create_issues(call: Call) -> Response:
    body = await call.json_object()
    updates = body.get("issueUpdates")
    if not isinstance(updates, list):
        raise bad_request("The request must contain an 'issueUpdates' array.")
    if len(updates) > BULK_LIMIT:
        raise bad_request(f"Bulk create supports at most {BULK_LIMIT} issues per request; this one has "
                          f"{len(updates)}.")
    issues, errors = [], []
    for number, element in enumerate(updates):
        try:
            issues.append(created_ref(call, create_one(call, element)))
        except JiraError as exc:
            errors.append({"status": exc.status, "elementErrors": exc.body(), "failedElementNumber": number})
    status = 201 if issues or not updates else 400
    return JiraJSON({"issues": issues, "errors": errors}, status_code=status)


# -- read, edit, delete ------------------------------------------------------------------------------------

async def get_issue(call: Call) -> Response:
    issue = find(call)
    field_ids = render.select_fields(call.list_param("fields"), "*all")
    expand = set(call.list_param("expand") or [])
    renderer = render.IssueRenderer(call, [issue], field_ids, expand, call.list_param("properties"))
    return JiraJSON(renderer.render(issue, per_issue_meta=True))


async def edit_issue(call: Call) -> Response:
    body = await call.json_object()  # read before loading the issue: no await between read and write
    issue = changeable(call)
    changes = FieldReader(call).for_edit(body, issue)
    apply_changes(call, issue, changes)
    if call.bool_param("returnIssue"):
        return await get_issue(call)
    return Response(status_code=204)


async def delete_issue(call: Call) -> Response:
    issue = find(call)
    webhook_delivery.issue_deleted(call, issue)
    with call.store.tx():
        call.store.delete_issue(issue.id)
    return Response(status_code=204)


async def get_changelog(call: Call) -> Response:
    issue = find(call)
    start, limit = call.int_param("startAt", 0), min(call.int_param("maxResults", 100), 100)
    histories = call.store.histories_for([issue.id]).get(issue.id, [])
    page = histories[start:start + limit]
    body: dict[str, Any] = {"self": call.api(f"issue/{issue.key}/changelog?startAt={start}&maxResults={limit}"),
                            "maxResults": limit, "startAt": start, "total": len(histories),
                            "isLast": start + limit >= len(histories),
                            "values": [render.history(call, h) for h in page]}
    return JiraJSON(body)


# -- workflow ----------------------------------------------------------------------------------------------

async def get_transitions(call: Call) -> Response:
    issue = find(call)
    wanted = call.param("transitionId")
    with_fields = "transitions.fields" in (call.list_param("expand") or [])
    transitions = [render.transition(call, t, with_fields) for t in catalog.transitions_from(issue.status)
                   if wanted is None or t.id == wanted]
    return JiraJSON({"expand": "transitions", "transitions": transitions})


def _requested_transition(body: dict[str, Any], status_id: str) -> catalog.Transition:
    ref = body.get("transition")
    if not isinstance(ref, dict) or not (ref.get("id") or ref.get("name")):
        raise bad_request("Missing 'transition' identifier: send {\"transition\": {\"id\": \"<id>\"}}.")
    allowed = catalog.transitions_from(status_id)
    if ref.get("id") is not None:
        match = next((t for t in allowed if t.id == str(ref["id"])), None)
        label = f"Transition id '{ref['id']}'"
    else:
        match = next((t for t in allowed if t.name.casefold() == str(ref["name"]).casefold()), None)
        label = f"Transition '{ref['name']}'"
    if match is None:
        raise bad_request(f"{label} is not valid for this issue.")
    return match


async def do_transition(call: Call) -> Response:
    body = await call.json_object()
    issue = changeable(call)
    transition = _requested_transition(body, issue.status)
    changes = FieldReader(call).for_edit({k: body[k] for k in ("fields", "update") if k in body}, issue)
    apply_changes(call, issue, changes, status_items(call, issue, transition.target))
    return Response(status_code=204)


# -- entity properties -------------------------------------------------------------------------------------

async def property_keys(call: Call) -> Response:
    issue = find(call)
    keys = [{"self": call.api(f"issue/{issue.id}/properties/{k}"), "key": k}
            for k in call.store.property_keys(issue.id)]
    return JiraJSON({"keys": keys})


async def get_property(call: Call) -> Response:
    issue, key = find(call), call.path("propertyKey")
    exists, value = call.store.get_property(issue.id, key)
    if not exists:
        raise not_found(f"The property with key '{key}' does not exist.")
    return JiraJSON({"key": key, "value": value})


async def set_property(call: Call) -> Response:
    value = await call.json()
    issue, key = find(call), call.path("propertyKey")
    problem = property_errors(key, value)
    if problem:
        raise bad_request(problem)
    with call.store.tx():
        created = call.store.set_property(issue.id, key, value)
    return Response(status_code=201 if created else 200)


async def delete_property(call: Call) -> Response:
    issue, key = find(call), call.path("propertyKey")
    with call.store.tx():
        deleted = call.store.delete_property(issue.id, key)
    if not deleted:
        raise not_found(f"The property with key '{key}' does not exist.")
    return Response(status_code=204)
