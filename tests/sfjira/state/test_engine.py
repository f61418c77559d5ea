"""Where the store lives: Airflow connection or default SQLite file; URL handling; SQLite settings."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from sfjira.exceptions import StateStoreError
from sfjira.state import StateStore
from sfjira.state.engine import create_state_engine, normalize_url

from .conftest import _drop_schema


def test_without_the_connection_the_default_sqlite_file_under_airflow_home_is_used(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("AIRFLOW_CONN_SFJIRA_STATE", raising=False)
    with StateStore.from_airflow() as store:
        assert store.url == f"sqlite:///{tmp_path / 'sfjira' / 'state.db'}"
        store.begin_run("accounts", "manual__1")
    assert (tmp_path / "sfjira" / "state.db").exists()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        store.migrate()
        with store.engine.connect() as conn:
            pragmas = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                       for name in ("journal_mode", "foreign_keys", "busy_timeout")}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30_000}
    # WAL is a property of the file: any other process opening it sees it too
    with sqlite3.connect(tmp_path / "state.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_airflow_sqlite_connection(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "state.db"
    monkeypatch.setenv("AIRFLOW_CONN_SFJIRA_STATE", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    with StateStore.from_airflow() as store:
        store.migrate()
    assert path.exists()


def test_airflow_postgres_connection_with_schema_extra(monkeypatch: pytest.MonkeyPatch,
                                                       pg_unreachable: str | None) -> None:
    if pg_unreachable is not None:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {pg_unreachable}")
    schema = f"sfjira_conn_{uuid.uuid4().hex[:8]}"
    # As Airflow writes it: postgres:// scheme, extras as query parameters
    monkeypatch.setenv("AIRFLOW_CONN_SFJIRA_STATE",
                       f"postgres://postgres@127.0.0.1:5432/test?state_schema={schema}&sslmode=disable")
    try:
        with StateStore.from_airflow() as store:
            assert store.url == "postgresql+psycopg2://postgres@127.0.0.1:5432/test?sslmode=disable"
            store.begin_run("accounts", "manual__1")
            with store.engine.connect() as conn:
                assert conn.execute(sa.text("SELECT current_schema()")).scalar() == schema
    finally:
        _drop_schema(schema)


def test_postgres_urls_get_the_psycopg2_driver_and_passwords_stay_hidden() -> None:
    assert normalize_url("postgres://u:s3cret@db:5432/x").drivername == "postgresql+psycopg2"
    assert normalize_url("postgresql://u@db/x").drivername == "postgresql+psycopg2"
    store = StateStore("postgres://u:s3cret@db:5432/x")
    assert "s3cret" not in repr(store) and "s3cret" not in store.url


@pytest.mark.parametrize(("url", "kwargs", "words"), [
    ("mysql://u@db/x", {}, "unsupported state store backend `mysql`"),
    ("not a url", {}, "not a database URL"),
    ("sqlite:///x.db", {"schema": "s"}, "a schema can only be set for PostgreSQL"),
    ("postgresql://u@db/x", {"schema": "x; drop"}, "invalid schema name"),
])
def test_bad_configuration_is_refused_with_a_fix(url: str, kwargs: dict, words: str) -> None:
    with pytest.raises(StateStoreError, match="STATE_URL_INVALID") as err:
        StateStore(url, **kwargs).engine  # noqa: B018 - building the engine is the check
    assert words in err.value.message and err.value.fix


def test_unreachable_database_is_a_typed_error_without_the_password() -> None:
    store = StateStore("postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=2")
    with pytest.raises(StateStoreError) as err:
        store.links("accounts")
    assert err.value.code == "STATE_UNAVAILABLE"
    assert "retried" in err.value.fix and "s3cret" not in str(err.value)



def test_a_forked_worker_gets_its_own_connections(store: StateStore, run_id: str) -> None:
    """Airflow forks task processes: a store built before the fork must work in the child and the parent."""
    store.links("accounts")  # the parent's pool now holds a connection
    pid = os.fork()
    if pid == 0:  # child: write through the inherited store, report by exit code
        try:
            frame = pd.DataFrame({"sf_id": ["500CHILD"], "jira_key": ["SUP-CHILD"]})
            code = 0 if store.upsert_links("accounts", frame, run_id) == 1 else 1
        except BaseException:  # noqa: BLE001 - any failure is the child's exit code
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.links("accounts")["sf_id"].tolist() == ["500CHILD"]  # the parent's connections still work


# Asks, from another process, whether someone holds a read lock on SQLite's SHARED byte range of the file.
_SHARED_LOCK_HELD = textwrap.dedent("""
    import fcntl, os, struct, sys
    fd = os.open(sys.argv[1], os.O_RDONLY)
    probe = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0x40000002, 510, 0) + bytes(4)
    print(struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, probe)[:28])[0] != fcntl.F_UNLCK)
""")


@pytest.mark.skipif(sys.platform != "linux", reason="probes POSIX locks with Linux's struct flock")
def test_a_second_engine_on_an_open_sqlite_file_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    """An open WAL-mode connection keeps a SHARED lock on the file; opening and closing the file again in
    the same process would drop it, and another process closing last would reset the WAL under it."""
    db = tmp_path / "state.db"

    def shared_lock_held() -> bool:
        done = subprocess.run([sys.executable, "-c", _SHARED_LOCK_HELD, str(db)], capture_output=True, text=True,
                              check=True)
        return done.stdout.strip() == "True"

    with StateStore(f"sqlite:///{db}") as store:
        store.links("accounts")  # a pooled connection, idle, holding its SHARED lock
        assert shared_lock_held()
        create_state_engine(normalize_url(f"sqlite:///{db}")).dispose()  # another store in this process
        assert shared_lock_held()
