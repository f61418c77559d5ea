"""The CeleryExecutor profile of a local Airflow (sfjira.local_airflow): the metadata DB and Celery's
result backend on PostgreSQL, Redis as the broker, and `airflow celery worker` processes that take the
tasks the scheduler queues. `python -m sfjira.live --executor celery` and the CeleryExecutor backfill
test (tests/dags/test_backfill_celery.py) use it; docs/celery.md gives the same profile as plain commands.

Development tooling, like sfjira.local_airflow: a deployment sets the same AIRFLOW__* values its own way.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from sfjira.local_airflow import AIRFLOW, Component

WORKER_NAME_ENV = "SFJIRA_WORKER_NAME"


@dataclass(frozen=True)
class CeleryProfile:
    """Where CeleryExecutor's shared pieces live. `database`: a PostgreSQL URL (postgresql://user@host:port/db)
    for Airflow's metadata and Celery's results; `broker`: a Redis URL (redis://host:port/db); `queue`: the
    one queue the scheduler sends tasks to and the workers serve."""

    database: str
    broker: str
    queue: str = "default"

    @property
    def sqlalchemy_url(self) -> str:
        return str(sa.make_url(self.database).set(drivername="postgresql+psycopg2").render_as_string(False))

    def environment(self) -> dict[str, str]:
        """The AIRFLOW__* settings every component and worker shares (on top of airflow_environment's)."""
        return {"AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.sqlalchemy_url,
                "AIRFLOW__CELERY__BROKER_URL": self.broker,
                # Celery's own result table in the same database: one PostgreSQL to run and back up.
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{self.sqlalchemy_url}",
                # Every task goes to this queue (no sfjira task names another): the workers serve only it.
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue}


def worker_hostname() -> str:
    """`[core] hostname_callable` of the local workers: the name each was given ($SFJIRA_WORKER_NAME), so
    the task instances say which of several workers on one machine ran them (the machine's name
    otherwise, as Airflow's default)."""
    return os.environ.get(WORKER_NAME_ENV) or socket.getfqdn()


def celery_workers(env: Mapping[str, str], profile: CeleryProfile, *, count: int = 2,
                   concurrency: int = 2) -> list[Component]:
    """`count` Celery workers `worker-1`, `worker-2`, ... serving the profile's queue, each running up to
    `concurrency` tasks at once. On one machine they share the log folder, so the api-server reads task
    logs from disk and the workers serve none (their log servers would contend for one port)."""
    workers = []
    for n in range(1, count + 1):
        name = f"worker-{n}"
        worker_env = {**env, **profile.environment(), WORKER_NAME_ENV: name,
                      "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname"}
        argv = [str(AIRFLOW), "celery", "worker", "--concurrency", str(concurrency), "--queues", profile.queue,
                "--celery-hostname", f"{name}@%h", "--skip-serve-logs"]
        workers.append(Component(f"celery-{name}", argv, worker_env,
                                 log=Path(env["AIRFLOW_HOME"]) / "logs" / f"celery-{name}.log"))
    return workers


def postgres_problem(database: str) -> str | None:
    """None when the PostgreSQL server of `database` answers, else why not (the reason to skip or stop)."""
    try:
        with _maintenance(database) as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as err:  # noqa: BLE001 - whatever stops it is the reason to report
        return str(err).strip().splitlines()[0]
    return None


def redis_problem(broker: str) -> str | None:
    """None when the Redis at `broker` answers PING, else why not."""
    try:
        import redis  # comes with celery[redis], which the Celery provider requires
    except ImportError:
        return "the redis client is not installed (pip install -r requirements.txt)"
    try:
        client = redis.Redis.from_url(broker, socket_connect_timeout=3)
        client.ping()
        client.close()
    except Exception as err:  # noqa: BLE001 - whatever stops it is the reason to report
        return str(err).strip().splitlines()[0]
    return None


def celery_problem() -> str | None:
    """None when the Celery provider is installed, else what to do."""
    try:
        import airflow.providers.celery  # noqa: F401
    except ImportError:
        return "apache-airflow-providers-celery is not installed (pip install -r requirements.txt)"
    return None


@contextlib.contextmanager
def _maintenance(database: str) -> Iterator[sa.Connection]:
    """A connection to the `postgres` database of the server `database` names, outside any transaction
    (CREATE and DROP DATABASE refuse to run in one)."""
    url = sa.make_url(database).set(drivername="postgresql+psycopg2", database="postgres")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def recreate_database(database: str) -> None:
    """Drop the database `database` names (ending its sessions) and create it empty."""
    name = sa.make_url(database).database
    with _maintenance(database) as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))


def drop_database(database: str) -> None:
    name = sa.make_url(database).database
    with _maintenance(database) as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
