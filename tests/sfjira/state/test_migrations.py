"""Versioned schema: fresh creation, idempotence, ordered upgrade steps, concurrent callers, newer schema."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from sfjira.exceptions import StateStoreError
from sfjira.state import SCHEMA_VERSION, StateStore
from sfjira.state.migrations import STEPS, Step
from sfjira.state.schema import metadata

from .conftest import Backend

REPO = Path(__file__).resolve().parents[3]


def _versions(store: StateStore) -> list[int]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT version FROM sfjira_schema_version ORDER BY version")).scalars())


def test_fresh_store_gets_every_table_and_the_newest_version(backend: Backend) -> None:
    with backend.open(auto_migrate=False) as store:
        assert store.schema_version() == 0
        assert store.migrate() == SCHEMA_VERSION
        tables = set(sa.inspect(store.engine).get_table_names())
    assert set(metadata.tables) <= tables
    assert _versions(store) == [step.version for step in STEPS]


def test_migrate_is_idempotent(store: StateStore) -> None:
    store.migrate()
    run_id = store.begin_run("accounts", "manual__1")
    assert store.migrate() == SCHEMA_VERSION
    assert store.migrate() == SCHEMA_VERSION
    assert _versions(store) == [step.version for step in STEPS]
    assert store.get_run(run_id) is not None  # data survives a repeated migrate


def test_first_use_migrates_automatically(store: StateStore) -> None:
    assert store.runs("accounts").empty
    assert store.schema_version() == SCHEMA_VERSION


def test_without_auto_migrate_an_old_store_is_refused_with_the_fix(backend: Backend) -> None:
    with backend.open(auto_migrate=False) as store, pytest.raises(StateStoreError) as err:
        store.links("accounts")
    assert err.value.code == "STATE_SCHEMA_OLD"
    assert "sfjira migrate" in err.value.fix


def _extra_step(conn: sa.Connection) -> None:
    conn.execute(sa.text("CREATE TABLE sfjira_extra_probe (id INTEGER PRIMARY KEY)"))


def test_later_steps_upgrade_an_existing_store_in_order(backend: Backend) -> None:
    with backend.open() as store:
        store.migrate()
        run_id = store.begin_run("accounts", "manual__1")
        upgraded = (*STEPS, Step(SCHEMA_VERSION + 1, "probe table", _extra_step))
        assert store.migrate(upgraded) == SCHEMA_VERSION + 1
        assert store.migrate(upgraded) == SCHEMA_VERSION + 1  # applied once
        assert "sfjira_extra_probe" in sa.inspect(store.engine).get_table_names()
        assert _versions(store)[-1] == SCHEMA_VERSION + 1
        with store.engine.connect() as conn:  # the data came through the upgrade
            assert conn.execute(sa.text("SELECT mapping FROM sfjira_runs WHERE run_id = :r"),
                                {"r": run_id}).scalar() == "accounts"


def test_a_failing_step_leaves_the_previous_version(backend: Backend) -> None:
    def broken(conn: sa.Connection) -> None:
        _extra_step(conn)
        conn.execute(sa.text("SELECT * FROM no_such_table"))

    with backend.open() as store:
        store.migrate()
        with pytest.raises(StateStoreError, match="STATE_SQL_FAILED"):
            store.migrate((*STEPS, Step(SCHEMA_VERSION + 1, "broken", broken)))
        assert store.schema_version() == SCHEMA_VERSION
        assert "sfjira_extra_probe" not in sa.inspect(store.engine).get_table_names()


def test_store_refuses_a_newer_schema_with_a_clear_error(backend: Backend) -> None:
    with backend.open() as newer:
        newer.migrate((*STEPS, Step(SCHEMA_VERSION + 1, "from the future", _extra_step)))
    with backend.open() as older:
        with pytest.raises(StateStoreError) as err:
            older.links("accounts")
        assert err.value.code == "STATE_SCHEMA_TOO_NEW"
        assert f"version {SCHEMA_VERSION + 1}" in err.value.message
        assert "upgrade sfjira" in err.value.fix
        with pytest.raises(StateStoreError, match="STATE_SCHEMA_TOO_NEW"):
            older.migrate()


def test_steps_must_be_numbered_in_order(store: StateStore) -> None:
    with pytest.raises(StateStoreError, match="STATE_MIGRATIONS_INVALID"):
        store.migrate((Step(2, "no baseline", _extra_step),))


def test_two_threads_migrating_at_once_both_succeed(backend: Backend) -> None:
    stores = [backend.open(), backend.open()]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def migrate(store: StateStore) -> None:
        barrier.wait()
        try:
            outcomes.append(store.migrate())
        except Exception as err:  # noqa: BLE001 - reported by the assert below
            outcomes.append(err)

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes == [SCHEMA_VERSION, SCHEMA_VERSION]
    assert _versions(stores[0]) == [step.version for step in STEPS]
    for store in stores:
        store.close()


_MIGRATE_ON_GO = textwrap.dedent("""
    import os, sys, time
    from sfjira.state import StateStore
    url, schema, go = sys.argv[1], sys.argv[2] or None, sys.argv[3]
    store = StateStore(url, schema=schema, auto_migrate=False)
    store.engine  # imports done and engine built before the start line
    print("READY", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    print(store.migrate(), flush=True)
""")


def test_two_processes_migrating_at_once_both_succeed(backend: Backend, tmp_path: Path) -> None:
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _MIGRATE_ON_GO, backend.url, backend.schema or "", str(go)],
                              cwd=REPO, env={**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
    go.touch()  # both start migrating within a millisecond or two
    results = [proc.communicate(timeout=60) for proc in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == str(SCHEMA_VERSION)
    with backend.open() as store:
        assert _versions(store) == [step.version for step in STEPS]
        assert store.links("accounts").empty
