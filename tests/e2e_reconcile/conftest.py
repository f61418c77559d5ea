"""Fixtures for the reconciliation DAG end to end: the migrated Airflow metadata DB (the e2e suite's
session fixture), and a `recon` world per test -- both emulators reset, AIRFLOW_CONN_* variables, a
fresh SQLite state store, a private mappings folder and run storage -- that runs the sync DAG and
the reconciliation DAG with dag.test()."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from emulators.common.process import EmulatorProcess
from sfjira.emulator_env import environment, sqlite_state
from tests.e2e.conftest import airflow_db  # noqa: F401 - the session fixture, shared with tests/e2e
from tests.e2e.world import copy_shipped_mappings
from tests.e2e_reconcile.recon import Recon

pytestmark = pytest.mark.e2e



def _fresh(emulator: EmulatorProcess) -> None:
    emulator.clear_faults()
    emulator.set_latency(0)
    emulator.reset()
    emulator.clear_calls()


@contextmanager
def open_world(sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess, folder: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[Recon]:
    _fresh(sf_emulator)
    _fresh(jira_emulator)
    env = environment(sf_emulator.url, jira_emulator.url, sf_emulator.ca_bundle,
                      state=sqlite_state(str(folder / "state.db")))
    for key, value in {**env, "SFJIRA_STORAGE": f"file://{folder / 'runs'}", "SFJIRA_TASK_RETRIES": "0",
                       "SFJIRA_RETRY_DELAY_S": "0.1",
                       # a few records per compare bucket: the DAG compares these small worlds bucket by bucket
                       "AIRFLOW__SFJIRA__PART_RECORDS": "4",
                       "SFJIRA_MAPPINGS_DIR": str(copy_shipped_mappings(folder / "mappings"))}.items():
        monkeypatch.setenv(key, value)
    world = Recon(sf_emulator, jira_emulator, folder / "mappings", folder / "runs")
    try:
        yield world
    finally:
        if "store" in world.__dict__:
            world.store.close()


@pytest.fixture
def recon(airflow_db: None, sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess, tmp_path: Path,  # noqa: F811
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Recon]:
    """A fresh world for one test."""
    with open_world(sf_emulator, jira_emulator, tmp_path, monkeypatch) as world:
        yield world
