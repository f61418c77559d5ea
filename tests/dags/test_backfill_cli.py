"""`airflow backfill create` over three past intervals, executed by a real scheduler, re-syncs those
windows with no duplicates -- and doing it again changes nothing. The backfill reads exactly its own
windows and leaves the committed cursor of an earlier ordinary run where it was (issue 11, must-show 1c).

Runs Airflow's own CLI in subprocesses against an isolated AIRFLOW_HOME: db migrate, pools,
reserialize, backfill create, then an api-server + scheduler (LocalExecutor) until the runs finish.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import JiraRest
from emulators.salesforce.testing import access_token
from sfjira.dag_factory import covering_logical_date
from sfjira.emulator_env import environment, sqlite_state
from sfjira.state import StateStore

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
DAG_ID = "sfjira_sync__opportunity_to_epic"
DAY = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
# Three 15-minute intervals (the mapping's */15 schedule); two records changed in each.
STAMPS = [DAY + dt.timedelta(minutes=m) for m in (3, 8, 17, 24, 33, 41)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def airflow_env(tmp_path: Path, sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess) -> dict[str, str]:
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ,
           "AIRFLOW_HOME": str(tmp_path / "airflow"),
           "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
           "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
           "AIRFLOW__CORE__PARALLELISM": "4",
           "AIRFLOW__API__PORT": str(port),
           "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
           "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
           "SFJIRA_STORAGE": f"file://{tmp_path / 'runs'}",
           "SFJIRA_TASK_RETRIES": "0",
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    env.update(environment(sf_emulator.url, jira_emulator.url, sf_emulator.ca_bundle,
                           state=sqlite_state(str(tmp_path / "state.db"))))
    return env


def airflow(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    proc = subprocess.run([str(Path(sys.executable).parent / "airflow"), *args], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)
    assert proc.returncode == 0, f"airflow {' '.join(args)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def backfill_runs(env: dict[str, str]) -> list[dict]:
    out = airflow(env, "dags", "list-runs", DAG_ID, "-o", "json")
    lines = [line for line in out.splitlines() if line.startswith("[")]  # log lines come first
    runs = json.loads(lines[-1]) if lines else []
    return [r for r in runs if r["run_id"].startswith("backfill__")]


def task_errors(env: dict[str, str]) -> str:
    """Error lines of every task log, so a failed run explains itself in the assertion message."""
    lines = []
    for log in sorted(Path(env["AIRFLOW_HOME"], "logs").rglob("*.log")):
        bad = [line for line in log.read_text(errors="replace").splitlines()
               if "error" in line.lower() or "Error" in line]
        lines += [f"{log.relative_to(env['AIRFLOW_HOME'])}: {line[:400]}" for line in bad[-8:]]
    return "\n".join(lines[-60:])


class Services:
    """api-server + scheduler (LocalExecutor) for the duration of the test."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.log = open(Path(env["AIRFLOW_HOME"]) / "services.log", "a")  # noqa: SIM115 - closed in stop()
        self.procs = [subprocess.Popen([str(Path(sys.executable).parent / "airflow"), *cmd], env=env,
                                       stdout=self.log, stderr=subprocess.STDOUT, cwd=REPO)
                      for cmd in (["api-server", "--port", env["AIRFLOW__API__PORT"]], ["scheduler"])]
        try:
            self.wait_for_api_server()
        except AssertionError:
            self.stop()
            raise

    def wait_for_api_server(self, timeout: float = 180) -> None:
        """Task processes report to the api-server's execution API: a task the scheduler starts before it
        listens fails with 'connection refused' (seen on a loaded machine), so wait until it answers."""
        url = f"http://127.0.0.1:{self.env['AIRFLOW__API__PORT']}/api/v2/monitor/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise AssertionError(f"the api-server did not answer {url} within {timeout:.0f} s")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.log.close()


