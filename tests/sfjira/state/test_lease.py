"""The writer lease: one holder per mapping, taken atomically by racing processes, renewed while held,
released by its holder only, and expiring when its holder is killed."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sfjira.exceptions import StateStoreError, is_transient
from sfjira.state import StateStore, migrations, schema
from sfjira.state.lease import WriterBusy, holder_name, writer_lease

from .conftest import Backend

REPO = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"}


def test_free_lease_is_taken_and_read_back(store: StateStore) -> None:
    lease = store.acquire_lease("accounts", "a", 60, task="sync/run1/load_jira try 1")
    assert lease.held_by("a") and lease.task == "sync/run1/load_jira try 1"
    assert store.lease("accounts") == lease
    assert store.lease("cases") is None  # per mapping


def test_held_lease_is_refused_to_another_and_renewed_for_its_holder(store: StateStore) -> None:
    first = store.acquire_lease("accounts", "a", 60)
    other = store.acquire_lease("accounts", "b", 60)
    assert other.holder == "a" and not other.held_by("b")
    again = store.acquire_lease("accounts", "a", 60)
    assert again.held_by("a") and again.acquired_at == first.acquired_at and again.expires_at > first.expires_at
    assert store.acquire_lease("cases", "b", 60).held_by("b")  # another mapping is another lease


def test_renew_extends_only_the_holders_lease(store: StateStore) -> None:
    taken = store.acquire_lease("accounts", "a", 60)
    assert store.renew_lease("accounts", "a", 120)
    assert store.lease("accounts").expires_at > taken.expires_at  # type: ignore[union-attr]
    assert not store.renew_lease("accounts", "b", 120)
    assert not store.renew_lease("cases", "a", 120)


def test_release_by_another_holder_is_refused(store: StateStore) -> None:
    store.acquire_lease("accounts", "a", 60)
    assert not store.release_lease("accounts", "b")
    assert store.lease("accounts").holder == "a"  # type: ignore[union-attr]
    assert store.release_lease("accounts", "a")
    assert store.lease("accounts") is None
    assert store.acquire_lease("accounts", "b", 60).held_by("b")


def test_expired_lease_is_taken_over_and_its_old_holder_cannot_renew(store: StateStore) -> None:
    store.acquire_lease("accounts", "a", 0.2)
    time.sleep(0.4)
    assert store.acquire_lease("accounts", "b", 60).held_by("b")
    assert not store.renew_lease("accounts", "a", 60)
    assert not store.release_lease("accounts", "a")


def test_busy_is_a_transient_error_naming_the_holder(store: StateStore, caplog: pytest.LogCaptureFixture) -> None:
    store.acquire_lease("accounts", "sync/r1/load_jira try 1 on host pid 1", 60)
    caplog.set_level(logging.INFO, logger="sfjira.state.lease")
    with pytest.raises(WriterBusy) as err, writer_lease(store, "accounts", "heal", ttl=60, wait=0.6):
        pass
    assert err.value.code == "STATE_WRITER_BUSY" and is_transient(err.value)
    assert "sync/r1/load_jira try 1 on host pid 1" in err.value.message and "retries" in err.value.fix
    assert "waiting for holder sync/r1/load_jira try 1 on host pid 1" in caplog.text
    assert store.lease("accounts").holder.startswith("sync/r1")  # type: ignore[union-attr]


def test_context_manager_renews_while_held_and_releases_on_exit(store: StateStore) -> None:
    with writer_lease(store, "accounts", "a", ttl=0.6, wait=0) as lease:
        assert lease is not None and lease.held_by("a")
        time.sleep(1.5)  # > 2 TTLs: only the heartbeat keeps it
        assert not store.acquire_lease("accounts", "b", 60).held_by("b")
        with writer_lease(store, "accounts", "a", ttl=0.6, wait=0) as inner:  # re-entrant: the loads in a heal
            assert inner is None
        assert store.lease("accounts").holder == "a"  # type: ignore[union-attr]
    assert store.lease("accounts") is None


def test_lease_is_released_when_the_block_raises(store: StateStore) -> None:
    with pytest.raises(RuntimeError), writer_lease(store, "accounts", "a", ttl=60, wait=0):
        raise RuntimeError("load failed")
    assert store.lease("accounts") is None


def test_a_kept_lease_outlives_its_block_unless_the_block_failed_for_good(store: StateStore) -> None:
    with writer_lease(store, "accounts", "run-1", ttl=60, wait=0, keep=True):
        pass
    assert store.lease("accounts").holder == "run-1"  # type: ignore[union-attr]  # for the run's next task
    with pytest.raises(StateStoreError), writer_lease(store, "accounts", "run-1", ttl=60, wait=0, keep=True):
        raise StateStoreError("locked right now", transient=True)
    assert store.lease("accounts").holder == "run-1"  # type: ignore[union-attr]  # for the task's retry
    with pytest.raises(StateStoreError), writer_lease(store, "accounts", "run-1", ttl=60, wait=0, keep=True):
        raise StateStoreError("a broken rule")
    assert store.lease("accounts") is None  # terminal: no later task of the run comes


def test_the_lease_of_a_holder_known_to_be_done_is_taken_over_at_once(store: StateStore) -> None:
    store.acquire_lease("accounts", "sync/run-1", 600)
    with pytest.raises(WriterBusy), writer_lease(store, "accounts", "sync/run-2", ttl=60, wait=0,
                                                 finished=lambda holder: False):
        pass
    with writer_lease(store, "accounts", "sync/run-2", ttl=60, wait=0,
                      finished=lambda holder: holder == "sync/run-1") as lease:
        assert lease is not None and lease.held_by("sync/run-2")
    assert not store.take_over_lease("accounts", "sync/run-1", "sync/run-3", 60)  # not the holder (any more)


def test_waiter_takes_the_lease_once_released(backend: Backend, store: StateStore) -> None:
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, backend.url, backend.schema or "", "0.9", "1.5"],
                              cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD", holder.stderr
    with writer_lease(store, "accounts", "waiter", ttl=60, wait=30) as lease:
        assert lease is not None and lease.held_by("waiter")
        out, err = holder.communicate(timeout=30)
        assert "RELEASED" in out, err  # it let go before we got in


_HOLD = textwrap.dedent("""
    import sys, time
    from sfjira.state import StateStore, migrations, schema
    from sfjira.state.lease import holder_name, writer_lease
    url, schema, ttl, hold = sys.argv[1:5]
    store = StateStore(url, schema=schema or None)
    with writer_lease(store, "accounts", holder_name("holder"), ttl=float(ttl), wait=0):
        print("HELD", flush=True)
        time.sleep(float(hold))
    print("RELEASED", flush=True)
