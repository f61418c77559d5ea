"""JiraSyncHook's Cloud bulk operations (sfjira.hooks.jira_bulk) against the Jira emulator over HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import JiraRest
from sfjira.exceptions import ApiError
from sfjira.hooks.jira import JiraSyncHook
from sfjira.hooks.jira_bulk import JiraBulkSettings, Tasks, edited_fields
from sfjira.mapping.model import FieldMapping

pytestmark = pytest.mark.integration

QUEUE = "GET /rest/api/3/bulk/queue/{id}"
EDIT = "POST /rest/api/3/bulk/issues/fields"
MOVE = "POST /rest/api/3/bulk/issues/transition"
MAPPED = [FieldMapping(salesforce="Name", jira="summary"), FieldMapping(salesforce="Account.Name", jira="customfield_10051"),
          FieldMapping(salesforce="Description", jira="description", type="text"),
          FieldMapping(salesforce="Tags__c", jira="labels", type="multi-picklist"),
          FieldMapping(salesforce="Amount", jira="customfield_10052", type="currency")]


@pytest.fixture
def emulator(jira_emulator: EmulatorProcess) -> Iterator[EmulatorProcess]:
    jira_emulator.reset()
    jira_emulator.clear_faults()
    yield jira_emulator
    jira_emulator.reset()


@pytest.fixture
def hook(emulator: EmulatorProcess, jira_conn) -> JiraSyncHook:  # noqa: ANN001
    made = JiraSyncHook(jira_conn("cloud"))
    made.bulk.settings = JiraBulkSettings(poll_start=0.01, poll_max=0.02, timeout=5)
    return made


def _issues(hook: JiraSyncHook, count: int, issuetype: str = "Bug") -> list[dict[str, Any]]:
    made = hook.bulk_create([{"project": {"key": "SUP"}, "issuetype": {"name": issuetype}, "summary": f"n{n}"}
                             for n in range(count)])
    return [{"id": r.id, "key": r.key} for r in made]


def _rest(emulator: EmulatorProcess, version: int = 2) -> JiraRest:
    return JiraRest(emulator.url, emulator.ca_bundle, version=version)


def _read(emulator: EmulatorProcess, key: str) -> dict[str, Any]:
    rest = _rest(emulator)
    with rest.session:
        return rest.issue(key)["fields"]


def test_one_bulk_edit_sets_the_same_values_and_reports_each_issue(emulator: EmulatorProcess,
                                                                   hook: JiraSyncHook) -> None:
    bugs, tasks = _issues(hook, 3), _issues(hook, 2, "Task")
    emulator.configure(required_fields={"SUP/Task": ["customfield_10051"]})
    values = {"summary": "Renewal", "customfield_10051": None, "description": "two\n\nlines",
              "labels": ["sf", "renewal"], "customfield_10052": 1250.5}
    edited, actions = edited_fields(MAPPED, values) or ({}, [])
    ids = [i["id"] for i in bugs + tasks] + ["99999"]
    before = hook.calls

    results = hook.bulk.edit(ids, edited, actions)

    assert [r.success for r in results] == [True, True, True, False, False, False]
    assert {r.errors[0].code for r in results[3:5]} == {"JIRA_BULK_ISSUE_FAILED"}
    assert "Account Name is required" in results[3].errors[0].message
    assert results[5].errors[0].code == "JIRA_BULK_ISSUE_MISSING"
    fields = _read(emulator, bugs[0]["key"])
    assert (fields["summary"], fields["labels"], fields["customfield_10052"]) == ("Renewal", ["sf", "renewal"], 1250.5)
    assert fields["description"] == "two\n\nlines"
    assert _read(emulator, tasks[0]["key"])["summary"] == "n0", "a refused issue is left as it was"
    assert {k: hook.calls[k] - before.get(k, 0) for k in (EDIT, QUEUE)} == {EDIT: 1, QUEUE: 1}


def test_fields_bulk_edit_cannot_take_stay_on_the_per_issue_path() -> None:
    stage = FieldMapping(salesforce="StageName", jira="customfield_10055", type="picklist")
    assert edited_fields([stage], {"customfield_10055": "Prospecting"}) is None
    assert edited_fields([], {"priority": "High"}) is None


def test_a_walk_is_one_bulk_transition_per_step_and_polls_until_complete(emulator: EmulatorProcess,
                                                                         hook: JiraSyncHook) -> None:
    issues = _issues(hook, 4)
    emulator.configure(bulk_task_running_polls=2)
    before = hook.calls

    results, taken = hook.bulk.walk([i["id"] for i in issues], "To Do", "Done",
                                    workflow=("SUP", "Bug"))

    assert all(r.success for r in results) and taken == ["Start Progress", "Submit for Review", "Done"]
    assert {_read(emulator, i["key"])["status"]["name"] for i in issues} == {"Done"}
    spent = {k: v - before.get(k, 0) for k, v in hook.calls.items() if v != before.get(k, 0)}
    # Three steps: one submission each, answered RUNNING twice then COMPLETE; the workflow is learned
    # from one issue's transitions at each status it had not seen.
    assert spent == {MOVE: 3, QUEUE: 9, "GET /rest/api/3/issue/{id}/transitions": 3}


def test_an_issue_the_step_does_not_fit_is_refused_alone(emulator: EmulatorProcess, hook: JiraSyncHook) -> None:
    issues = _issues(hook, 3)
    rest = _rest(emulator, 3)
    with rest.session:
        rest.ok("POST", f"/issue/{issues[2]['key']}/transitions", json={"transition": {"id": "11"}})

    results, _ = hook.bulk.walk([i["id"] for i in issues], "To Do", "In Progress",
                                workflow=("SUP", "Bug"))

    assert [r.success for r in results] == [True, True, False]
    assert "not valid for this issue" in results[2].errors[0].message


def test_a_known_task_is_polled_not_submitted_again(emulator: EmulatorProcess, hook: JiraSyncHook) -> None:
    issues = _issues(hook, 2)
    noted: dict[str, str] = {}
    edited, actions = edited_fields(MAPPED, {"summary": "once"}) or ({}, [])
    first = hook.bulk.edit([i["id"] for i in issues], edited, actions, Tasks(on_task=noted.__setitem__))
    before = hook.calls

    again = hook.bulk.edit([i["id"] for i in issues], edited, actions, Tasks(known=dict(noted)))

    assert [r.success for r in again] == [r.success for r in first] == [True, True]
    assert hook.calls.get(EDIT, 0) == before[EDIT] and hook.calls[QUEUE] == before[QUEUE] + 1


def test_data_center_has_no_bulk_operations(jira_conn) -> None:  # noqa: ANN001
    with pytest.raises(ApiError) as err:
        _ = JiraSyncHook(jira_conn("datacenter")).bulk
    assert err.value.code == "JIRA_BULK_UNSUPPORTED"
