"""Must-show 7: errors with retry semantics, in real DAG runs with retries configured.

A refused credential fails on every try, so the task fails on its first try (no retry, no backoff)
and says how to fix it; a 503 storm longer than the hook's own retries is a transient failure that
Airflow's task retry gets over.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from sfjira.emulator_env import jira_connection, salesforce_connection
from tests.e2e.world import SQLITE_STATE_ONLY, World, make_opportunities

pytestmark = [SQLITE_STATE_ONLY]


def _task(run: object, task_id: str) -> object:
    return next(ti for ti in run.dag_run.get_task_instances() if ti.task_id == task_id)  # type: ignore[attr-defined]


def _wrong_salesforce_secret(world: World) -> tuple[str, dict[str, object]]:
    return "SALESFORCE_DEFAULT", salesforce_connection(world.sf_emulator.url, world.sf_emulator.ca_bundle,
                                                       client_secret="not-the-secret")


def _wrong_jira_password(world: World) -> tuple[str, dict[str, object]]:
    return "JIRA_DEFAULT", {**jira_connection(world.jira_emulator.url, world.jira_emulator.ca_bundle),
                            "password": "not-the-token"}


@pytest.mark.parametrize(("broken", "task_id", "code", "fix"), [
    (_wrong_salesforce_secret, "extract_salesforce", "AUTH_FAILED", "fix: check client_id/client_secret"),
    (_wrong_jira_password, "extract_jira", "AUTH_FAILED", "fix: check login and token"),
], ids=["salesforce_secret", "jira_password"])
def test_refused_credentials_fail_on_the_first_try_with_the_fix(
        world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        broken: Callable[[World], tuple[str, dict[str, object]]], task_id: str, code: str, fix: str) -> None:
    make_opportunities(world.sf, 3)
    world.clear_calls()
    conn_id, wrong = broken(world)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id}", json.dumps(wrong))
    monkeypatch.setenv("SFJIRA_TASK_RETRIES", "2")

    run = world.run("opportunity_to_epic", expect="failed")

    task = _task(run, task_id)
    assert (str(task.state), task.try_number) == ("failed", 1), "failed without a retry"
    failed = [r.getMessage() for r in caplog.records if r.name == "sfjira.operators.failures"]
    assert len(failed) == 1 and failed[0].startswith(f"terminal error, the task fails without retrying: [{code}]")
    assert fix in failed[0]
    assert world.writes() == {"salesforce": {}, "jira": {}}


def test_a_503_storm_longer_than_the_hooks_retries_is_retried_by_airflow(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    opps = make_opportunities(world.sf, 3)
    # The connection's hook retries 4 attempts per call (FAST_RETRY): 6 answers of 503 outlast the first
    # try of the task; its Airflow retry meets the last 2 and then a healthy org.
    world.sf_emulator.set_faults([{"fault": "503", "path": "/query", "method": "GET", "times": 6}])
    monkeypatch.setenv("SFJIRA_TASK_RETRIES", "1")

    run = world.run("opportunity_to_epic")

    assert _task(run, "extract_salesforce").try_number == 2, "failed once (transient) and retried"
    assert world.sf_emulator.calls()["faults_fired"] == {"503": 6}
    epics = world.issues("project = DEL", "customfield_10050")
    assert sorted(e["fields"]["customfield_10050"] for e in epics) == sorted(opps)
