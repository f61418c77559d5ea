"""A live Airflow for tests and benchmarks: an isolated AIRFLOW_HOME, Airflow's own CLI in subprocesses,
and an api-server + scheduler (LocalExecutor) whose task processes are real (`airflow worker -- <ti id>`
children of a supervisor), so a test can kill one and watch Airflow retry it.

Used by tests/dags/test_backfill_cli.py, tests/e2e/test_chaos.py, bench/chaos.py and (its REST client)
tests/sfjira/test_live.py. The installation and its processes are sfjira.local_airflow's, which
`make airflow` and `make demo` use too; what is here is what only tests need.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests

from sfjira.local_airflow import (
    AIRFLOW,
    REPO,
    Component,
    LocalAirflowError,
    Login,
    base_url,
    free_port,
    run_airflow,
    wait_for_api_server,
)
from sfjira.local_airflow import airflow_environment as _airflow_environment
from sfjira.local_airflow import prepare as _prepare
from sfjira.supervisor import Supervisor, log_tail

__all__ = ["AIRFLOW", "REPO", "Rest", "Services", "airflow", "airflow_environment", "free_port",
           "prepare", "task_errors", "task_process", "wait_for"]


def airflow_environment(home: Path, sfjira_env: Mapping[str, str], *, storage: Path, task_retries: int = 0,
                        retry_delay_s: float = 30.0, mappings_dir: Path | None = None,
                        parallelism: int = 4) -> dict[str, str]:
    """sfjira.local_airflow.airflow_environment with the tests' defaults: no task retries unless asked,
    every visitor an admin (the REST API takes a token from GET /auth/token)."""
    return _airflow_environment(home, sfjira_env, storage=storage, task_retries=task_retries,
                                retry_delay_s=retry_delay_s, mappings_dir=mappings_dir, parallelism=parallelism)


def airflow(env: Mapping[str, str], *args: str, timeout: float = 180) -> str:
    """`airflow <args>` in this installation; its output (an AssertionError with the output if it fails)."""
    try:
        return run_airflow(env, *args, timeout=timeout).stdout
    except LocalAirflowError as err:
        raise AssertionError(str(err)) from None


def prepare(env: Mapping[str, str], pool_slots: int = 4) -> None:
    """Migrate the metadata DB, create sfjira's pools and serialize the DAGs."""
    try:
        _prepare(env, pool_slots=pool_slots)
    except LocalAirflowError as err:
        raise AssertionError(str(err)) from None


def task_errors(env: Mapping[str, str]) -> str:
    """Error lines of every task log, so a failed run explains itself in an assertion message (the
    components' own logs, logs/<component>.log, are not task logs)."""
    lines = []
    for log in sorted(Path(env["AIRFLOW_HOME"], "logs").glob("dag_id=*/**/*.log")):
        bad = [line for line in log.read_text(errors="replace").splitlines()
               if "error" in line.lower() or "Error" in line]
        lines += [f"{log.relative_to(env['AIRFLOW_HOME'])}: {line[:400]}" for line in bad[-8:]]
    return "\n".join(lines[-60:])


