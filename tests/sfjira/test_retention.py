"""Run folders older than the retention period are removed: only the DAG's own, never the current run."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from sfjira.exceptions import SfJiraError
from sfjira.retention import remove_old_runs, retention_days
from sfjira.storage import run_path, safe_name, write_text

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DAG = "sfjira_sync__case_to_bug"


@pytest.fixture
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SFJIRA_STORAGE", f"file://{tmp_path / 'runs'}")
    return tmp_path / "runs"


def _run(dag_id: str, run_id: str, age_days: float) -> Path:
    folder = Path(str(run_path(dag_id, run_id)).removeprefix("file://"))
    write_text(run_path(dag_id, run_id), "plan_diff.md", "x")
    stamp = (NOW - dt.timedelta(days=age_days)).timestamp()
    for path in (folder / "plan_diff.md", folder):
        os.utime(path, (stamp, stamp))
    return folder


def test_old_folders_of_the_dag_go_and_the_rest_stay(storage: Path) -> None:
    old = _run(DAG, "scheduled__2026-05-01", 31)
    recent = _run(DAG, "scheduled__2026-05-30", 2)
    current = _run(DAG, "manual__2026-06-01", 40)   # even an old-looking current run is kept
    other_dag = _run("sfjira_sync__opportunity_to_epic", "scheduled__2026-05-01", 31)
    removed = remove_old_runs(DAG, "manual__2026-06-01", days=7, now=NOW)
    assert [Path(p.removeprefix("file://")).name for p in removed] == [old.name]
    assert not old.exists()
    assert recent.exists() and current.exists() and other_dag.exists()


def test_a_recent_file_keeps_an_old_folder(storage: Path) -> None:
    folder = _run(DAG, "scheduled__2026-05-01", 31)
    fresh = (NOW - dt.timedelta(hours=1)).timestamp()
    (folder / "late.parquet").write_bytes(b"x")
    os.utime(folder / "late.parquet", (fresh, fresh))
    os.utime(folder, ((NOW - dt.timedelta(days=31)).timestamp(),) * 2)
    assert remove_old_runs(DAG, "current", days=7, now=NOW) == []


def test_the_period_is_an_airflow_setting(storage: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert retention_days() == 7
    old = _run(DAG, "scheduled__2026-05-29", 3)
    assert remove_old_runs(DAG, "current", now=NOW) == []
    monkeypatch.setenv("AIRFLOW__SFJIRA__RUN_RETENTION_DAYS", "1.5")
    assert retention_days() == 1.5
    assert len(remove_old_runs(DAG, "current", now=NOW)) == 1 and not old.exists()


@pytest.mark.parametrize("value", ["-1", "a week"])
def test_a_bad_setting_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AIRFLOW__SFJIRA__RUN_RETENTION_DAYS", value)
    with pytest.raises(SfJiraError) as err:
        retention_days()
    assert err.value.code == "SETTING_INVALID" and "RUN_RETENTION_DAYS" in err.value.fix


def test_nothing_to_do_without_a_dag_folder(storage: Path) -> None:
    assert remove_old_runs("sfjira_sync__never_ran", safe_name("x"), days=0, now=NOW) == []
