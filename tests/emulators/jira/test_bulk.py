"""Jira Cloud's issue bulk operations in the emulator, over real HTTPS: what a task changes, what it
refuses per issue, what it refuses as a whole, and that Data Center has none of it."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import JiraRest

BUG = {"project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": "Bulk"}


def _task(rest: JiraRest, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = rest("POST", path, json=body)
    assert response.status_code == 201, response.text
    return dict(rest.ok("GET", f"/bulk/queue/{response.json()['taskId']}"))


def _refused(rest: JiraRest, path: str, body: dict[str, Any]) -> str:
    response = rest("POST", path, json=body)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    return str(error["message"])


def _edit(keys: list[str], **members: Any) -> dict[str, Any]:
    actions = [e["fieldId"] for entries in members.values() if isinstance(entries, list) for e in entries]
    actions += [name for name, value in members.items() if not isinstance(value, list)]
    return {"selectedIssueIdsOrKeys": keys, "selectedActions": actions, "editedFieldsInput": members}


def test_labels_options_add_remove_and_replace(rest: JiraRest) -> None:
    keys = [rest.create("SUP", "Bug", "Bulk", labels=["keep", "drop"])["key"] for _ in range(2)]
    for option, labels, expected in (("ADD", ["new"], ["keep", "drop", "new"]), ("REMOVE", ["drop"], ["keep", "new"]),
                                     ("REPLACE", ["only"], ["only"]), ("REMOVE_ALL", [], [])):
        entry = {"fieldId": "labels", "bulkEditMultiSelectFieldOption": option, "labels": [{"name": n} for n in labels]}
        done = _task(rest, "/bulk/issues/fields", _edit(keys, labelsFields=[entry]))
        assert done["status"] == "COMPLETE" and len(done["processedAccessibleIssues"]) == 2
        assert {tuple(rest.issue(k, fields="labels")["fields"]["labels"]) for k in keys} == {tuple(expected)}


def test_a_task_reports_refused_and_missing_issues_apart(rest: JiraRest, jira: EmulatorProcess) -> None:
    ok, locked = (rest.create("SUP", "Bug", "Bulk")["key"] for _ in range(2))
    jira.configure(locked_issues=[locked])
    body = _edit([ok, locked, "SUP-999"], priority={"priorityId": "2"})

    done = _task(rest, "/bulk/issues/fields", body)

    ids = {k: int(rest.issue(k, fields="priority")["id"]) for k in (ok, locked)}
    assert done["processedAccessibleIssues"] == [ids[ok]]
    assert list(done["failedAccessibleIssues"]) == [str(ids[locked])]
    assert (done["invalidOrInaccessibleIssueCount"], done["totalIssueCount"]) == (1, 3)
    assert rest.issue(ok, fields="priority")["fields"]["priority"]["id"] == "2"
    refused = rest("PUT", f"/issue/{locked}", json={"fields": {"summary": "x"}})
    assert refused.status_code == 400 and "permission" in refused.json()["errorMessages"][0]
    moved = rest("POST", f"/issue/{locked}/transitions", json={"transition": {"id": "11"}})
    assert moved.status_code == 400 and rest.issue(locked, fields="status")["fields"]["status"]["name"] == "To Do"


@pytest.mark.parametrize(("members", "message"), [
    ({"issueType": {"issueTypeId": "10001"}}, "issueType is not supported"),
    ({"singleLineTextFields": [{"fieldId": "status", "text": "Done"}]}, "cannot be edited"),
    ({"singleSelectFields": [{"fieldId": "summary", "option": {"optionId": 1}}]}, "cannot be edited"),
])
def test_fields_bulk_edit_cannot_take_refuse_the_whole_request(rest: JiraRest, members: dict[str, Any],
                                                               message: str) -> None:
    key = rest.create("SUP", "Bug", "Bulk")["key"]
    body = {"selectedIssueIdsOrKeys": [key], "selectedActions": ["status"], "editedFieldsInput": members}
    assert message in _refused(rest, "/bulk/issues/fields", body)


def test_at_most_1000_issues_per_request(rest: JiraRest) -> None:
    keys = [f"SUP-{n}" for n in range(1, 1002)]
    edit = _edit(keys, singleLineTextFields=[{"fieldId": "summary", "text": "x"}])
    assert "at most 1000 issues" in _refused(rest, "/bulk/issues/fields", edit)
    moves = {"bulkTransitionInputs": [{"selectedIssueIdsOrKeys": keys[:600], "transitionId": "11"},
                                      {"selectedIssueIdsOrKeys": keys[600:], "transitionId": "21"}]}
    assert "at most 1000 issues" in _refused(rest, "/bulk/issues/transition", moves)


def test_progress_reads_answer_running_as_configured_then_complete(rest: JiraRest, jira: EmulatorProcess) -> None:
    key = rest.create("SUP", "Bug", "Bulk")["key"]
    jira.configure(bulk_task_running_polls=2)
    task = rest.ok("POST", "/bulk/issues/transition",
                   json={"bulkTransitionInputs": [{"selectedIssueIdsOrKeys": [key], "transitionId": "11"}]})["taskId"]
    seen = [rest.ok("GET", f"/bulk/queue/{task}")["status"] for _ in range(3)]
    assert seen == ["RUNNING", "RUNNING", "COMPLETE"]
    assert rest.issue(key, fields="status")["fields"]["status"]["name"] == "In Progress"
    assert rest("GET", "/bulk/queue/424242").status_code == 404


def test_data_center_has_no_bulk_operations(rest_dc: JiraRest) -> None:
    body = {"bulkTransitionInputs": [{"selectedIssueIdsOrKeys": ["SUP-1"], "transitionId": "11"}]}
    assert rest_dc("POST", "/bulk/issues/transition", json=body).status_code == 404
    assert rest_dc("GET", "/bulk/queue/1").status_code == 404
