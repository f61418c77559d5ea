"""A live Airflow for tests and benchmarks: an isolated AIRFLOW_HOME, Airflow's own CLI in subprocesses,
and an api-server + scheduler (LocalExecutor) whose task processes are real (`airflow worker -- <ti id>`
children of a supervisor), so a test can kill one and watch Airflow retry it.

Used by tests/dags/test_backfill_cli.py, tests/e2e/test_chaos.py and bench/chaos.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
AIRFLOW = Path(sys.executable).parent / "airflow"
POOLS = ("salesforce_api", "jira_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def airflow_environment(home: Path, sfjira_env: Mapping[str, str], *, storage: Path, task_retries: int = 0,
                        retry_delay_s: float = 30.0, mappings_dir: Path | None = None,
                        parallelism: int = 4) -> dict[str, str]:
    """The environment of every Airflow process of one isolated installation: its home, this repo's DAGs
    and plugins, LocalExecutor, a free api-server port, and sfjira's connections (`sfjira_env`, e.g. from
    sfjira.emulator_env.environment) and settings. All users are admins (simple auth manager), so the
    REST API takes a token from GET /auth/token."""
    port = free_port()
    bin_dir = str(AIRFLOW.parent)
    env = {**os.environ,
           "AIRFLOW_HOME": str(home),
           "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
           "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
           "AIRFLOW__CORE__PARALLELISM": str(parallelism),
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
           "AIRFLOW__API__PORT": str(port),
           "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
           "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
           # The scheduler's log server: its fixed default port (8793) collides with a second installation.
           "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
           "SFJIRA_STORAGE": f"file://{storage}",
           "SFJIRA_TASK_RETRIES": str(task_retries),
           "SFJIRA_RETRY_DELAY_S": str(retry_delay_s),
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    if mappings_dir is not None:
        env["SFJIRA_MAPPINGS_DIR"] = str(mappings_dir)
    env.update(sfjira_env)
    return env


def airflow(env: Mapping[str, str], *args: str, timeout: float = 180) -> str:
    """`airflow <args>` in this installation; its stdout (an AssertionError with the output if it fails)."""
    proc = subprocess.run([str(AIRFLOW), *args], env=dict(env), capture_output=True, text=True, timeout=timeout,
                          cwd=REPO)
    assert proc.returncode == 0, f"airflow {' '.join(args)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def prepare(env: Mapping[str, str], pool_slots: int = 4) -> None:
    """Migrate the metadata DB, create sfjira's pools and serialize the DAGs."""
    airflow(env, "db", "migrate", timeout=300)
    for pool in POOLS:
        airflow(env, "pools", "set", pool, str(pool_slots), f"sfjira {pool}")
    airflow(env, "dags", "reserialize", timeout=300)


def list_runs(env: Mapping[str, str], dag_id: str) -> list[dict[str, Any]]:
    out = airflow(env, "dags", "list-runs", dag_id, "-o", "json")
    lines = [line for line in out.splitlines() if line.startswith("[")]  # log lines come first
    return list(json.loads(lines[-1])) if lines else []


def task_errors(env: Mapping[str, str]) -> str:
    """Error lines of every task log, so a failed run explains itself in an assertion message."""
    lines = []
    for log in sorted(Path(env["AIRFLOW_HOME"], "logs").rglob("*.log")):
        bad = [line for line in log.read_text(errors="replace").splitlines()
               if "error" in line.lower() or "Error" in line]
        lines += [f"{log.relative_to(env['AIRFLOW_HOME'])}: {line[:400]}" for line in bad[-8:]]
    return "\n".join(lines[-60:])


class Services:
    """api-server + scheduler (LocalExecutor) until stop(); `api()` calls the REST API (v2). Without
    `scheduler`, the api-server alone (DAG runs created through it stay queued)."""

    def __init__(self, env: Mapping[str, str], *, scheduler: bool = True) -> None:
        self.env = dict(env)
        self.base = f"http://127.0.0.1:{self.env['AIRFLOW__API__PORT']}"
        self.session = requests.Session()
        self.log = open(Path(self.env["AIRFLOW_HOME"]) / "services.log", "a")  # noqa: SIM115 - closed in stop()
        self.procs = [subprocess.Popen([str(AIRFLOW), *cmd], env=self.env, stdout=self.log,
                                       stderr=subprocess.STDOUT, cwd=REPO)
                      for cmd in (["api-server", "--port", self.env["AIRFLOW__API__PORT"]],
                                  *([["scheduler"]] if scheduler else []))]
        try:
            self.wait_for_api_server()
        except AssertionError:
            self.stop()
            raise

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for_api_server(self, timeout: float = 180) -> None:
        """Task processes report to the api-server's execution API: a task the scheduler starts before it
        listens fails with 'connection refused' (seen on a loaded machine), so wait until it answers."""
        url = f"{self.base}/api/v2/monitor/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise AssertionError(f"the api-server did not answer {url} within {timeout:.0f} s")

    def _token(self) -> str:
        resp = requests.get(f"{self.base}/auth/token", timeout=30)
        assert resp.status_code < 300, f"GET /auth/token: {resp.status_code} {resp.text[:300]}"
        return str(resp.json()["access_token"])

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """`/api/v2<path>`; the JSON answer (AssertionError on a 4xx/5xx)."""
        if "Authorization" not in self.session.headers:
            self.session.headers["Authorization"] = f"Bearer {self._token()}"
        resp = self.session.request(method, f"{self.base}/api/v2{path}", timeout=60, **kwargs)
        if resp.status_code == 401:  # the token expired: one fresh one
            self.session.headers["Authorization"] = f"Bearer {self._token()}"
            resp = self.session.request(method, f"{self.base}/api/v2{path}", timeout=60, **kwargs)
        assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text[:1000]}"
        return resp.json() if resp.content else None

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, run_id: str, *, logical_date: str, interval: tuple[str, str] | None = None,
                conf: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"dag_run_id": run_id, "logical_date": logical_date, "conf": dict(conf or {})}
        if interval is not None:
            body["data_interval_start"], body["data_interval_end"] = interval
        return dict(self.api("POST", f"/dags/{dag_id}/dagRuns", json=body))

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        entry = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
                         params={"deserialize": "true"})
        return entry["value"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 900, poll: float = 1.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.run_state(dag_id, run_id)
            if state in ("success", "failed"):
                return state
            time.sleep(poll)
        raise AssertionError(f"{dag_id} {run_id} did not finish within {timeout:.0f} s\n{task_errors(self.env)}")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.log.close()


def task_process(ti_id: str) -> int | None:
    """The pid of the process running task instance `ti_id`: Airflow's task runner titles itself
    `airflow worker -- <ti id>` (airflow/sdk/execution_time/task_runner.py); None when there is none."""
    title = f"airflow worker -- {ti_id}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile, or not ours
            continue
        if cmdline.replace(b"\0", b" ").strip() == title or cmdline.startswith(title):
            return int(entry.name)
    return None