def run_backfill(env: dict[str, str], *extra: str) -> list[dict]:
    """Create a backfill over the three intervals and wait for its runs to finish. Only one backfill per
    DAG may run: the scheduler marks the previous one complete shortly after its runs end, so retry
    (as when the metadata DB was locked)."""
    before = {r["run_id"]: r.get("end_date") for r in backfill_runs(env)}
    args = [str(Path(sys.executable).parent / "airflow"), "backfill", "create", "--dag-id", DAG_ID,
            "--from-date", DAY.isoformat(), "--to-date", (DAY + dt.timedelta(minutes=30)).isoformat(), *extra]
    deadline = time.monotonic() + 300  # the scheduler closes a finished backfill late on a busy machine
    while True:
        proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
        if proc.returncode == 0:
            break
        # The scheduler holds the SQLite metadata DB's lock at times: the CLI's insert then loses the race.
        transient = ("AlreadyRunningBackfill", "database is locked")
        assert any(t in proc.stderr + proc.stdout for t in transient) and time.monotonic() < deadline, \
            proc.stderr[-3000:]
        time.sleep(2)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        fresh = [r for r in backfill_runs(env) if r["run_id"] not in before or before[r["run_id"]] != r.get("end_date")]
        if len(fresh) >= 3 and all(r["state"] in ("success", "failed") for r in fresh):
            return fresh
        time.sleep(2)
    raise AssertionError(f"backfill runs did not finish: {backfill_runs(env)}\n{task_errors(env)}")


def test_backfill_of_three_past_intervals_syncs_each_record_once(airflow_env, sf_emulator, jira_emulator,
                                                                tmp_path) -> None:
    sf_emulator.reset()
    jira_emulator.reset()
    sf_emulator.seed(seed=3, accounts=6, opportunities=6, contacts=0, cases=0, case_comments=0)
    headers = {"Authorization": f"Bearer {access_token(sf_emulator.url, sf_emulator.ca_bundle)}"}
    base = f"{sf_emulator.url}/services/data/v62.0"

    def opportunities() -> list[dict]:
        return requests.get(f"{base}/query", params={"q": "SELECT Id, Jira_Key__c FROM Opportunity ORDER BY Id"},
                            headers=headers, verify=sf_emulator.ca_bundle, timeout=30).json()["records"]

    ids = [r["Id"] for r in opportunities()]
    for record_id, stamp in zip(ids, STAMPS, strict=True):
        sf_emulator.admin("POST", "backdate", {"id": record_id, "SystemModstamp": stamp.isoformat()})

    env = airflow_env
    airflow(env, "db", "migrate")
    for pool in ("salesforce_api", "jira_api"):
        airflow(env, "pools", "set", pool, "4", f"sfjira {pool}")
    airflow(env, "dags", "reserialize")
    airflow(env, "dags", "unpause", DAG_ID)

    rest = JiraRest(jira_emulator.url, jira_emulator.ca_bundle)

    def issues_by_sfid() -> dict[str, list[str]]:
        found = rest.ok("GET", "/search/jql", params={"jql": "project = DEL", "fields": "customfield_10050",
                                                      "maxResults": 100})
        out: dict[str, list[str]] = {}
        for issue in found["issues"]:
            out.setdefault(issue["fields"]["customfield_10050"], []).append(issue["key"])
        return out

    # An ordinary run of the current interval first: it commits the cursor (now), which the backfill of
    # yesterday's windows must neither move backwards nor use to widen its own window.
    logical = covering_logical_date("*/15 * * * *", dt.datetime.now(dt.UTC))
    airflow(env, "dags", "test", DAG_ID, logical.isoformat(), timeout=300)
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    cursor = store.watermarks("opportunity_to_epic")
    assert cursor == dict.fromkeys(("salesforce", "jira"), logical), cursor

    services = Services(env)
    try:
        runs = run_backfill(env)
        assert sorted(r["state"] for r in runs) == ["success"] * 3, task_errors(env)
        assert store.watermarks("opportunity_to_epic") == cursor
        backfilled = store.runs("opportunity_to_epic", limit=None)
        windows = sorted(s["window"]["since"] for s in backfilled["summary"] if s["window"]["reason"] == "backfill")
        overlap = dt.timedelta(minutes=10)  # the mapping's overlap: each backfill reads its own interval only
        assert windows == [(DAY + dt.timedelta(minutes=m) - overlap).isoformat() for m in (0, 15, 30)]
        first = issues_by_sfid()
        assert {k: len(v) for k, v in first.items()} == dict.fromkeys(ids, 1)
        assert {r["Id"]: r["Jira_Key__c"] for r in opportunities()} == {k: v[0] for k, v in first.items()}

        jira_emulator.clear_calls()
        again = run_backfill(env, "--reprocess-behavior", "completed")
        assert sorted(r["state"] for r in again) == ["success"] * 3, task_errors(env)
    finally:
        services.stop()
    assert issues_by_sfid() == first  # re-synced, no duplicates
    writes = {k: v for k, v in jira_emulator.calls()["by_endpoint"].items()
              if k.split()[0] in ("POST", "PUT", "DELETE") and "/search" not in k}
    assert writes == {}, writes
    assert store.watermarks("opportunity_to_epic") == cursor
    store.close()
