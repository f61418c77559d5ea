"""`@one_writer`: the steps of a writing DAG run hold their mapping's writer lease, in the run's name, from
the first step to the last; a dry run takes none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfjira.exceptions import SfJiraError
from sfjira.state import StateStore
from sfjira.state.lease import WriterBusy
from sfjira.sync.run import SyncRun, Window
from sfjira.sync.writer import one_writer, task_name

MAPPING = Path(__file__).resolve().parents[3] / "include" / "mappings" / "case_to_bug.yaml"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as opened:
        yield opened


def _run(store: StateStore, *, dry_run: bool = False) -> SyncRun:
    run = SyncRun(mapping_file=str(MAPPING), dag_id="sfjira_sync__case_to_bug", airflow_run_id="manual__1",
                  window=Window(NOW, NOW + dt.timedelta(minutes=10)), dry_run=dry_run)
    run.__dict__["state"] = store
    return run


@one_writer(keep=True)
def extract(run: SyncRun, fail: SfJiraError | None = None) -> str | None:
    if fail is not None:
        raise fail
    lease = run.state.lease(run.name)
    return lease.holder if lease else None


@one_writer()
def load(run: SyncRun) -> str | None:
    lease = run.state.lease(run.name)
    return lease.holder if lease else None


@one_writer(when=lambda run: run.extra.get("heal", True))
def heal(run: SyncRun) -> tuple[str | None, str | None]:
    lease = run.state.lease(run.name)
    return (lease.holder if lease else None), load(run)  # the heal's loads run under its lease


def test_a_run_holds_the_lease_from_its_first_step_to_its_last(store: StateStore) -> None:
    assert extract(_run(store)) == "sfjira_sync__case_to_bug/manual__1"
    held = store.lease("case_to_bug")
    assert held is not None and held.holder == "sfjira_sync__case_to_bug/manual__1"  # kept for the next step
    assert held.task is not None and held.task.startswith("sfjira_sync__case_to_bug/manual__1 on ")
    assert not store.acquire_lease("case_to_bug", "sfjira_sync__case_to_bug/manual__2", 60).held_by(
        "sfjira_sync__case_to_bug/manual__2")
    assert load(_run(store)) == "sfjira_sync__case_to_bug/manual__1"  # the same run takes it again
    assert store.lease("case_to_bug") is None  # its last step released it


def test_a_failed_step_outside_a_task_releases_the_lease(store: StateStore) -> None:
    """Nothing retries a step run outside Airflow (in a task, a transient failure before the last try keeps
    the lease for the retry: sfjira.state.lease's `keep`)."""
    with pytest.raises(SfJiraError):
        extract(_run(store), SfJiraError("the API is down", transient=True))
    assert store.lease("case_to_bug") is None


def test_a_heal_holds_one_lease_for_itself_and_its_loads(store: StateStore) -> None:
    outer, inner = heal(_run(store))
    assert outer is not None and outer == inner
    assert store.lease("case_to_bug") is None


def test_a_dry_run_or_a_heal_without_auto_heal_takes_no_lease(store: StateStore) -> None:
    store.acquire_lease("case_to_bug", "someone else", 60)
    assert load(_run(store, dry_run=True)) == "someone else"  # ran at once, beside the holder
    run = _run(store)
    run.extra["heal"] = False
    assert heal(run)[0] == "someone else"


def test_a_busy_mapping_fails_transiently_after_the_wait(store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SFJIRA__WRITER_LEASE_WAIT_SECONDS", "0.3")
    store.acquire_lease("case_to_bug", "sfjira_sync__case_to_bug/manual__0", 60,
                        task="sfjira_sync__case_to_bug/manual__0/load_jira try 1 on w1 pid 7")
    with pytest.raises(WriterBusy, match="manual__0 \\(sfjira_sync__case_to_bug/manual__0/load_jira try 1 on w1 pid 7\\)"):
        load(_run(store))


def test_outside_a_task_the_holder_is_the_dag_run(store: StateStore) -> None:
    assert task_name(_run(store)) == "sfjira_sync__case_to_bug/manual__1"
