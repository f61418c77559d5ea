"""`make airflow` (python -m sfjira.live) as a newcomer meets it: the printed URL and login give a token,
the public REST API lists the sfjira DAGs, a triggered sync run succeeds against the emulators (after an
Airflow retry of the task whose queries failed), a SIGKILLed scheduler is restarted with a message and runs
go on, and Ctrl-C stops every process it started, exiting 0."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from emulators.common.process import EmulatorProcess
from sfjira.live import LOGINS, READY, choose_port
from sfjira.local_airflow import REPO, LocalAirflowError, free_port, group_members
from tests.e2e.world import SHIPPED_MAPPINGS
from tests.live_airflow import Rest

MAPPING = "opportunity_to_epic"
SYNC = f"sfjira_sync__{MAPPING}"
DAGS = {"sfjira_smoke", *(f"sfjira_{kind}__{m}" for kind in ("sync", "reconcile")
                          for m in ("opportunity_to_epic", "case_to_bug"))}


class Live:
    """`python -m sfjira.live` in a subprocess; its output lines as they come."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work = work
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "sfjira.live", "--dir", str(work)], env=env, cwd=REPO,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, prefix: str, timeout: float = 240, after: int = 0) -> tuple[int, str]:
        """The first line from index `after` on that starts with `prefix`, and its index."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, line in enumerate(self.lines[after:], after):
                if line.startswith(prefix):
                    return i, line
            assert self.proc.poll() is None, f"sfjira.live exited with {self.proc.returncode}:\n{self.output()}"
            time.sleep(0.2)
        raise AssertionError(f"no line starting {prefix!r} within {timeout:.0f} s:\n{self.output()}")

    def started(self) -> dict[str, int]:
        """Component name -> pid, from the 'NAME started (pid N; ...' and 'NAME restarted (pid N)' lines."""
        found = {}
        for line in self.lines:
            for word in (" started (pid ", " restarted (pid "):
                if word in line:
                    name, rest = line.split(word, 1)
                    found.setdefault(name, []).append(int(rest.split(")")[0].split(";")[0]))
        return {f"{name}#{i}": pid for name, pids in found.items() for i, pid in enumerate(pids)}

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def sync_run(rest: Rest, run_id: str, end: dt.datetime) -> str:
    rest.trigger(SYNC, run_id, logical_date=end.isoformat(),
                 interval=((end - dt.timedelta(hours=1)).isoformat(), end.isoformat()))
    return rest.wait_for_run(SYNC, run_id, timeout=240, poll=2)


@pytest.mark.e2e
@pytest.mark.live_airflow
def test_make_airflow_serves_runs_restarts_and_stops_cleanly(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    text = (SHIPPED_MAPPINGS / f"{MAPPING}.yaml").read_text()
    # Yearly: the scheduler starts no run of its own once the DAG is unpaused, so the runs are the test's.
    assert 'schedule: "*/15 * * * *"' in text
    (mappings / f"{MAPPING}.yaml").write_text(text.replace('schedule: "*/15 * * * *"', 'schedule: "0 3 1 1 *"'))
    (mappings / "case_to_bug.yaml").write_text((SHIPPED_MAPPINGS / "case_to_bug.yaml").read_text())
    env = {**os.environ, "SFJIRA_AIRFLOW_PORT": "0", "SFJIRA_MAPPINGS_DIR": str(mappings),
           "SFJIRA_RETRY_DELAY_S": "1", "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    live = Live(tmp_path / "live", env)
    try:
        _, ready = live.wait_for(READY)
        url = ready[len(READY):].strip()
        assert url.startswith("http://127.0.0.1:"), ready
        assert "admin / admin" in live.output()
        admin = next(login for login in LOGINS if login.role == "admin")
        rest = Rest(url, admin)

        # The sfjira DAGs, through the public REST API, once the dag-processor has parsed dags/.
        deadline = time.monotonic() + 120
        while not DAGS <= (listed := {d["dag_id"] for d in rest.api("GET", "/dags")["dags"]}):
            assert time.monotonic() < deadline, f"DAGs listed: {listed}"
            time.sleep(2)

        # One sync run whose first extract try meets four 503s (all of one try's HTTP attempts): Airflow
        # retries the task and the run succeeds against the emulators.
        emulators = json.loads((tmp_path / "live" / "emulators.json").read_text())["salesforce"]
        sf = EmulatorProcess.attach("emulators.salesforce", emulators["url"], emulators["ca_bundle"],
                                    emulators["admin_token"])
        sf.set_faults([{"fault": "503", "path": "/query", "times": 4}])
        rest.unpause(SYNC)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        assert sync_run(rest, "first", now - dt.timedelta(minutes=5)) == "success", live.output()[-3000:]
        tries = {ti["task_id"]: ti["try_number"] for ti in rest.task_instances(SYNC, "first")}
        assert tries["extract_salesforce"] == 2, tries
        log = tmp_path / "live" / "home" / "logs" / f"dag_id={SYNC}" / "run_id=first" / "task_id=extract_salesforce"
        assert sorted(p.name for p in log.iterdir()) == ["attempt=1.log", "attempt=2.log"]

        # SIGKILL the scheduler: the supervisor says so, restarts it, and the next run goes through.
        scheduler = live.started()["scheduler#0"]
        os.kill(scheduler, signal.SIGKILL)
        at, line = live.wait_for("scheduler exited with code -9 (SIGKILL); restarting in 1 s (restart 1 of", 60)
        live.wait_for("scheduler restarted (pid ", 60, after=at)
        assert group_members(scheduler) == []  # its LocalExecutor workers went with it
        # The smoke DAG (one task, Salesforce through sfjira's hook): the new scheduler runs it.
        rest.unpause("sfjira_smoke")
        rest.trigger("sfjira_smoke", "after-restart", logical_date=now.isoformat())
        assert rest.wait_for_run("sfjira_smoke", "after-restart", timeout=180, poll=2) == "success", \
            live.output()[-3000:]
    finally:
        live.kill()
    assert live.proc.returncode == 0, live.output()[-3000:]
    live._reader.join(timeout=10)
    assert live.lines[-1] == "Everything stopped.", live.output()[-2000:]
    pids = live.started()
    pids |= {name: json.loads((tmp_path / "live" / name / "endpoint.json").read_text())["pid"]
             for name in ("salesforce", "jira")}
    assert set(pids) >= {"api-server#0", "scheduler#0", "scheduler#1", "dag-processor#0", "triggerer#0",
                         "salesforce", "jira"}
    survivors = {name: group_members(pid) or pid for name, pid in pids.items()
                 if group_members(pid) or Path(f"/proc/{pid}").exists()}
    assert survivors == {}, survivors


def test_the_port_is_8080_a_free_one_or_the_one_asked_for() -> None:
    port = free_port()
    assert choose_port(str(port)) == port
    assert choose_port("0") > 0
    assert choose_port(None) > 0  # 8080, or a free one when another program has it
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(LocalAirflowError, match="is not a free TCP port") as err:
            choose_port(str(taken.getsockname()[1]))
    assert "SFJIRA_AIRFLOW_PORT" in err.value.fix
    with pytest.raises(LocalAirflowError):
        choose_port("eighty")
