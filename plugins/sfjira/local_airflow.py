"""A local Airflow installation of this checkout: an isolated AIRFLOW_HOME, Airflow's own CLI in
subprocesses, and its long-running components (api-server, scheduler, dag-processor, triggerer) as child
processes, each in a process group of its own.

One home for what `make airflow` (sfjira.live), `make demo` (sfjira.demo) and the tests' live Airflow
(tests/live_airflow.py) share. Development tooling: nothing here runs inside a deployment.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import requests

from sfjira.exceptions import SfJiraError

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = Path(sys.executable).parent / "airflow"
POOLS = ("salesforce_api", "jira_api")
LOOPBACK = "127.0.0.1"


class LocalAirflowError(SfJiraError):
    """The local Airflow could not be set up or kept running (a failed CLI step, a busy port, a
    component that keeps dying)."""

    code = "LOCAL_AIRFLOW_FAILED"


@dataclass(frozen=True)
class Login:
    """A fixed login of the simple auth manager (role: viewer, user, op or admin)."""

    username: str
    password: str
    role: str = "admin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def airflow_environment(home: Path, sfjira_env: Mapping[str, str], *, storage: Path, port: int | None = None,
                        task_retries: int | None = None, retry_delay_s: float | None = None,
                        mappings_dir: Path | None = None, parallelism: int = 4,
                        logins: Sequence[Login] = ()) -> dict[str, str]:
    """The environment of every Airflow process of one installation: its home, this checkout's DAGs and
    plugins, LocalExecutor, an api-server on loopback (`port`, a free one by default), and sfjira's
    connections (`sfjira_env`, e.g. from sfjira.emulator_env.environment) and settings. `task_retries`
    and `retry_delay_s` left None keep sfjira's defaults.

    Without `logins` every visitor is an admin (simple auth manager, `GET /auth/token` gives a token);
    with them only those users may log in, with the passwords `prepare()` writes."""
    port = port or free_port()
    env = {**os.environ,
           "AIRFLOW_HOME": str(home),
           "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
           "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
           "AIRFLOW__CORE__PARALLELISM": str(parallelism),
           # The simple auth manager with fixed logins: anything but loopback would publish them.
           "AIRFLOW__API__HOST": LOOPBACK,
           "AIRFLOW__API__PORT": str(port),
           "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{LOOPBACK}:{port}/execution/",
           "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
           # The log servers' fixed default ports (8793, 8794) collide with a second installation.
           "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
           "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
           "SFJIRA_STORAGE": f"file://{storage}",
           "PATH": f"{AIRFLOW.parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    if logins:
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "False"
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = ",".join(f"{u.username}:{u.role}" for u in logins)
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(home / "simple_auth_manager_passwords.json")
    else:
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "True"
    if task_retries is not None:
        env["SFJIRA_TASK_RETRIES"] = str(task_retries)
    if retry_delay_s is not None:
        env["SFJIRA_RETRY_DELAY_S"] = str(retry_delay_s)
    if mappings_dir is not None:
        env["SFJIRA_MAPPINGS_DIR"] = str(mappings_dir)
    env.update(sfjira_env)
    return env


def base_url(env: Mapping[str, str]) -> str:
    return f"http://{LOOPBACK}:{env['AIRFLOW__API__PORT']}"


def run_airflow(env: Mapping[str, str], *args: str, timeout: float = 180,
                log: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`airflow <args>` in this installation, its output also kept in `log` when given (LocalAirflowError
    with the output's tail if it fails)."""
    proc = subprocess.run([str(AIRFLOW), *args], env=dict(env), capture_output=True, text=True, timeout=timeout,
                          cwd=REPO)
    if log is not None:
        log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise LocalAirflowError(f"`airflow {' '.join(args)}` failed with exit code {proc.returncode}:\n"
                                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}",
                                fix=f"read the output above{f' (all of it: {log})' if log else ''}")
    return proc


