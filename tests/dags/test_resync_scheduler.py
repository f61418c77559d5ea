"""Issue 13.6: re-syncing a recent window never stops the scheduler.

A backfill whose range reaches the latest interval of a scheduled (unpaused) DAG creates the DAG run for
that interval's logical date -- the one the scheduler is about to create itself (`DagModel.next_dagrun`;
a backfill does not move it, airflow/models/backfill.py). When the scheduler's check for an existing run
(airflow/jobs/scheduler_job_runner.py `_create_dag_runs`, "run already exists; skipping") runs after the
backfill committed, it skips its own run. When it runs while the backfill's transaction is still open,
its INSERT fails on the unique (dag_id, logical_date), and Airflow 3.3.2 cannot survive that: the
`except Exception` around `create_dagrun` (`_create_dag_runs`) logs "Failed creating DagRun" with the
DAG model's id, which reads the session the failed flush left needing a rollback: the
PendingRollbackError ends the scheduler loop (apache/airflow#59120, open). The first test makes that race happen with Airflow's own REST API and a live scheduler, and shows
the recovery (start the scheduler again; nothing to delete). The second shows the safe way: a manual
run with `reach_back_hours` while the DAG is scheduled, the scheduler alive and its runs going on.

Each test has its own AIRFLOW_HOME, api-server and scheduler (tests/live_airflow.py), stopped at the end:
a crashed scheduler never outlives its test.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.common.process import EmulatorProcess
from sfjira.emulator_env import environment, sqlite_state
from sfjira.local_airflow import Component
from sfjira.state import StateStore
from tests.live_airflow import REPO, Services, airflow_environment, prepare, task_errors, wait_for

pytestmark = pytest.mark.e2e

DAG_ID = "sfjira_sync__opportunity_to_epic"
CRASH = "UNIQUE constraint failed: dag_run.dag_id, dag_run.logical_date"
# Seen too, on SQLite: the backfill's creation meets the scheduler's lock, Airflow answers 503 and deletes
# the runs it had begun (models/backfill.py `_cleanup_partial_backfill`) under the scheduler's feet, whose
# error handler then reads the deleted run (scheduler_job_runner.py `_schedule_all_dag_runs`).
DELETED = "sqlalchemy.orm.exc.ObjectDeletedError: Instance '<DagRun"
# ... or, the same deletion met one step earlier, when the scheduler writes the run's new state.
STALE = "StaleDataError: UPDATE statement on table 'dag_run' expected to update 1 row(s); 0 were matched"
# The race needs the backfill's transaction open when the scheduler looks for the run: each attempt
# starts the backfill just after a tick; a few ticks are enough in practice (each attempt takes a minute).
ATTEMPTS = 6


def short_schedule_mappings(tmp_path: Path, schedule: str) -> Path:
    """The shipped opportunity_to_epic mapping on a schedule short enough for the scheduler to create
    runs within a test."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    text = (REPO / "include" / "mappings" / "opportunity_to_epic.yaml").read_text()
    assert '"*/15 * * * *"' in text
    (folder / "opportunity_to_epic.yaml").write_text(text.replace('"*/15 * * * *"', f'"{schedule}"'))
    return folder


def runs(services: Services) -> list[dict[str, Any]]:
    return list(services.api("GET", f"/dags/{DAG_ID}/dagRuns", params={"limit": 100})["dag_runs"])


def backfill(services: Services, since: dt.datetime, **options: Any) -> dict[str, Any] | None:
    """POST /api/v2/backfills from `since` to now (the UI's Backfill dialog does the same). None when
    SQLite's lock refused it (Airflow answers 503 under concurrent access)."""
    body = {"dag_id": DAG_ID, "from_date": since.isoformat(), "to_date": dt.datetime.now(dt.UTC).isoformat(),
            **options}
    try:
        return dict(services.api("POST", "/backfills", json=body))
    except AssertionError as err:
        if "503" in str(err):
            return None
        raise


def scheduler(services: Services) -> Component:
    return next(proc for proc in services.procs if proc.name == "scheduler")


