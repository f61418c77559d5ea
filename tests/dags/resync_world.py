"""What the re-sync test (test_resync_scheduler.py) and the scheduler-crash reproduction
(bench/scheduler_crash.py) share: the sync DAG on a short schedule, its runs and its scheduler through a
live Airflow (tests/live_airflow.py), and the log lines of Airflow 3.3.2's scheduler crash when a backfill
reaches the latest interval (apache/airflow#59120; README, "Re-syncing the last N hours")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sfjira.local_airflow import Component
from tests.live_airflow import REPO, Services

DAG_ID = "sfjira_sync__opportunity_to_epic"
CRASH = "UNIQUE constraint failed: dag_run.dag_id, dag_run.logical_date"
# Seen too, on SQLite: the backfill's creation meets the scheduler's lock, Airflow answers 503 and deletes
# the runs it had begun (models/backfill.py `_cleanup_partial_backfill`) under the scheduler's feet, whose
# error handler then reads the deleted run (scheduler_job_runner.py `_schedule_all_dag_runs`).
DELETED = "sqlalchemy.orm.exc.ObjectDeletedError: Instance '<DagRun"
# ... or, the same deletion met one step earlier, when the scheduler writes the run's new state.
STALE = "StaleDataError: UPDATE statement on table 'dag_run' expected to update 1 row(s); 0 were matched"


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


def scheduler(services: Services) -> Component:
    return next(proc for proc in services.procs if proc.name == "scheduler")


def scheduler_alive(services: Services) -> bool:
    return scheduler(services).exit_code() is None


def scheduler_log(services: Services) -> str:
    return scheduler(services).log.read_text(errors="replace")