def prepare(env: Mapping[str, str], *, pool_slots: int = 4, logins: Sequence[Login] = (),
            reserialize: bool = True) -> None:
    """Write the logins' passwords, migrate the metadata DB, create sfjira's pools and (unless a
    dag-processor will) serialize the DAGs."""
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if logins:
        passwords = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
        passwords.write_text(json.dumps({u.username: u.password for u in logins}) + "\n")
        passwords.chmod(0o600)
    run_airflow(env, "db", "migrate", timeout=300)
    pools = home / "pools.json"
    pools.write_text(json.dumps({p: {"slots": pool_slots, "description": f"sfjira {p}"} for p in POOLS}))
    run_airflow(env, "pools", "import", str(pools))  # one CLI start for both pools (each costs seconds)
    if reserialize:
        run_airflow(env, "dags", "reserialize", timeout=300)


def wait_for_api_server(env: Mapping[str, str], timeout: float = 180,
                        alive: Callable[[], bool] = lambda: True) -> None:
    """Until the api-server answers its health check. Task processes report to its execution API: a task
    the scheduler starts before it listens fails with 'connection refused' (seen on a loaded machine)."""
    url = f"{base_url(env)}/api/v2/monitor/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise LocalAirflowError(f"the api-server did not answer {url} within {timeout:.0f} s",
                            fix=f"read {Path(env['AIRFLOW_HOME']) / 'logs'}/api-server.log")


def group_members(pgid: int) -> list[int]:
    """The live processes of process group `pgid` (from /proc; zombies count as gone)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def descendants(pids: list[int]) -> list[int]:
    """The live processes descended from `pids` (from /proc, by parent pid)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], list(pids)
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _own_group_and_die_with_parent() -> None:
    """In the child before exec: a process group of its own (the terminal's Ctrl-C reaches only the
    supervisor, which stops the components in order), and SIGTERM when the supervisor itself dies."""
    os.setpgid(0, 0)
    if sys.platform == "linux":
        import ctypes

        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Component:
    """One long-running Airflow command (`airflow scheduler`, ...) in a process group of its own, its
    output appended to `log`. Start, poll, stop, start again."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.stopped = False  # its process group is gone: never signal that number again (pids are reused)
        self._out: IO[bytes] | None = None

    @classmethod
    def airflow(cls, name: str, *args: str, env: Mapping[str, str]) -> Component:
        logs = Path(env["AIRFLOW_HOME"]) / "logs"
        return cls(name, [str(AIRFLOW), *(args or (name,))], env, logs / f"{name}.log")

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} was never started"
        return self.proc.pid

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.stopped = False
        self._out = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=self._out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=REPO,
                                     preexec_fn=_own_group_and_die_with_parent)

    def exit_code(self) -> int | None:
        """None while it runs; its exit code (negative: the signal that ended it) once it has ended."""
        return self.proc.poll() if self.proc else None

    def stop(self, grace: float = 20) -> None:
        """SIGTERM to the component, `grace` seconds to shut down, then SIGKILL to whatever is left of its
        process group (its task processes, log server, workers)."""
        if self.proc is None or self.stopped:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        self.kill_leftovers()
        self.proc.wait()
        self.stopped = True
        if self._out:
            self._out.close()
            self._out = None

    def kill_leftovers(self) -> None:
        """SIGKILL the rest of its process group: a dead scheduler's children would otherwise run on
        with no one to report to (what systemd does for a unit that exits)."""
        if self.proc is None or self.stopped:
            return
        # A Celery worker's task processes run in process groups of their own: found by parentage first.
        strays = descendants(group_members(self.proc.pid))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in strays:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while group_members(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def components(env: Mapping[str, str]) -> list[Component]:
    """The four components of a complete Airflow 3: api-server (UI, REST and execution API), scheduler
    (with LocalExecutor's task processes), dag-processor (parses dags/), triggerer (deferred tasks)."""
    return [Component.airflow("api-server", "api-server", "--port", env["AIRFLOW__API__PORT"], env=env),
            Component.airflow("scheduler", env=env),
            Component.airflow("dag-processor", env=env),
            Component.airflow("triggerer", env=env)]
