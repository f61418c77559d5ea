"""Issue 14 point 2: on Jira Cloud, many issues getting the same change go as one bulk task.

200 cases move to the same status in Salesforce: the Jira load sends one bulk transition task for the
200 issues and polls it, instead of a read, a transitions read and a transition per issue; the one issue
Jira refuses to change (its API user may see it but not transition it) is rejected alone, with Jira's
reason, and the 199 others are moved. With the threshold above the group, the same change goes issue by
issue, as on Data Center. New issues bound for one status are walked there from the workflow's initial
status the same way, right after their creation.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.world import SQLITE_STATE_ONLY, World, make_cases

pytestmark = [SQLITE_STATE_ONLY]

MAPPING = "case_to_bug"
CASES = 200
V3 = "/rest/api/3"


def _set_status(world: World, case_ids: list[str], status: str) -> None:
    for start in range(0, len(case_ids), 200):
        records = [{"attributes": {"type": "Case"}, "id": i, "Status": status} for i in case_ids[start:start + 200]]
        world.sf.call("PATCH", "/composite/sobjects", json={"allOrNone": True, "records": records})


def _statuses(world: World) -> dict[str, str]:
    return {i["fields"]["customfield_10050"]: i["fields"]["status"]["name"] for i in world.issues("project = SUP")}


def _jira_calls(world: World, run: Any) -> dict[str, int]:
    return {k: v for k, v in world.xcom(run, "load_jira")["api_calls"].items() if "transition" in k or "bulk" in k}


def test_a_status_change_of_200_issues_is_one_bulk_task_and_a_refused_issue_is_rejected_alone(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SFJIRA__JIRA_BULK_THRESHOLD", "50")
    cases = make_cases(world.sf, CASES, Status="New")
    world.run(MAPPING)
    keys = {i["fields"]["customfield_10050"]: i["key"] for i in world.issues("project = SUP")}
    assert len(keys) == CASES
    refused = cases[7]
    world.jira_emulator.configure(locked_issues=[keys[refused]], bulk_task_running_polls=1)
    _set_status(world, cases, "Working")

    run = world.run(MAPPING)

    load = world.xcom(run, "load_jira")
    assert (load["jira_write_path"], load["bulk_tasks"], load["bulk_updated"], load["rejected"]) == (
        "bulk", 1, CASES - 1, 1)
    calls = _jira_calls(world, run)
    # One submission, polled twice (the emulator answers RUNNING once), one transitions read to learn the
    # step; not one transition call per issue.
    assert calls == {f"POST {V3}/bulk/issues/transition": 1, f"GET {V3}/bulk/queue/{{id}}": 2,
                     f"GET {V3}/issue/{{id}}/transitions": 1}, calls
    statuses = _statuses(world)
    assert statuses.pop(refused) == "To Do" and set(statuses.values()) == {"In Progress"}
    rejects = world.store.rejects(MAPPING).set_index("record_id")
    assert list(rejects.index) == [refused]
    assert (rejects.loc[refused, "code"], rejects.loc[refused, "field"]) == ("JIRA_BULK_ISSUE_FAILED", "status")
    assert "permission" in rejects.loc[refused, "message"]
    assert world.xcom(run, "report")["sf_to_jira"]["updated"] == CASES - 1
    report = world.xcom(run, "report")["api_calls"]
    print(f"\nJira calls, bulk path ({CASES} issues, 1 refused): {calls}; used {report['used']['jira']}, "
          f"minimum {report['minimum']['jira']}")

    # Below the threshold the next change goes issue by issue: the 199 to "Escalated", and the refused one,
    # unlocked now, planned again towards "In Progress" (Salesforce still says Working).
    monkeypatch.setenv("AIRFLOW__SFJIRA__JIRA_BULK_THRESHOLD", "10000")
    world.jira_emulator.configure(locked_issues=[])
    _set_status(world, [c for c in cases if c != refused], "Escalated")
    per_issue = world.run(MAPPING)
    calls = _jira_calls(world, per_issue)
    assert world.xcom(per_issue, "load_jira")["jira_write_path"] == "per_issue"
    assert calls[f"POST {V3}/issue/{{key}}/transitions"] == CASES and f"POST {V3}/bulk/issues/transition" not in calls
    statuses = _statuses(world)
    assert statuses.pop(refused) == "In Progress" and set(statuses.values()) == {"In Review"}
    assert world.store.rejects(MAPPING).empty, "the reject resolved once the issue moved"
    report = world.xcom(per_issue, "report")["api_calls"]
    print(f"Jira calls, per-issue path ({CASES} issues): {calls}; used {report['used']['jira']}, "
          f"minimum {report['minimum']['jira']}")


def test_a_load_retried_after_its_bulk_edit_went_unread_polls_that_task_instead_of_sending_another(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFJIRA_TASK_RETRIES", "1")
    cases = make_cases(world.sf, 60, Status="New")
    world.run(MAPPING)
    records = [{"attributes": {"type": "Case"}, "id": i, "Subject": "Printer fleet recall"} for i in cases]
    world.sf.call("PATCH", "/composite/sobjects", json={"allOrNone": True, "records": records})
    # Every progress read of the first attempt fails: its 4 sends, each tried 4 times by the hook.
    world.jira_emulator.set_faults([{"fault": "500", "path": "/bulk/queue/", "method": "GET", "times": 16}])
    world.clear_calls()

    run = world.run(MAPPING)

    load = next(ti for ti in run.dag_run.get_task_instances() if ti.task_id == "load_jira")
    assert load.try_number == 2, "load_jira failed transiently once and was retried by Airflow"
    assert world.jira_emulator.calls()["faults_fired"] == {"500": 16}
    by_endpoint = world.jira_emulator.calls()["by_endpoint"]
    assert by_endpoint[f"POST {V3}/bulk/issues/fields"] == 1, "the retry polled the task its intent kept"
    assert by_endpoint[f"GET {V3}/bulk/queue/{{taskId}}"] == 17
    assert f"PUT {V3}/issue/{{issueIdOrKey}}" not in by_endpoint
    summaries = {i["fields"]["summary"] for i in world.issues("project = SUP")}
    assert summaries == {"Printer fleet recall"}
    assert world.store.pending_intents(MAPPING).empty and world.store.rejects(MAPPING).empty
    assert world.xcom(run, "load_jira")["bulk_updated"] == 60


def test_200_new_issues_bound_for_one_status_get_there_by_one_bulk_transition(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SFJIRA__JIRA_BULK_THRESHOLD", "50")
    make_cases(world.sf, CASES, Status="Working")  # maps to "In Progress", one step from the initial "To Do"

    run = world.run(MAPPING)

    load = world.xcom(run, "load_jira")
    assert (load["create_status_path"], load["created"], load["bulk_transitioned"], load["create_bulk_tasks"]) == (
        "bulk", CASES, CASES, 1)
    calls = _jira_calls(world, run)
    # The initial status is read once from the first new issue, with its transitions: the bulk task needs no
    # transitions read, and no issue is transitioned alone.
    assert calls[f"POST {V3}/bulk/issues/transition"] == 1 and f"GET {V3}/issue/{{id}}/transitions" not in calls
    assert not any(k.endswith("/transitions") and k.startswith("POST") for k in calls), calls
    assert set(_statuses(world).values()) == {"In Progress"} and len(_statuses(world)) == CASES
    assert world.store.rejects(MAPPING).empty and world.store.pending_intents(MAPPING).empty
    report = world.xcom(run, "report")["api_calls"]
    assert report["used"]["jira"] <= 1.1 * report["minimum"]["jira"], report
    print(f"\nJira calls, first sync of {CASES} issues bound for one status: used {report['used']['jira']}, "
          f"minimum {report['minimum']['jira']} ({calls})")


def test_below_the_threshold_new_issues_are_walked_one_by_one(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SFJIRA__JIRA_BULK_THRESHOLD", "10000")
    make_cases(world.sf, 60, Status="Working")

    run = world.run(MAPPING)

    load = world.xcom(run, "load_jira")
    assert (load["create_status_path"], load["created"], load.get("create_bulk_tasks", 0)) == ("per_issue", 60, 0)
    calls = _jira_calls(world, run)
    assert calls[f"POST {V3}/issue/{{key}}/transitions"] == 60 and f"POST {V3}/bulk/issues/transition" not in calls
    assert set(_statuses(world).values()) == {"In Progress"}