def scheduler_alive(services: Services) -> bool:
    return scheduler(services).exit_code() is None


def scheduler_log(services: Services) -> str:
    return scheduler(services).log.read_text(errors="replace")


@pytest.fixture
def idle_airflow(tmp_path: Path) -> Iterator[Services]:
    """A live Airflow whose sync DAG runs every minute against endpoints nobody listens on: each run
    fails within seconds (no task retries), so the scheduler is free to create the next one at each tick.
    Only the scheduler's run creation is exercised; no emulator is needed."""
    unreachable = "https://127.0.0.1:9"
    env = airflow_environment(tmp_path / "airflow", environment(
        unreachable, unreachable, str(tmp_path / "none.pem"), state=sqlite_state(str(tmp_path / "state.db"))),
        storage=tmp_path / "runs", mappings_dir=short_schedule_mappings(tmp_path, "* * * * *"))
    prepare(env)
    with Services(env, supervise=False) as services:  # the crash must stay visible
        yield services


@pytest.mark.timeout(1200)
def test_a_backfill_reaching_the_latest_interval_can_stop_the_scheduler(idle_airflow: Services) -> None:
    services = idle_airflow
    services.unpause(DAG_ID)
    wait_for("the scheduler's first run", lambda: runs(services))
    for _ in range(ATTEMPTS):
        for open_backfill in services.api("GET", "/backfills", params={"dag_id": DAG_ID})["backfills"]:
            if not open_backfill["completed_at"]:
                services.api("PUT", f"/backfills/{open_backfill['id']}/cancel")
        # No scheduled run active (max_active_runs=1): the scheduler will create the next one at the tick.
        wait_for("the scheduled runs to end", lambda: not [
            r for r in runs(services) if r["run_type"] == "scheduled" and r["state"] in ("queued", "running")])
        now = dt.datetime.now(dt.UTC)
        tick = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        time.sleep((tick - now).total_seconds() + 0.05)
        # The latest interval first (its run is inserted at once), then the older ones keep the backfill's
        # transaction open while the scheduler comes to create its own run for that interval.
        backfill(services, tick - dt.timedelta(minutes=60), run_backwards=True, max_active_runs=1,
                 reprocess_behavior="failed")
        time.sleep(15)
        if not scheduler_alive(services):
            break
    if scheduler_alive(services):
        # The crash is a race (the backfill's transaction against the scheduler's tick): on a quiet or a busy
        # machine it may not happen in 6 tries. Not reproducing it is not a failure of ours; say so.
        pytest.skip(f"the scheduler survived {ATTEMPTS} racing backfills this time (apache/airflow#59120 is a "
                    "race); nothing to recover from")
    text = scheduler_log(services)
    assert CRASH in text or DELETED in text or STALE in text, text[-5000:]
    print("the scheduler died on", "the unique (dag_id, logical_date)" if CRASH in text else "a deleted run")

    # Recovery: start the scheduler again, nothing else. Either the backfill's run stands for the interval
    # (the restarted scheduler finds it and skips its own) or the backfill was refused too (503, its runs
    # removed) and the restarted scheduler creates its own run for it; then it schedules on.
    scheduler(services).stop()  # what is left of its process group
    scheduler(services).start()
    interval = tick - dt.timedelta(minutes=1)  # the latest interval at the crash
    wait_for("a scheduled run of a later interval", lambda: [
        r for r in runs(services) if r["run_type"] == "scheduled"
        and dt.datetime.fromisoformat(r["logical_date"]) > interval])
    assert scheduler_alive(services)
    logical = [dt.datetime.fromisoformat(r["logical_date"]) for r in runs(services)]
    # At most one run of it: none when the backfill's runs were removed and the restart came after the next
    # tick (catchup=False creates only the latest interval; a sync run reads from the committed cursor, so
    # the skipped interval's changes are read by the next run), never two.
    assert logical.count(interval) <= 1 and len(logical) == len(set(logical)), sorted(logical)


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
