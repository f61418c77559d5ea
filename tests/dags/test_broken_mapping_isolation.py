"""A broken mapping never stops the others, as Airflow's own DAG processor records it in the metadata DB.

Airflow marks every DAG of a file that has an import error stale (the scheduler then stops scheduling
it), so this runs the real `airflow dag-processor` against a real metadata DB: first with two good
mappings, then with one of them broken. The broken one's problem is an import error naming file, line,
field and fix; the good one's DAGs stay active and error-free.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = Path(sys.executable).parent / "airflow"
GOOD = {"sfjira_sync__opportunity_to_epic", "sfjira_reconcile__opportunity_to_epic"}
BROKEN = {"sfjira_sync__case_to_bug", "sfjira_reconcile__case_to_bug"}


def _airflow(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(AIRFLOW), *args], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _dags(db: Path) -> dict[str, tuple[int, int]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT dag_id, is_stale, has_import_errors FROM dag WHERE dag_id LIKE 'sfjira_%'")
        return {dag_id: (int(stale), int(errors)) for dag_id, stale, errors in rows}


def _import_errors(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return {Path(name).name: trace for name, trace in conn.execute("SELECT filename, stacktrace FROM import_error")}


def test_the_dag_processor_keeps_good_mappings_active_and_reports_the_broken_one(tmp_path: Path) -> None:
    home, mappings = tmp_path / "airflow", tmp_path / "mappings"
    mappings.mkdir()
    for name in ("case_to_bug.yaml", "opportunity_to_epic.yaml"):
        shutil.copy(REPO / "include" / "mappings" / name, mappings / name)
    env = {**os.environ, "AIRFLOW_HOME": str(home), "SFJIRA_MAPPINGS_DIR": str(mappings),
           "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}"}
    _airflow(env, "db", "migrate")
    _airflow(env, "dag-processor", "--num-runs", "1")
    db = home / "airflow.db"
    assert all(_dags(db)[d] == (0, 0) for d in GOOD | BROKEN), _dags(db)
    assert _import_errors(db) == {}

    bad = mappings / "case_to_bug.yaml"
    bad.write_text(bad.read_text().replace("owner: jira                   # triage", "owner: nobody"))
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if "owner: nobody" in text)
    _airflow(env, "dag-processor", "--num-runs", "1")

    dags = _dags(db)
    assert {d: dags[d] for d in GOOD} == dict.fromkeys(GOOD, (0, 0))
    errors = _import_errors(db)
    assert set(errors) == {"sfjira_mapping_errors.py"}
    assert f"{bad}:{line}: field `fields[2].owner`" in errors["sfjira_mapping_errors.py"]
    assert "fix: use one of: salesforce, jira, latest" in errors["sfjira_mapping_errors.py"]
