"""Jira Cloud's issue bulk operations: bulk edit and bulk transition, run as tasks read from the queue.

POST /bulk/issues/fields and POST /bulk/issues/transition answer 201 `{"taskId"}`; GET /bulk/queue/{taskId}
reports the task (BulkOperationProgress): issues it changed (`processedAccessibleIssues`, ids), the
ones it could not change with their reasons (`failedAccessibleIssues`, by issue id), and the number of
selected issues that do not exist or are not visible (`invalidOrInaccessibleIssueCount`). A request that
is wrong as a whole (more than 1,000 issues, unknown fields...) is a 400 BulkOperationErrorResponse.

The emulator applies a task's changes when it is submitted; `bulk_task_running_polls` (settings) makes
the first progress reads answer RUNNING, so clients' polling is exercised. The spec types the progress
timestamps as date-time strings (its prose examples show epoch milliseconds); the emulator follows the
schema.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from emulators.jira import catalog
from emulators.jira.bulk_inputs import BulkRequestError, Edit, read_edits
from emulators.jira.context import Call
from emulators.jira.errors import LOCKED, JiraError, JiraJSON
from emulators.jira.mutations import apply_changes, status_items
from emulators.jira.store import Issue
from emulators.jira.writes import Changes, FieldReader, FieldValueError

MAX_ISSUES = 1000
TASK = "bulk_task:{0}"


def _issue_refs(raw: Any, what: str) -> list[str]:
    if not isinstance(raw, list) or not raw or not all(isinstance(r, str | int) for r in raw):
        raise BulkRequestError(f"{what} must be a non-empty list of issue ids or keys.")
    return [str(r) for r in raw]


def _within_limit(count: int) -> None:
    if count > MAX_ISSUES:
        raise BulkRequestError(f"A bulk operation can include at most {MAX_ISSUES} issues; this one has {count}.")


class Outcome:
    """What a task did to each selected issue."""

    def __init__(self) -> None:
        self.processed: list[int] = []
        self.failed: dict[str, list[str]] = {}
        self.invalid = 0
        self.total = 0

    def run(self, call: Call, ref: str, change: Any) -> None:
        self.total += 1
        issue = call.store.find_issue(ref)
        if issue is None:
            self.invalid += 1
            return
        problems: list[str] = [LOCKED] if issue.key in call.settings.locked_issues else change(issue)
        if problems:
            self.failed[str(issue.id)] = problems
        else:
            self.processed.append(issue.id)


async def submit_edit(call: Call) -> Response:
    body = await call.json_object()
    refs = _issue_refs(body.get("selectedIssueIdsOrKeys"), "selectedIssueIdsOrKeys")
    actions = body.get("selectedActions")
    if not isinstance(actions, list) or not actions:
        raise BulkRequestError("selectedActions must list the ids of the fields to edit.")
    _within_limit(len(refs))
    edits = read_edits(call, body.get("editedFieldsInput"), [str(a) for a in actions])
    outcome = Outcome()
    for ref in dict.fromkeys(refs):
        outcome.run(call, ref, lambda issue: _edit_one(call, issue, edits))
    return _submitted(call, "edit", outcome)


def _edit_one(call: Call, issue: Issue, edits: dict[str, Edit]) -> list[str]:
    changes = Changes()
    for fid, edit in edits.items():
        try:
            changes.values[fid] = edit(issue)
        except FieldValueError as exc:
            changes.errors[fid] = str(exc)
    FieldReader(call).check_required(changes, issue)
    if changes.errors:
        return [f"{fid}: {message}" for fid, message in changes.errors.items()]
    apply_changes(call, issue, changes)
    return []


async def submit_transition(call: Call) -> Response:
    body = await call.json_object()
    inputs = body.get("bulkTransitionInputs")
    if not isinstance(inputs, list) or not inputs:
        raise BulkRequestError("bulkTransitionInputs must list the issues and the transition for each.")
    groups = []
    for entry in inputs:
        if not isinstance(entry, dict) or not entry.get("transitionId"):
            raise BulkRequestError("Each bulkTransitionInputs entry needs selectedIssueIdsOrKeys and transitionId.")
        groups.append((str(entry["transitionId"]), _issue_refs(entry.get("selectedIssueIdsOrKeys"),
                                                               "selectedIssueIdsOrKeys")))
    _within_limit(sum(len(refs) for _, refs in groups))
    outcome = Outcome()
    for transition_id, refs in groups:
        for ref in dict.fromkeys(refs):
            outcome.run(call, ref, lambda issue, tid=transition_id: _transition_one(call, issue, tid))
    return _submitted(call, "transition", outcome)


def _transition_one(call: Call, issue: Issue, transition_id: str) -> list[str]:
    match = next((t for t in catalog.transitions_from(issue.status) if t.id == transition_id), None)
    if match is None:
        return [f"Transition id '{transition_id}' is not valid for this issue in status "
                f"'{catalog.STATUSES[issue.status].name}'."]
    apply_changes(call, issue, Changes(), status_items(call, issue, match.target))
    return []


def _submitted(call: Call, kind: str, outcome: Outcome) -> Response:
    store = call.store
    with store.tx():
        task_id = str(store.next_id("task"))
        now = store.now_ms()
        store.meta_set(TASK.format(task_id), {
            "kind": kind, "created": now, "finished": store.now_ms(), "polls": 0,
            "submittedBy": call.me.account_id, "processed": outcome.processed, "failed": outcome.failed,
            "invalid": outcome.invalid, "total": outcome.total})
    return JiraJSON({"taskId": task_id}, status_code=201)


async def progress(call: Call) -> Response:
    task_id = call.path("taskId")
    store = call.store
    with store.tx():
        task = store.meta_get(TASK.format(task_id)) if task_id.isdigit() else None
        if task is None:
            raise JiraError(404, [f"The task with id {task_id} does not exist."])
        task["polls"] += 1
        store.meta_set(TASK.format(task_id), task)
    running = task["polls"] <= call.settings.bulk_task_running_polls
    body: dict[str, Any] = {"taskId": task_id, "status": "RUNNING" if running else "COMPLETE",
                            "submittedBy": {"accountId": task["submittedBy"]},
                            "created": call.ts(task["created"]), "started": call.ts(task["created"]),
                            "updated": call.ts(store.now_ms() if running else task["finished"])}
    if running:
        done = task["polls"] / (call.settings.bulk_task_running_polls + 1)
        return JiraJSON({**body, "progressPercent": int(100 * done)})
    body.update({"progressPercent": 100, "processedAccessibleIssues": task["processed"],
                 "invalidOrInaccessibleIssueCount": task["invalid"], "totalIssueCount": task["total"]})
    if task["failed"]:
        body["failedAccessibleIssues"] = task["failed"]
    return JiraJSON(body)
