"""End-to-end fixtures: a migrated Airflow metadata DB, a state store per test (SQLite, and PostgreSQL
when one answers), and a `world` with both emulators reset, connections in AIRFLOW_CONN_* variables
and a private mappings folder."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from emulators.common.process import EmulatorProcess
from sfjira.emulator_env import environment, postgres_state, sqlite_state
from tests.e2e.world import World, copy_shipped_mappings

# PostgreSQL as the state-store tests reach it (SFJIRA_TEST_PG_URL, default 127.0.0.1:5432/test, trust).
PG = sa.make_url(os.environ.get("SFJIRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))


# Each test's mapping files live in its own folder, so every test adds a version of the same DAG ids;
# Airflow's DagRun.serialized_dag relationship then warns while dag.test() commits. Nothing is wrong.
SERIALIZED_DAG_VERSIONS = "ignore:Multiple rows returned with uselist=False:sqlalchemy.exc.SAWarning"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.filterwarnings(SERIALIZED_DAG_VERSIONS))


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """`airflow db migrate` once, in the session's isolated AIRFLOW_HOME (set by tests/conftest.py)."""
    airflow = Path(sys.executable).parent / "airflow"
    done = subprocess.run([str(airflow), "db", "migrate"], env=dict(os.environ), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    """None when a state store opens on PostgreSQL, else why not (the reason for the skip)."""
    from sfjira.state import StateStore

    try:
        with StateStore(PG) as store:
            store.schema_version()
    except Exception as err:  # noqa: BLE001 - whatever stops it is the reason to report
        return str(err).strip().splitlines()[0]
    return None


# SQLITE_STATE_ONLY (tests.e2e.world) narrows it to SQLite for the files where the backend does not matter.
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def state_conn(request: pytest.FixtureRequest, tmp_path: Path, postgres_problem: str | None
               ) -> Iterator[dict[str, Any]]:
    """The `sfjira_state` connection: a fresh SQLite file, or a PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield sqlite_state(str(tmp_path / "state.db"))
        return
    if postgres_problem is not None:
        pytest.skip(f"state store on PostgreSQL skipped: cannot open one at "
                    f"{PG.render_as_string(hide_password=True)} ({postgres_problem})")
    schema = f"sfjira_e2e_{uuid.uuid4().hex[:10]}"
    try:
        yield postgres_state(host=PG.host or "127.0.0.1", port=PG.port or 5432, database=PG.database or "test",
                             user=PG.username or "postgres", schema=schema)
    finally:
        engine = sa.create_engine(PG.set(drivername="postgresql+psycopg2"))
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def _fresh(emulator: EmulatorProcess) -> None:
    emulator.clear_faults()
    emulator.set_latency(0)
    emulator.reset()
    emulator.clear_calls()


@pytest.fixture
def world(airflow_db: None, sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess,
          state_conn: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    _fresh(sf_emulator)
    _fresh(jira_emulator)
    env = environment(sf_emulator.url, jira_emulator.url, sf_emulator.ca_bundle, state=state_conn)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    mappings = copy_shipped_mappings(tmp_path / "mappings")
    monkeypatch.setenv("SFJIRA_MAPPINGS_DIR", str(mappings))
    monkeypatch.setenv("SFJIRA_STORAGE", f"file://{tmp_path / 'runs'}")
    monkeypatch.setenv("SFJIRA_TASK_RETRIES", "0")
    monkeypatch.setenv("SFJIRA_RETRY_DELAY_S", "0.1")
    # A SIGKILLed `airflow dags test` leaves its DAG run "running" in Airflow (no scheduler marks it failed), so
    # its writer lease is never taken over, only waited out: 20 s, not the production 300 s, per killed run.
    monkeypatch.setenv("AIRFLOW__SFJIRA__WRITER_LEASE_SECONDS", "20")
    built = World(sf_emulator, jira_emulator, mappings, tmp_path / "runs")
    # The store falls back to a default SQLite file when the connection is missing: make sure it did not.
    expected = "postgresql" if state_conn["conn_type"] == "postgres" else f"sqlite:///{state_conn['host']}"
    assert built.store.url.startswith(expected), built.store.url
    yield built
    if "store" in built.__dict__:
        built.store.close()
    # dag.test() works in Airflow's process-wide scoped session: one a failed run left mid-transaction would
    # fail every later test on this worker with PendingRollbackError. Each test starts from a new one.
    from airflow import settings

    if settings.Session is not None:
        settings.Session.remove()
    _fresh(sf_emulator)  # other suites share these processes: leave them empty, in cloud mode, unfaulted
    _fresh(jira_emulator)
