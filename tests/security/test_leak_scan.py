"""Must-show 5: after real sync, dry, incremental and reconciliation runs of the shipped mappings, on
SQLite and on PostgreSQL, nothing they left -- Airflow home (metadata DB incl. XCom and rendered fields,
logs), the run's console output, state stores, run folders and reports -- holds any credential the
emulators accepted or issued, or any e-mail address of a contact (the mappings' PII field).

The runs happen in a process of their own with a fresh AIRFLOW_HOME (tests/security/scenario.py), so
the scan sees exactly what they left, whatever ran before in this session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from emulators.common.process import EmulatorProcess
from sfjira.emulator_env import postgres_state, sqlite_state
from tests.e2e.conftest import PG, postgres_problem  # noqa: F401 - the session fixture
from tests.security.scan import Hit, Needle, needles_from_secrets, scan_paths, scan_postgres
from tests.security.scenario import SCENARIO_ENV

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SHOWN = 80


@dataclass
class Leftovers:
    folder: Path            # everything the runs left on disk
    airflow_home: Path
    console: Path
    pg_schema: str | None   # the PostgreSQL pass's state schema, when PostgreSQL answered
    needles: list[Needle]
    failed: dict[str, str]  # pass name -> the traceback that ended it early


def _child_env(home: Path) -> dict[str, str]:
    """This process's environment without any connection or sfjira setting a test may have left, plus
    a fresh Airflow home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SFJIRA_")) or k == "SFJIRA_TEST_PG_URL"}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"), "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])})
    return env


def _endpoint(proc: EmulatorProcess) -> dict[str, str]:
    return {"url": proc.url, "ca_bundle": proc.ca_bundle, "admin_token": proc.admin_token}


@pytest.fixture(scope="module")
def leftovers(sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess, tmp_path_factory: pytest.TempPathFactory,
              postgres_problem: str | None) -> Iterator[Leftovers]:  # noqa: F811
    root = tmp_path_factory.mktemp("leak-scan")
    folder, home = root / "left", root / "left" / "airflow"
    home.mkdir(parents=True)
    env = _child_env(home)
    passes: list[dict[str, Any]] = [{"name": "sqlite", "folder": str(folder / "sqlite"),
                                     "state": sqlite_state(str(folder / "sqlite" / "state.db"))}]
    schema = None if postgres_problem else f"sfjira_scan_{uuid.uuid4().hex[:10]}"
    if schema:
        passes.append({"name": "postgres", "folder": str(folder / "postgres"), "state": postgres_state(
            host=PG.host or "127.0.0.1", port=PG.port or 5432, database=PG.database or "test",
            user=PG.username or "postgres", schema=schema)})
    scenario = {"salesforce": _endpoint(sf_emulator), "jira": _endpoint(jira_emulator), "passes": passes}
    report, console = root / "created.json", folder / "console.log"
    try:
        with console.open("w") as out:
            done = subprocess.run([sys.executable, "-m", "tests.security.scenario", str(report)], cwd=REPO,
                                  env={**env, SCENARIO_ENV: json.dumps(scenario)}, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=540)
        assert done.returncode == 0, console.read_text()[-6000:]
        created = json.loads(report.read_text())
        secrets = [*needles_from_secrets("salesforce", sf_emulator.credentials()),
                   *needles_from_secrets("jira", jira_emulator.credentials()),
                   *needles_from_secrets("connection", created["connection_secrets"])]
        emails = created["emails"]
        yield Leftovers(folder, home, console, schema, [*secrets, *(Needle("PII Contact.Email", e) for e in emails)],
                        created["failed"])
    finally:
        for proc in (sf_emulator, jira_emulator):  # shared with other suites: leave them empty
            proc.clear_faults()
            proc.reset()
            proc.clear_calls()
        if schema:
            engine = sa.create_engine(PG.set(drivername="postgresql+psycopg2"))
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()


def _report(hits: list[Hit]) -> str:
    lines = sorted({str(h) for h in hits})
    more = f"\n... and {len(lines) - SHOWN} more" if len(lines) > SHOWN else ""
    return f"{len(lines)} leak(s):\n" + "\n".join(lines[:SHOWN]) + more


def test_every_pass_ran_to_the_end(leftovers: Leftovers) -> None:
    """A pass that failed early left less to scan, so a clean scan of it would prove less."""
    assert not leftovers.failed, "\n".join(f"pass {name} failed:\n{tb[-4000:]}" for name, tb in leftovers.failed.items())


def test_the_scan_covers_every_kind_of_place(leftovers: Leftovers) -> None:
    """Guards the scan itself: the runs really happened and left what the scan is meant to search."""
    kinds = {n.label for n in leftovers.needles}
    assert {"salesforce client_secret", "salesforce access_token", "salesforce jwt_private_key",
            "jira api_token", "jira basic_auth", "connection AIRFLOW_CONN_SALESFORCE_DEFAULT client_secret",
            "connection AIRFLOW_CONN_SFJIRA_CRYPTO password", "PII Contact.Email"} <= kinds
    assert sum(n.label == "PII Contact.Email" for n in leftovers.needles) >= 4 * (1 + bool(leftovers.pg_schema))
    files = {p.relative_to(leftovers.folder).as_posix() for p in leftovers.folder.rglob("*") if p.is_file()}
    assert "airflow/airflow.db" in files and "sqlite/state.db" in files
    for name in ("sf_records/part-00000.parquet", "plan_diff.md", "drift.json", "drift_report.html"):
        assert any(f.startswith("sqlite/runs/") and f.endswith(name) for f in files), name
    assert leftovers.console.stat().st_size > 0


def test_no_secret_and_no_pii_in_any_file(leftovers: Leftovers) -> None:
    hits = scan_paths([leftovers.folder], leftovers.needles)
    assert not hits, _report(hits)


@pytest.mark.postgres
def test_no_secret_and_no_pii_in_the_postgres_state_store(leftovers: Leftovers) -> None:
    if leftovers.pg_schema is None:
        pytest.skip(f"no PostgreSQL at {PG.render_as_string(hide_password=True)}: the PostgreSQL pass did not run")
    engine_url = PG.set(drivername="postgresql+psycopg2")
    assert sa.inspect(sa.create_engine(engine_url)).get_table_names(schema=leftovers.pg_schema)
    hits = scan_postgres(engine_url, leftovers.pg_schema, leftovers.needles)
    assert not hits, _report(hits)
