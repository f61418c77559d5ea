"""The CeleryExecutor profile (sfjira.celery_profile, docs/celery.md): `airflow backfill create` over
twelve past intervals, fanned out by the scheduler over two `airflow celery worker` processes, syncs every
changed record exactly once -- no duplicate Jira issue even for the records two neighbouring windows both
read -- and leaves the committed cursor where an earlier ordinary run put it (issue 14, must-show 4).

Airflow's metadata DB and Celery's result backend live in a PostgreSQL database made for this test (and
dropped after it), the broker in a Redis database this test claims (and empties after it); the state
store is a schema of that PostgreSQL database, as several machines' workers would share it. Skipped, with
the reason, where Redis, PostgreSQL or the Celery provider are missing.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from emulators.common.process import EmulatorProcess
from sfjira.celery_profile import (
    CeleryProfile,
    celery_problem,
    celery_workers,
    drop_database,
    postgres_problem,
    recreate_database,
    redis_problem,
)
from sfjira.dag_factory import covering_logical_date
from sfjira.emulator_env import environment, postgres_state
from sfjira.state import StateStore
from tests.dags.backfill_world import backdated_opportunities, issues_by_sfid
from tests.e2e.world import SHIPPED_MAPPINGS
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

PG = sa.make_url(os.environ.get("SFJIRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
REDIS = os.environ.get("SFJIRA_TEST_REDIS_URL", "redis://127.0.0.1:6379")
CLAIM = "sfjira:test-claim"  # the key that marks a Redis database as taken by one test
MAPPING = "opportunity_to_epic"
DAG_ID = f"sfjira_sync__{MAPPING}"
WINDOWS = 12
STATE_SCHEMA = "sfjira_state"
DAY = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
# Twelve 15-minute intervals (the mapping's */15 schedule), two records changed in each: one at minute 3
# and one at minute 8, which the next window's 10-minute overlap reads again.
STAMPS = [DAY + dt.timedelta(minutes=15 * w + m) for w in range(WINDOWS) for m in (3, 8)]


def _claim_redis_db() -> tuple[str, Any]:
    """A Redis database of its own for one test's broker: the first of 1..15 whose claim key is free."""
    import redis

    token = uuid.uuid4().hex
    for db in range(1, 16):
        client = redis.Redis.from_url(f"{REDIS}/{db}")
        if client.set(CLAIM, token, nx=True, ex=3600):
            return f"{REDIS}/{db}", client
        client.close()
    pytest.skip(f"Celery backfill skipped: every Redis database 1..15 at {REDIS} is claimed by another test")


@pytest.fixture
def profile() -> Iterator[CeleryProfile]:
    """A fresh PostgreSQL database and a claimed Redis database; both emptied afterwards."""
    reason = celery_problem()
    if reason is None and (pg := postgres_problem(PG.render_as_string(hide_password=False))):
        reason = f"no PostgreSQL at {PG.render_as_string(hide_password=True)} ({pg})"
    if reason is None and (rd := redis_problem(REDIS)):
        reason = f"no Redis at {REDIS} ({rd})"
    if reason is not None:
        pytest.skip(f"CeleryExecutor backfill skipped: {reason}")
    suffix = uuid.uuid4().hex[:10]
    database = PG.set(database=f"sfjira_celery_{suffix}").render_as_string(hide_password=False)
    broker, client = _claim_redis_db()
    recreate_database(database)
    try:
        yield CeleryProfile(database=database, broker=broker, queue=f"sfjira_{suffix}")
    finally:
        client.flushdb()
        client.close()
        drop_database(database)