""")


def test_killed_holder_stops_renewing_and_its_lease_expires(backend: Backend, store: StateStore) -> None:
    ttl = 1.2
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, backend.url, backend.schema or "", str(ttl), "3600"],
                              cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD", holder.stderr
        time.sleep(2 * ttl)  # alive: its heartbeat keeps the lease past its TTL
        held = store.acquire_lease("accounts", "next", ttl)
        assert not held.held_by("next") and held.holder == holder_name("holder").replace(
            f"pid {os.getpid()}", f"pid {holder.pid}")
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
    # no release happened: the row stays until it expires, then the next writer takes it
    assert store.lease("accounts").holder == held.holder  # type: ignore[union-attr]
    with writer_lease(store, "accounts", "next", ttl=60, wait=30) as lease:
        assert lease is not None and lease.held_by("next")


_RACE = textwrap.dedent("""
    import os, sys, time
    from sfjira.state import StateStore, migrations, schema
    url, schema, me, go, n = sys.argv[1:6]
    store = StateStore(url, schema=schema or None)
    store.lease("m0")  # connected and migrated before the start line
    print("READY", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    won = [f"m{i}" for i in range(int(n)) if store.acquire_lease(f"m{i}", me, 60).held_by(me)]
    print("WON", *won, flush=True)
""")


def test_two_processes_racing_for_leases_each_lease_has_one_winner(backend: Backend, store: StateStore,
                                                                   tmp_path: Path) -> None:
    n, go = 40, tmp_path / "go"
    store.migrate()
    procs = {me: subprocess.Popen([sys.executable, "-c", _RACE, backend.url, backend.schema or "", me, str(go), str(n)],
                                  cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for me in ("p1", "p2")}
    for proc in procs.values():
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY", proc.stderr
    go.touch()
    won = {}
    for me, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        won[me] = set(out.strip().splitlines()[-1].split()[1:])
    assert not won["p1"] & won["p2"]
    assert won["p1"] | won["p2"] == {f"m{i}" for i in range(n)}
    assert all(store.lease(m).holder == me for me, ms in won.items() for m in ms)  # type: ignore[union-attr]


_COUNT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from sfjira.state import StateStore, migrations, schema
    from sfjira.state.lease import holder_name, writer_lease
    url, schema, counter, go, rounds = sys.argv[1:6]
    store = StateStore(url, schema=schema or None)
    store.lease("accounts")
    print("READY", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    path = Path(counter)
    for _ in range(int(rounds)):
        with writer_lease(store, "accounts", holder_name(), ttl=30, wait=60):
            value = int(path.read_text())  # a read-modify-write that loses increments unless serialised
            time.sleep(0.005)
            path.write_text(str(value + 1))
    print("DONE", flush=True)
""")


def test_writers_holding_the_lease_lose_no_update(backend: Backend, store: StateStore, tmp_path: Path) -> None:
    rounds, counter, go = 15, tmp_path / "counter", tmp_path / "go"
    counter.write_text("0")
    store.migrate()
    procs = [subprocess.Popen([sys.executable, "-c", _COUNT, backend.url, backend.schema or "", str(counter), str(go),
                               str(rounds)], cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY", proc.stderr
    go.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0 and out.strip().endswith("DONE"), err
    assert int(counter.read_text()) == 2 * rounds
    assert store.lease("accounts") is None


def test_a_version_1_store_is_brought_to_the_lease_table(backend: Backend) -> None:
    with backend.open(auto_migrate=False) as old:
        assert old.migrate(migrations.STEPS[:1]) == 1
        with old.engine.begin() as conn:  # as release 1 created it: without the lease table
            schema.leases.drop(conn)
    with backend.open() as store:
        assert store.acquire_lease("accounts", "a", 60).held_by("a")
        assert store.schema_version() == migrations.SCHEMA_VERSION


def test_holder_name_says_where() -> None:
    assert holder_name("d/r/t try 2").startswith("d/r/t try 2 on ") and f"pid {os.getpid()}" in holder_name()
