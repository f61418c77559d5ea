"""Issue 13.6: re-syncing a recent window never stops the scheduler.

A backfill whose range reaches the latest interval of a scheduled (unpaused) DAG creates the DAG run for
the interval the scheduler is about to create itself, and Airflow 3.3.2's scheduler can die of that race
(apache/airflow#59120, open; README, "Re-syncing the last N hours"). That crash is Airflow's and a race,
so its reproduction and the recovery (start the scheduler again) are a benchmark that prints what
happened: bench/scheduler_crash.py (`make scheduler-crash`). What is sfjira's own is tested: a backfill's
conf with `reach_back_hours` is refused (tests/sfjira/sync/test_cursor.py), a dead scheduler is restarted
by `make airflow`'s supervisor (tests/sfjira/test_supervisor.py), the first run after skipped intervals
reads from the cursor (tests/e2e/test_cursor.py) -- and here the safe way: a manual run with
`reach_back_hours` while the DAG is scheduled, the scheduler alive and its runs going on.

The test has its own AIRFLOW_HOME, api-server and scheduler (tests/live_airflow.py), stopped at the end.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from emulators.common.process import EmulatorProcess
from sfjira.emulator_env import environment, sqlite_state
from sfjira.state import StateStore
from tests.dags.resync_world import (
    CRASH,
    DAG_ID,
    runs,
    scheduler_alive,
    scheduler_log,
    short_schedule_mappings,
)
from tests.live_airflow import Services, airflow_environment, prepare, task_errors, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.live_airflow]


@pytest.mark.timeout(1500)
def test_a_manual_run_reaching_back_resyncs_while_the_scheduler_goes_on(
        tmp_path: Path, sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess) -> None:
    sf_emulator.reset()
    jira_emulator.reset()
    sf_emulator.seed(seed=5, accounts=2, opportunities=2, contacts=0, cases=0, case_comments=0)
    env = airflow_environment(tmp_path / "airflow", environment(
        sf_emulator.url, jira_emulator.url, sf_emulator.ca_bundle, state=sqlite_state(str(tmp_path / "state.db"))),
        storage=tmp_path / "runs", mappings_dir=short_schedule_mappings(tmp_path, "*/3 * * * *"))
    prepare(env)
    with Services(env) as services:
        services.unpause(DAG_ID)
        first = wait_for("a scheduled run", lambda: [r for r in runs(services) if r["run_type"] == "scheduled"])
        assert services.wait_for_run(DAG_ID, first[0]["dag_run_id"]) == "success", task_errors(env)

        # As `airflow dags trigger -c '{"reach_back_hours": 4}'` does: no logical date at all, so
        # nothing to share with the scheduler's runs; the sync takes the last complete interval.
        manual = services.api("POST", f"/dags/{DAG_ID}/dagRuns",
                              json={"logical_date": None, "conf": {"reach_back_hours": 4}})
        assert (manual["run_type"], manual["logical_date"]) == ("manual", None)
        assert services.wait_for_run(DAG_ID, manual["dag_run_id"]) == "success", task_errors(env)
        window = services.xcom(DAG_ID, manual["dag_run_id"], "extract_salesforce")["window"]
        assert window["reason"].startswith("reach_back (4 h before the interval start"), window

        # The scheduler goes on: a scheduled run created after the manual one ends, and succeeds.
        done = dt.datetime.now(dt.UTC)
        after = wait_for("a scheduled run after the manual one", lambda: [
            r for r in runs(services) if r["run_type"] == "scheduled"
            and dt.datetime.fromisoformat(r["run_after"]) > done], timeout=420)
        assert services.wait_for_run(DAG_ID, after[0]["dag_run_id"]) == "success", task_errors(env)
        assert scheduler_alive(services)
        log = scheduler_log(services)
        assert CRASH not in log and "Failed creating DagRun" not in log
        logical = [r["logical_date"] for r in runs(services) if r["logical_date"]]
        assert len(logical) == len(set(logical))

    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    summaries = store.runs("opportunity_to_epic", limit=None)["summary"]
    assert any(s["window"]["reason"].startswith("reach_back") for s in summaries)
    store.close()