class Rest:
    """The REST API (v2) of a running api-server at `base`: a token from the login (POST /auth/token), or
    from GET /auth/token when every visitor is an admin."""

    def __init__(self, base: str, login: Login | None = None) -> None:
        self.base = base
        self.login = login
        self.session = requests.Session()

    def _token(self) -> str:
        if self.login is None:
            resp = requests.get(f"{self.base}/auth/token", timeout=30)
        else:
            resp = requests.post(f"{self.base}/auth/token", timeout=30,
                                 json={"username": self.login.username, "password": self.login.password})
        assert resp.status_code < 300, f"/auth/token: {resp.status_code} {resp.text[:300]}"
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

    def dag_runs(self, dag_id: str, run_type: str | None = None) -> list[dict[str, Any]]:
        """The DAG's runs (of `run_type` only, when given), as GET /dags/<id>/dagRuns lists them. A test
        polling them should ask here rather than through `airflow dags list-runs`: each CLI call starts an
        Airflow interpreter (seconds of CPU), and polling every few seconds takes a core from the scheduler
        and the tasks on a 2-core machine."""
        params: dict[str, Any] = {"limit": 100}
        if run_type is not None:
            params["run_type"] = [run_type]
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns", params=params)["dag_runs"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        entry = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
                         params={"deserialize": "true"})
        return entry["value"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 900, poll: float = 1.0,
                     explain: str | Path = "") -> str:
        """The run's final state; an AssertionError after `timeout` (with the task logs' errors of the
        AIRFLOW_HOME `explain`, when given)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.run_state(dag_id, run_id)
            if state in ("success", "failed"):
                return state
            time.sleep(poll)
        errors = task_errors({"AIRFLOW_HOME": str(explain)}) if explain else ""
        raise AssertionError(f"{dag_id} {run_id} did not finish within {timeout:.0f} s\n{errors}")


class Services(Rest):
    """api-server + scheduler (LocalExecutor) of the installation `env` until stop(), each a
    sfjira.local_airflow.Component (its log under AIRFLOW_HOME/logs); the REST API as `Rest`. Without
    `scheduler`, the api-server alone (DAG runs created through it stay queued). `workers`: more components
    started after them (CeleryExecutor's workers).

    A component that exits is restarted by sfjira.supervisor (as `make airflow` does), and what the
    supervisor said is kept in `said` for failure messages: on a loaded machine the scheduler can die of a
    locked SQLite metadata DB, and a test should not then wait for queued runs that nothing will start.
    `supervise=False` leaves a dead component dead (the scheduler-crash reproduction needs that)."""

    def __init__(self, env: Mapping[str, str], *, scheduler: bool = True, supervise: bool = True,
                 workers: Sequence[Component] = ()) -> None:
        self.env = dict(env)
        super().__init__(base_url(self.env))
        self.procs = [Component.airflow("api-server", "api-server", "--port", self.env["AIRFLOW__API__PORT"],
                                        env=self.env),
                      *([Component.airflow("scheduler", env=self.env)] if scheduler else []), *workers]
        self.said: list[str] = []
        self._stop = threading.Event()
        self._supervisor = Supervisor(self.procs, say=self.said.append)
        self._supervisor.start()
        self._watch = threading.Thread(target=self._supervise, daemon=True) if supervise else None
        if self._watch:
            self._watch.start()
        try:
            wait_for_api_server(self.env)
        except LocalAirflowError as err:
            self.stop()
            raise AssertionError(str(err)) from None

    def _supervise(self) -> None:
        try:
            self._supervisor.run(self._stop, poll=1.0)
        except LocalAirflowError as err:  # it kept dying: say so in the failure message, stop watching
            self.said.append(str(err))

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def explain(self) -> str:
        """What the supervisor said (exits, restarts) and the last lines of each component's log."""
        tails = [f"-- {c.name} ({'running' if c.exit_code() is None else 'exited'}), {c.log}:\n"
                 + "\n".join(log_tail(c, 20)) for c in self.procs]
        return "\n".join([*self.said, *tails])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 900, poll: float = 1.0,
                     explain: str | Path = "") -> str:
        try:
            return super().wait_for_run(dag_id, run_id, timeout, poll, explain or self.env["AIRFLOW_HOME"])
        except AssertionError as err:
            raise AssertionError(f"{err}\n{self.explain()}") from None

    def stop(self) -> None:
        self._stop.set()
        if self._watch:
            self._watch.join(timeout=30)
        for proc in reversed(self.procs):  # the workers and the scheduler first: they report to the api-server
            proc.stop(grace=20)


def wait_for(what: str, check: Callable[[], Any], timeout: float = 240, poll: float = 2) -> Any:
    """What `check` returns once it is truthy; an AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(poll)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


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