@pytest.fixture
def airflow_env(tmp_path: Path, profile: CeleryProfile, sf_emulator: EmulatorProcess,
                jira_emulator: EmulatorProcess) -> dict[str, str]:
    db = sa.make_url(profile.database)
    state = postgres_state(host=db.host or "127.0.0.1", port=db.port or 5432, database=db.database or "",
                           user=db.username or "postgres", schema=STATE_SCHEMA)
    mappings = tmp_path / "mappings"  # this mapping alone: each task process parses one mapping's DAGs
    mappings.mkdir()
    shutil.copy(SHIPPED_MAPPINGS / f"{MAPPING}.yaml", mappings)
    env = airflow_environment(tmp_path / "airflow", environment(sf_emulator.url, jira_emulator.url,
                                                                sf_emulator.ca_bundle, state=state),
                              storage=tmp_path / "runs", task_retries=0, mappings_dir=mappings)
    return {**env, **profile.environment(),
            # Only the backfill's runs: a scheduled run of the current interval would move the cursor.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            # The run waiting for the writer lease gives its worker slots back after 5 s, not 30.
            "AIRFLOW__SFJIRA__WRITER_LEASE_WAIT_SECONDS": "5",
            # A task's first call to the api-server took 35 s on a busy 2-core machine: five tries of the
            # default 5 s ran out and the run failed before its task started.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60"}


def backfill(services: Services) -> list[dict]:
    """Create a backfill over the twelve intervals, two runs at a time, and wait for its runs to finish
    (polled through the REST API: a CLI call per poll would take a core from the scheduler and workers).

    A mapping's runs write one after another (its writer lease spans extract to load), so more runs at once
    would not go faster: the waiting runs' extracts would take the worker slots from the lease holder's next
    task, whose priority is lower (docs/celery.md). Two at a time keeps the lease contended."""
    env = services.env
    to_date = DAY + dt.timedelta(minutes=15 * (WINDOWS - 1))
    proc = subprocess.run([str(AIRFLOW), "backfill", "create", "--dag-id", DAG_ID, "--from-date", DAY.isoformat(),
                           "--to-date", to_date.isoformat(), "--max-active-runs", "2"], env=env,
                          capture_output=True, text=True, timeout=180, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        runs = services.dag_runs(DAG_ID, run_type="backfill")
        if len(runs) >= WINDOWS and all(r["state"] in ("success", "failed") for r in runs):
            return runs
        time.sleep(3)
    raise AssertionError(f"backfill runs did not finish: {services.dag_runs(DAG_ID)}\n{task_errors(env)}\n"
                         f"{services.explain()}")


# A live Airflow's start, one ordinary run, twelve backfill runs (1800 s at most). On 2 cores it took 4.6 min
# at a load average of 2-5 and 13 min at 12: the runs write one after another (the mapping's writer lease).
@pytest.mark.timeout(2400)
def test_backfill_of_twelve_windows_fans_out_over_two_celery_workers(airflow_env, profile, sf_emulator,
                                                                     jira_emulator) -> None:
    jira_emulator.reset()
    ids, opportunities = backdated_opportunities(sf_emulator, STAMPS, seed=5)

    env = airflow_env
    prepare(env)
    airflow(env, "dags", "unpause", DAG_ID)
    # An ordinary run of the current interval commits the cursor (now): the backfill must leave it there.
    logical = covering_logical_date("*/15 * * * *", dt.datetime.now(dt.UTC))
    airflow(env, "dags", "test", DAG_ID, logical.isoformat(), timeout=300)
    db = sa.make_url(profile.database).set(drivername="postgresql+psycopg2")
    store = StateStore(db, schema=STATE_SCHEMA)
    cursor = store.watermarks(MAPPING)
    assert cursor == dict.fromkeys(("salesforce", "jira"), logical), cursor

    started = time.monotonic()
    with Services(env, workers=celery_workers(env, profile, count=2, concurrency=2)) as services:
        runs = backfill(services)
        elapsed = time.monotonic() - started
        assert sorted(r["state"] for r in runs) == ["success"] * WINDOWS, task_errors(env)
        hosts: dict[str, int] = {}
        for run in runs:
            for ti in services.task_instances(DAG_ID, run["dag_run_id"]):
                hosts[ti["hostname"]] = hosts.get(ti["hostname"], 0) + 1
    print(f"12-window backfill on two Celery workers: {elapsed:.0f} s; task instances per worker: {hosts}")
    assert set(hosts) == {"worker-1", "worker-2"}, hosts  # fanned out: each worker ran some of them
    assert sum(hosts.values()) == 7 * WINDOWS, hosts

    issues = issues_by_sfid(jira_emulator)
    assert {k: len(v) for k, v in issues.items()} == dict.fromkeys(ids, 1)  # every record, exactly once
    assert {r["Id"]: r["Jira_Key__c"] for r in opportunities()} == {k: v[0] for k, v in issues.items()}
    backfilled = store.runs(MAPPING, limit=None)
    windows = sorted(s["window"]["since"] for s in backfilled["summary"] if s["window"]["reason"] == "backfill")
    overlap = dt.timedelta(minutes=10)
    assert windows == [(DAY + dt.timedelta(minutes=15 * w) - overlap).isoformat() for w in range(WINDOWS)]
    assert store.watermarks(MAPPING) == cursor
    store.close()
