"""Jira Cloud's issue bulk operations for JiraSyncHook: one bulk edit or bulk transition task for up to
1,000 issues that get the same change, polled on the task queue, answered as one WriteResult per issue.

POST /bulk/issues/fields (one value per field for every selected issue: bulk edit has no per-issue values)
and POST /bulk/issues/transition answer `{taskId}`; GET /bulk/queue/{taskId} reports the task. An issue
is done when the finished task lists its id in `processedAccessibleIssues`, refused when
`failedAccessibleIssues` gives its reasons, and missing (deleted, or not visible to the API user) when
neither names it. Data Center has no such API: the hook's per-issue calls stay its only path.

Tasks are resumable: `Tasks` maps a digest of the request to the task a submission created, so a caller
that keeps that map (in its write-ahead intent) polls the same task on a retry instead of submitting the
change again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sfjira.exceptions import ApiError
from sfjira.hooks.jira_frames import text_to_adf
from sfjira.hooks.payload import jsonable
from sfjira.hooks.results import WriteError, WriteResult
from sfjira.hooks.workflow import WorkflowMap
from sfjira.identity.keys import issue_segment

if TYPE_CHECKING:
    from sfjira.hooks.jira import JiraSyncHook
    from sfjira.mapping.model import FieldMapping

MAX_ISSUES = 1000  # issues per bulk edit or bulk transition request
MAX_FIELDS = 200   # fields per bulk edit request
DONE = ("COMPLETE", "FAILED", "CANCELLED", "DEAD")
RICH_TEXT = ("description", "environment")
NUMBERS = ("number", "integer", "currency")


@dataclass(frozen=True)
class JiraBulkSettings:
    """Polling the task queue: first wait `poll_start` s, doubling to `poll_max` s, giving up after `timeout` s."""

    poll_start: float = 0.5
    poll_max: float = 10.0
    timeout: float = 3600.0


@dataclass
class Tasks:
    """Task ids by request digest: `known` ones are polled, not submitted again; `on_task` hears of new ones."""

    known: dict[str, str] = field(default_factory=dict)
    on_task: Callable[[str, str], None] | None = None

    def note(self, digest: str, task_id: str) -> None:
        self.known[digest] = task_id
        if self.on_task is not None:
            self.on_task(digest, task_id)


def edited_fields(mapped: Iterable[FieldMapping], values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]] | None:
    """(editedFieldsInput, selectedActions) setting `values` (canonical, by Jira field id) on every selected
    issue, or None when a field is not one bulk edit takes here (select options and priorities need their
    ids, dates a site-specific format, and so on): those updates stay on the per-issue path."""
    by_id = {f.jira: f for f in mapped}
    edited: dict[str, Any] = {}
    for fid, value in values.items():
        member, entry = _member(by_id.get(fid), fid, jsonable(value))
        if member is None:
            return None
        edited.setdefault(member, []).append(entry)
    if not edited or len(values) > MAX_FIELDS:
        return None
    return edited, list(values)


def _member(f: FieldMapping | None, fid: str, value: Any) -> tuple[str | None, Any]:
    kind = f.type if f is not None else None
    if fid == "labels":
        labels = value if isinstance(value, list) else [v for v in str(value or "").split(";") if v]
        return "labelsFields", {"fieldId": fid, "bulkEditMultiSelectFieldOption": "REPLACE" if labels else "REMOVE_ALL",
                                "labels": [{"name": str(v)} for v in labels]}
    if fid in RICH_TEXT or kind == "text":
        rich = {"adfValue": text_to_adf(value)} if value not in (None, "") else {}
        return "richTextFields", {"fieldId": fid, "richText": rich}
    if fid == "summary" or (kind == "string" and fid.startswith("customfield_")):
        return "singleLineTextFields", {"fieldId": fid, "text": "" if value is None else str(value)}
    if kind in NUMBERS and fid.startswith("customfield_"):
        return "clearableNumberFields", {"fieldId": fid, **({} if value is None else {"value": float(value)})}
    if kind == "user" or fid in ("assignee", "reporter"):
        return "singleSelectClearableUserPickerFields", {"fieldId": fid, **(
            {} if value is None else {"user": {"accountId": str(value)}})}
    return None, None


def digest(path: str, body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps([path, body], sort_keys=True, default=str).encode()).hexdigest()


class JiraBulk:
    """Bulk operations through one JiraSyncHook (its session, retries and call counter)."""

    def __init__(self, hook: JiraSyncHook, settings: JiraBulkSettings | None = None) -> None:
        self.hook = hook
        self.settings = settings or JiraBulkSettings()

    def edit(self, issue_ids: Sequence[str], edited: Mapping[str, Any], actions: Sequence[str],
             tasks: Tasks | None = None) -> list[WriteResult]:
        """Set the same values on the issues `issue_ids` (ids, as the task reports by id)."""
        body = {"selectedIssueIdsOrKeys": list(issue_ids), "selectedActions": list(actions),
                "editedFieldsInput": dict(edited), "sendBulkNotification": False}
        return self._run("bulk/issues/fields", body, issue_ids, tasks or Tasks())

    def transition(self, issue_ids: Sequence[str], transition_id: str, tasks: Tasks | None = None) -> list[WriteResult]:
        """Perform the transition `transition_id` on each of `issue_ids` (one step of their workflow)."""
        body = {"bulkTransitionInputs": [{"selectedIssueIdsOrKeys": list(issue_ids), "transitionId": transition_id}],
                "sendBulkNotification": False}
        return self._run("bulk/issues/transition", body, issue_ids, tasks or Tasks())

    def walk(self, issue_ids: Sequence[str], current: str, target: str, *, workflow: tuple[str, str],
             tasks: Tasks | None = None, max_steps: int = 12) -> tuple[list[WriteResult], list[str]]:
        """Move issues that are all in status `current` to `target`, one bulk transition per workflow step,
        learning the workflow (`workflow`: project key and issue type, whose map the hook keeps) from the first
        issue still moving, as the per-issue walk does. Returns one result per
        issue (the first step an issue failed at decides its error) and the names of the steps taken."""
        tasks = tasks or Tasks()
        # Keyed as the per-issue walk keys it (issue type casefolded): one map per workflow, learned once.
        known = self.hook._workflows.setdefault((workflow[0], workflow[1].casefold()), WorkflowMap())
        results: dict[str, WriteResult] = {}
        moving, taken = list(issue_ids), list[str]()
        while moving and current.casefold() != target.strip().casefold():
            step = known.next_step(current, target) if current.casefold() in known.edges else None
            if step is None:
                available = self.hook._api("GET", f"issue/{issue_segment(moving[0])}/transitions",
                                           action="transitions")
                known.learn(current, available.get("transitions", []))
                self.hook.count_workflow("reads")  # the report's minimum counts the workflow's reads
                step = known.next_step(current, target)
            if step is None or len(taken) >= max_steps:
                raise ApiError(f"status {target!r} cannot be reached from {current!r} (statuses seen: "
                               f"{', '.join(known.known_statuses())})", code="TRANSITION_UNREACHABLE",
                               fix="map the value to a status this workflow reaches, or add a transition to the "
                                   "workflow (and check the API user may perform it)")
            transition_id, name, current = step
            for chunk_start in range(0, len(moving), MAX_ISSUES):
                for result in self.transition(moving[chunk_start:chunk_start + MAX_ISSUES], transition_id, tasks):
                    results[str(result.id)] = result
            moving = [i for i in moving if results[str(i)].success]
            taken.append(name)
        ordered = [results.get(str(i)) or WriteResult(index=n, success=True, id=str(i)) for n, i in enumerate(issue_ids)]
        return [WriteResult(index=n, success=r.success, id=r.id, errors=r.errors) for n, r in enumerate(ordered)], taken

    # -- tasks -----------------------------------------------------------------------------------

    def _run(self, path: str, body: Mapping[str, Any], issue_ids: Sequence[str], tasks: Tasks) -> list[WriteResult]:
        if not issue_ids or len(issue_ids) > MAX_ISSUES:
            raise ValueError(f"a bulk operation takes 1 to {MAX_ISSUES} issues, got {len(issue_ids)}")
        key = digest(path, body)
        task_id = tasks.known.get(key)
        if task_id is None:
            task_id = str(self.hook._api("POST", path, body=body, action=path.replace("/", " "))["taskId"])
            tasks.note(key, task_id)
        return _results(issue_ids, self._wait(task_id))

    def _wait(self, task_id: str) -> dict[str, Any]:
        delay, waited = self.settings.poll_start, 0.0
        while True:
            progress: dict[str, Any] = self.hook._api("GET", f"bulk/queue/{task_id}", action="bulk task progress")
            status = progress.get("status")
            if status == "COMPLETE":
                return progress
            if status in DONE:
                raise ApiError(f"Jira bulk task {task_id} ended {status}", code="JIRA_BULK_TASK_FAILED",
                               transient=True, fix="run the task again: the chunk's issues are sent in a new task")
            if waited >= self.settings.timeout:
                raise ApiError(f"Jira bulk task {task_id} is still {status} after {waited:.0f}s",
                               code="JIRA_BULK_TASK_TIMEOUT", transient=True,
                               fix="run the task again: it resumes the same task from its id")
            self.hook.get_conn().session.sleep(delay)  # type: ignore[attr-defined]
            waited += delay
            delay = min(delay * 2, self.settings.poll_max)


def _results(issue_ids: Sequence[str], progress: Mapping[str, Any]) -> list[WriteResult]:
    processed = {str(i) for i in progress.get("processedAccessibleIssues") or []}
    failed = {str(k): v for k, v in (progress.get("failedAccessibleIssues") or {}).items()}
    results = []
    for index, issue_id in enumerate(issue_ids):
        if str(issue_id) in processed:
            results.append(WriteResult(index=index, success=True, id=str(issue_id)))
        elif str(issue_id) in failed:
            reasons = [str(r) for r in failed[str(issue_id)]] or ["refused without a reason"]
            results.append(WriteResult(index=index, success=False, id=str(issue_id),
                                       errors=(WriteError("JIRA_BULK_ISSUE_FAILED", "; ".join(reasons)),)))
        else:
            results.append(WriteResult(index=index, success=False, id=str(issue_id), errors=(WriteError(
                "JIRA_BULK_ISSUE_MISSING", "the bulk task did not report the issue: it does not exist (any more) "
                "or the API user cannot see it"),)))
    return results
