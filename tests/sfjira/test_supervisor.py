"""The supervisor restarts a component that exits, says so, backs off, gives up on a crash loop, and
stops every process it started -- checked with small Python children in place of Airflow's components
(the live Airflow itself: tests/sfjira/test_live.py)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from sfjira.local_airflow import Component, LocalAirflowError, group_members
from sfjira.supervisor import Supervisor, describe_exit

# A child that starts a grandchild in its process group (as the scheduler starts task processes), says
# both pids, then waits. With IGNORE_TERM it ignores SIGTERM, as a hung component would.
CHILD = """
import os, signal, subprocess, sys, time
if os.environ.get("IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print("pids", os.getpid(), grandchild.pid, flush=True)
time.sleep(120)
"""


def child(tmp_path: Path, name: str, code: str = CHILD, **env: str) -> Component:
    return Component(name, [sys.executable, "-c", code], {**os.environ, **env}, tmp_path / f"{name}.log")


def pids(component: Component, timeout: float = 30) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in reversed(component.log.read_text().splitlines() if component.log.exists() else []):
            if line.startswith("pids "):
                own, grand = line.split()[1:]
                if int(own) == component.pid:
                    return int(own), int(grand)
        time.sleep(0.05)
    raise AssertionError(f"{component.name} did not start: {component.log.read_text()}")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wait_exit(component: Component) -> None:
    deadline = time.monotonic() + 30
    while component.exit_code() is None:
        assert time.monotonic() < deadline, f"{component.name} did not exit"
        time.sleep(0.02)


def test_a_killed_component_is_restarted_and_its_leftovers_are_stopped(tmp_path: Path) -> None:
    said: list[str] = []
    worker = child(tmp_path, "scheduler")
    clock = Clock()
    supervisor = Supervisor([worker], say=said.append, clock=clock)
    supervisor.start()
    try:
        first, grandchild = pids(worker)
        os.kill(first, signal.SIGKILL)
        wait_exit(worker)
        supervisor.check()
        assert said[-1].startswith("scheduler exited with code -9 (SIGKILL); restarting in 1 s "
                                   "(restart 1 of at most 5 in a row)"), said
        assert group_members(first) == [], f"the dead scheduler's grandchild {grandchild} still runs"
        supervisor.check()  # the backoff is not over yet
        assert worker.exit_code() is not None
        clock.now += 1
        supervisor.check()
        assert said[-1] == f"scheduler restarted (pid {worker.pid})"
        assert worker.pid != first and worker.exit_code() is None
        assert pids(worker)[0] == worker.pid
    finally:
        supervisor.stop(grace=5)


def test_a_crash_loop_backs_off_then_gives_up(tmp_path: Path) -> None:
    said: list[str] = []
    crasher = child(tmp_path, "dag-processor", "import sys; print('cannot start', flush=True); sys.exit(3)")
    clock = Clock()
    supervisor = Supervisor([crasher], say=said.append, clock=clock, max_restarts=3)
    supervisor.start()
    delays = []
    try:
        for _ in range(3):
            wait_exit(crasher)
            supervisor.check()
            assert said[-1].startswith("dag-processor exited with code 3; restarting in "), said[-1]
            assert "    cannot start" in said[-1]  # the log's last lines say why
            delays.append(said[-1].split("restarting in ")[1].split(" s")[0])
            clock.now += 60  # past any backoff; a crash within `stable_after` of the start counts on
            supervisor.check()
            assert said[-1].startswith("dag-processor restarted")
            clock.now += 1
        wait_exit(crasher)
        with pytest.raises(LocalAirflowError, match="its 4th quick exit in a row; giving up") as err:
            supervisor.check()
        assert err.value.code == "LOCAL_AIRFLOW_FAILED" and str(crasher.log) in str(err.value)
    finally:
        supervisor.stop(grace=5)
    assert delays == ["1", "2", "4"]


def test_a_component_that_ran_a_while_starts_counting_again(tmp_path: Path) -> None:
    said: list[str] = []
    crasher = child(tmp_path, "triggerer", "import sys; sys.exit(1)")
    clock = Clock()
    supervisor = Supervisor([crasher], say=said.append, clock=clock, max_restarts=1, stable_after=60)
    supervisor.start()
    try:
        for _ in range(3):  # each death comes 61 s after its start: never a crash loop
            wait_exit(crasher)
            clock.now += 61
            supervisor.check()
            assert "(restart 1 of at most 1 in a row)" in said[-1], said[-1]
            clock.now += 1
            supervisor.check()
    finally:
        supervisor.stop(grace=5)


def test_stop_ends_every_process_it_started_even_one_that_ignores_sigterm(tmp_path: Path) -> None:
    said: list[str] = []
    polite, stubborn = child(tmp_path, "api-server"), child(tmp_path, "scheduler", IGNORE_TERM="1")
    supervisor = Supervisor([polite, stubborn], say=said.append)
    supervisor.start()
    started = [pids(polite), pids(stubborn)]
    stop = threading.Event()
    stop.set()
    supervisor.run(stop)  # returns at once: the event is set
    supervisor.stop(grace=1)
    assert said[-2:] == ["scheduler stopped", "api-server stopped"]  # reverse start order
    assert stubborn.exit_code() == -signal.SIGKILL and polite.exit_code() == -signal.SIGTERM
    for own, grandchild in started:  # the grandchild is in its parent's group: gone too
        assert group_members(own) == [], f"processes of group {own} (grandchild {grandchild}) survived"
    supervisor.stop(grace=1)  # twice is harmless: nothing is signalled again


def test_describe_exit() -> None:
    assert describe_exit(0) == "code 0"
    assert describe_exit(-15) == "code -15 (SIGTERM)"
    assert describe_exit(2) == "code 2"
