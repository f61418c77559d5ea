"""`airflow backfill create` over three past intervals, executed by a real scheduler, re-syncs those
windows with no duplicates and writes nothing beyond them. The backfill reads exactly its own windows and
leaves the committed cursor of an earlier ordinary run where it was (issue 11, must-show 1c).

Runs Airflow's own CLI in subprocesses against an isolated AIRFLOW_HOME: db migrate, pools,
reserialize, backfill create, then an api-server + scheduler (LocalExecutor) until the runs finish.

One backfill, not two: a second one over the same windows (`--reprocess-behavior completed`) used to
follow, but it read nothing -- the first one's write-back of Jira_Key__c moves each record's
SystemModstamp to now, out of yesterday's windows -- so it only showed that an empty window writes
nothing and leaves the cursor, which the first backfill shows here too (its writes are its creates and
write-backs, nothing else; the cursor is checked after it). Running one Airflow run again under its run id
is tests/e2e/test_changes.py's; a twelve-window backfill on Celery workers is test_backfill_celery.py.
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
    prepare,
    task_errors,
)

pytestmark = [pytest.mark.e2e, pytest.mark.live_airflow]

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


def run_backfill(services: Services) -> list[dict]:
    """Create a backfill over the three intervals and wait for its runs to finish (polled through the REST
    API: a CLI call per poll would take a core from the scheduler)."""
    env = services.env
    args = [str(AIRFLOW), "backfill", "create", "--dag-id", DAG_ID,
            "--from-date", DAY.isoformat(), "--to-date", (DAY + dt.timedelta(minutes=30)).isoformat()]
    deadline = time.monotonic() + 300
    while True:
        proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
        if proc.returncode == 0:
            break
        # The scheduler holds the SQLite metadata DB's lock at times: the CLI's insert then loses the race.
        assert "database is locked" in proc.stderr + proc.stdout and time.monotonic() < deadline, \
            proc.stderr[-3000:]
        time.sleep(2)
    deadline = time.monotonic() + 480  # 240 s ran out once with two live Airflows on two busy cores
    while time.monotonic() < deadline:
        runs = services.dag_runs(DAG_ID, run_type="backfill")
        if len(runs) >= 3 and all(r["state"] in ("success", "failed") for r in runs):
            return runs
        time.sleep(2)
    raise AssertionError(f"backfill runs did not finish: {services.dag_runs(DAG_ID)}\n{task_errors(env)}\n"
                         f"{services.explain()}")


@pytest.mark.timeout(900)  # a live Airflow start and one backfill (480 s wait at most)
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

    with Services(env) as services:
        runs = run_backfill(services)
        assert sorted(r["state"] for r in runs) == ["success"] * 3, task_errors(env)
    assert store.watermarks("opportunity_to_epic") == cursor
    backfilled = [s for s in store.runs("opportunity_to_epic", limit=None)["summary"]
                  if s["window"]["reason"] == "backfill"]
    windows = sorted(s["window"]["since"] for s in backfilled)
    overlap = dt.timedelta(minutes=10)  # the mapping's overlap: each backfill reads its own interval only
    assert windows == [(DAY + dt.timedelta(minutes=m) - overlap).isoformat() for m in (0, 15, 30)]
    issues = issues_by_sfid(jira_emulator)
    assert {k: len(v) for k, v in issues.items()} == dict.fromkeys(ids, 1)  # each record once
    assert {r["Id"]: r["Jira_Key__c"] for r in opportunities()} == {k: v[0] for k, v in issues.items()}
    # Nothing written but what the six records needed: their issues (and their keys written back, which
    # moves them out of yesterday's windows: a later window re-reads none of them).
    created = sum(s["sf_to_jira"]["created"] for s in backfilled)
    updated = sum(s["sf_to_jira"]["updated"] for s in backfilled)
    assert (created, updated) == (len(ids), 0), backfilled
    store.close()
