"""The CeleryExecutor profile's settings, workers and service checks (the live profile itself:
tests/dags/test_backfill_celery.py)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from sfjira import live
from sfjira.celery_profile import (
    WORKER_NAME_ENV,
    CeleryProfile,
    celery_workers,
    postgres_problem,
    redis_problem,
    worker_hostname,
)
from sfjira.local_airflow import free_port

PROFILE = CeleryProfile(database="postgresql://postgres@db.internal:5432/airflow",
                        broker="redis://redis.internal:6379/3", queue="sfjira_q")


def test_every_component_gets_celery_postgres_and_the_one_queue() -> None:
    env = PROFILE.environment()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://postgres@db.internal:5432/airflow"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+postgresql+psycopg2://postgres@db.internal:5432/airflow"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis.internal:6379/3"
    assert env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] == "sfjira_q"


def test_workers_serve_the_queue_under_names_of_their_own(tmp_path: Path) -> None:
    workers = celery_workers({"AIRFLOW_HOME": str(tmp_path)}, PROFILE, count=2, concurrency=3)
    assert [w.name for w in workers] == ["celery-worker-1", "celery-worker-2"]
    for n, worker in enumerate(workers, 1):
        assert worker.argv[1:4] == ["celery", "worker", "--concurrency"] and worker.argv[4] == "3"
        assert worker.argv[worker.argv.index("--queues") + 1] == "sfjira_q"
        assert worker.argv[worker.argv.index("--celery-hostname") + 1] == f"worker-{n}@%h"
        assert worker.env[WORKER_NAME_ENV] == f"worker-{n}"
        assert worker.env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "sfjira.celery_profile.worker_hostname"
        assert worker.log == tmp_path / "logs" / f"celery-worker-{n}.log"


def test_worker_hostname_is_the_given_name_else_the_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setenv(WORKER_NAME_ENV, "worker-2")
    assert worker_hostname() == "worker-2"
    monkeypatch.delenv(WORKER_NAME_ENV)
    assert worker_hostname() == socket.getfqdn()


def test_missing_services_are_named_with_the_reason() -> None:
    port = free_port()  # nothing listens there
    assert redis_problem(f"redis://127.0.0.1:{port}/0")
    assert postgres_problem(f"postgresql://postgres@127.0.0.1:{port}/x")


def test_live_celery_without_redis_says_so_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broker = f"redis://127.0.0.1:{free_port()}/0"
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}  # main() sets its own
    try:
        code = live.main(["--executor", "celery", "--broker", broker, "--dir", str(tmp_path / "live"),
                          "--database", f"postgresql://postgres@127.0.0.1:{free_port()}/sfjira_live_test"])
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert code == 1
    err = capsys.readouterr().err
    assert "--executor celery needs its services" in err and "does not answer" in err
    assert not (tmp_path / "live").exists()  # nothing started, nothing dropped
