"""`airflow backfill create` over three past intervals, executed by a real scheduler, re-syncs those
windows with no duplicates -- and doing it again changes nothing. The backfill reads exactly its own
windows and leaves the committed cursor of an earlier ordinary run where it was (issue 11, must-show 1c).

Runs Airflow's own CLI in subprocesses against an isolated AIRFLOW_HOME: db migrate, pools,
reserialize, backfill create, then an api-server + scheduler (LocalExecutor) until the runs finish.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

import pytest

from emulators.common.process import EmulatorProcess
from sfjira.dag_factory import covering_logical_date
from sfjira.emulator_env import environment, sqlite_state
from sfjira.state import StateStore
from tests.dags.backfill_world import backdated_opportunities, issues_by_sfid
from tests.live_airflow import (
    AIRFLOW,
    REPO,
    Services,
    airflow,
    airflow_environment,
    list_runs,
    prepare,
    task_errors,
)

pytestmark = pytest.mark.e2e

DAG_ID = "sfjira_sync__opportunity_to_epic"
DAY = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
# Three 15-minute intervals (the mapping's */15 schedule); two records changed in each.
STAMPS = [DAY + dt.timedelta(minutes=m) for m in (3, 8, 17, 24, 33, 41)]


@pytest.fixture
def airflow_env(tmp_path: Path, sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess) -> dict[str, str]:
    env = airflow_environment(tmp_path / "airflow", environment(
        sf_emulator.url, jira_emulator.url, sf_emulator.ca_bundle, state=sqlite_state(str(tmp_path / "state.db"))),
        storage=tmp_path / "runs", task_retries=0)
    # Only the backfill's runs: a scheduled run of the current interval would hold the writer lease the
    # backfill's runs wait for and, past the next 15-minute tick, move the cursor this test checks.
    return {**env, "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}


def backfill_runs(env: dict[str, str]) -> list[dict]:
    return [r for r in list_runs(env, DAG_ID) if r["run_id"].startswith("backfill__")]


def run_backfill(services: Services, *extra: str) -> list[dict]:
    """Create a backfill over the three intervals and wait for its runs to finish. Only one backfill per
    DAG may run: the scheduler marks the previous one complete shortly after its runs end, so retry
    (as when the metadata DB was locked)."""
    env = services.env
    before = {r["run_id"]: r.get("end_date") for r in backfill_runs(env)}
    args = [str(AIRFLOW), "backfill", "create", "--dag-id", DAG_ID,
            "--from-date", DAY.isoformat(), "--to-date", (DAY + dt.timedelta(minutes=30)).isoformat(), *extra]
    deadline = time.monotonic() + 300  # the scheduler closes a finished backfill late on a busy machine
    while True:
        proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
        if proc.returncode == 0:
            break
        # The scheduler holds the SQLite metadata DB's lock at times: the CLI's insert then loses the race.
        transient = ("AlreadyRunningBackfill", "database is locked")
        assert any(t in proc.stderr + proc.stdout for t in transient) and time.monotonic() < deadline, \
            proc.stderr[-3000:]
        time.sleep(2)
    deadline = time.monotonic() + 480  # 240 s ran out once with two live Airflows on two busy cores
    while time.monotonic() < deadline:
        fresh = [r for r in backfill_runs(env) if r["run_id"] not in before or before[r["run_id"]] != r.get("end_date")]
        if len(fresh) >= 3 and all(r["state"] in ("success", "failed") for r in fresh):
            return fresh
        time.sleep(2)
    raise AssertionError(f"backfill runs did not finish: {list_runs(env, DAG_ID)}\n{task_errors(env)}\n"
                         f"{services.explain()}")


@pytest.mark.timeout(1200)  # two backfills (480 s wait each at most) and a live Airflow start
def test_backfill_of_three_past_intervals_syncs_each_record_once(airflow_env, sf_emulator, jira_emulator,
                                                                tmp_path) -> None:
    jira_emulator.reset()
    ids, opportunities = backdated_opportunities(sf_emulator, STAMPS, seed=3)

    env = airflow_env
    prepare(env)
    airflow(env, "dags", "unpause", DAG_ID)

    # An ordinary run of the current interval first: it commits the cursor (now), which the backfill of
    # yesterday's windows must neither move backwards nor use to widen its own window.
    logical = covering_logical_date("*/15 * * * *", dt.datetime.now(dt.UTC))
    airflow(env, "dags", "test", DAG_ID, logical.isoformat(), timeout=300)
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    cursor = store.watermarks("opportunity_to_epic")
    assert cursor == dict.fromkeys(("salesforce", "jira"), logical), cursor

    services = Services(env)
    try:
        runs = run_backfill(services)
        assert sorted(r["state"] for r in runs) == ["success"] * 3, task_errors(env)
        assert store.watermarks("opportunity_to_epic") == cursor
        backfilled = store.runs("opportunity_to_epic", limit=None)
        windows = sorted(s["window"]["since"] for s in backfilled["summary"] if s["window"]["reason"] == "backfill")
        overlap = dt.timedelta(minutes=10)  # the mapping's overlap: each backfill reads its own interval only
        assert windows == [(DAY + dt.timedelta(minutes=m) - overlap).isoformat() for m in (0, 15, 30)]
        first = issues_by_sfid(jira_emulator)
        assert {k: len(v) for k, v in first.items()} == dict.fromkeys(ids, 1)
        assert {r["Id"]: r["Jira_Key__c"] for r in opportunities()} == {k: v[0] for k, v in first.items()}

        jira_emulator.clear_calls()
        again = run_backfill(services, "--reprocess-behavior", "completed")
        assert sorted(r["state"] for r in again) == ["success"] * 3, task_errors(env)
    finally:
        services.stop()
    assert issues_by_sfid(jira_emulator) == first  # re-synced, no duplicates
    writes = {k: v for k, v in jira_emulator.calls()["by_endpoint"].items()
              if k.split()[0] in ("POST", "PUT", "DELETE") and "/search" not in k}
    assert writes == {}, writes
    assert store.watermarks("opportunity_to_epic") == cursor
    store.close()
