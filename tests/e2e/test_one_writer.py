"""One writer per mapping, in real DAG runs: a reconciliation heal overlapping a sync load, and a run
overlapping another run of the same window, leave no duplicate issue and lose no update.

Concurrent runs are `dag.test()` in separate processes (each with its own copy of the Airflow metadata
DB, so only the state store and the emulators are shared, as between workers of one deployment); what
they leave behind is read from both emulators over REST."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.world import World, make_cases

REPO = Path(__file__).resolve().parents[2]
MAPPING = "case_to_bug"
SLOW = 600  # seconds a subprocess DAG run may take on a loaded 2-core machine

_RUN = textwrap.dedent("""
    import datetime as dt, json, sys
    from sfjira.dag_factory import RECONCILE_SCHEDULE, covering_logical_date, reconcile_dag, sync_dag
    from sfjira.mapping import load_mapping
    kind, path, at, conf = sys.argv[1:5]
    mapping = load_mapping(path)
    dag = sync_dag(mapping) if kind == "sync" else reconcile_dag(mapping)
    logical = covering_logical_date(mapping.schedule if kind == "sync" else RECONCILE_SCHEDULE,
                                    dt.datetime.fromisoformat(at))
    run = dag.test(logical_date=logical, run_conf=json.loads(conf))
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    print("SFJIRA DAG RUN", run.run_id, run.state, json.dumps(states), flush=True)
""")


class DagProcess:
    """One DAG run (`dag.test()`) in its own process, its output in a file."""

    def __init__(self, world: World, tmp_path: Path, name: str, kind: str, at: dt.datetime,
                 conf: dict[str, Any]) -> None:
        from airflow.configuration import conf as airflow_conf

        metadata = Path(airflow_conf.get("database", "sql_alchemy_conn").removeprefix("sqlite:///"))
        own = tmp_path / f"airflow-{name}.db"
        shutil.copy(metadata, own)
        self.log = tmp_path / f"{name}.log"
        env = {**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}",
               "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{own}",
               "AIRFLOW__SFJIRA__WRITER_LEASE_WAIT_SECONDS": str(SLOW)}
        with self.log.open("w") as out:
            self.proc = subprocess.Popen([sys.executable, "-c", _RUN, kind, str(world.mappings_dir / f"{MAPPING}.yaml"),
                                          at.isoformat(), json.dumps(conf)], cwd=REPO, env=env, stdout=out,
                                         stderr=subprocess.STDOUT)

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = SLOW) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.proc.poll() is None, f"ended before saying {text!r}:\n{self.output[-5000:]}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout} s:\n{self.output[-5000:]}"
            time.sleep(0.5)

    def finish(self) -> dict[str, str]:
        """Wait for the run; assert it succeeded; its task states."""
        try:
            self.proc.wait(timeout=SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        line = next((ln for ln in self.output.splitlines() if ln.startswith("SFJIRA DAG RUN")), None)
        assert line is not None and self.proc.returncode == 0, self.output[-5000:]
        _, _, _, run_id, state, states = line.split(" ", 5)
        assert state == "success", f"{run_id} ended {state}: {states}\n{self.output[-5000:]}"
        return dict(json.loads(states))


def _seed(world: World) -> dict[str, Any]:
    """Three synced cases, then edits on both sides and two new cases that no run has seen yet."""
    ids = make_cases(world.sf, 3, Status="New", Priority="Medium")
    world.run(MAPPING)
    keys = {r["Id"]: r["Jira_Key__c"] for r in world.sf.query("SELECT Id, Jira_Key__c FROM Case")}
    world.sf.update("Case", ids[0], Subject="Edited in Salesforce")
    world.jira.ok("PUT", f"/issue/{keys[ids[1]]}", json={"fields": {"summary": "Edited in Jira"}})
    new = make_cases(world.sf, 2, prefix="New", Status="New", Priority="Medium")
    return {"ids": ids, "keys": keys, "new": new}


def _assert_one_issue_each_and_every_edit_landed(world: World, seed: dict[str, Any]) -> None:
    issues = world.issues("project = SUP")
    per_record = Counter(i["fields"]["customfield_10050"] for i in issues)
    cases = {r["Id"]: r for r in world.sf.query("SELECT Id, Subject, Jira_Key__c FROM Case")}
    assert set(per_record) == set(cases) and set(per_record.values()) == {1}, per_record  # no duplicate issue
    summary = {i["key"]: i["fields"]["summary"] for i in issues}
    for sf_id, case in cases.items():
        assert case["Jira_Key__c"] and summary[case["Jira_Key__c"]] == case["Subject"], (sf_id, case)
    ids, keys = seed["ids"], seed["keys"]
    assert summary[keys[ids[0]]] == "Edited in Salesforce"  # pushed
    assert cases[ids[1]]["Subject"] == "Edited in Jira"     # pulled
    links = world.store.links(MAPPING)
    assert sorted(links["sf_id"]) == sorted(cases) and links["jira_key"].is_unique
    assert world.store.lease(MAPPING) is None  # every writer released it


def test_heal_waits_for_a_running_sync_load_then_heals(world: World, tmp_path: Path) -> None:
    seed = _seed(world)
    holder = "sfjira_sync__case_to_bug/manual__test"  # as if a sync run were between its extract and its loads
    assert world.store.acquire_lease(MAPPING, holder, 900, task=f"{holder}/load_jira try 1 on the test").held_by(holder)
    world.clear_calls()
    heal = DagProcess(world, tmp_path, "heal", "reconcile", dt.datetime.now(dt.UTC), {"auto_heal": True})
    heal.wait_for(f"waiting for holder {holder}")
    time.sleep(2)
    assert world.writes() == {"salesforce": {}, "jira": {}}  # it waits before reading: its heal plans on fresh reads
    assert world.store.release_lease(MAPPING, holder)
    states = heal.finish()
    assert states["heal"] == "success"
    assert world.writes()["jira"]  # the heal did write, once it held the lease
    runs = world.store.runs(MAPPING, limit=None)
    healed = runs[runs["kind"] == "reconcile"].iloc[0]
    assert healed["status"] == "success" and healed["summary"]["heal"]["finished"]
    _assert_one_issue_each_and_every_edit_landed(world, seed)


def test_heal_and_sync_running_at_once(world: World, tmp_path: Path) -> None:
    seed = _seed(world)
    now = dt.datetime.now(dt.UTC)
    both = [DagProcess(world, tmp_path, "heal", "reconcile", now, {"auto_heal": True}),
            DagProcess(world, tmp_path, "sync", "sync", now, {})]
    for run in both:
        run.finish()
    _assert_one_issue_each_and_every_edit_landed(world, seed)
    # the next sync run finds nothing left to write: nothing was half done
    world.clear_calls()
    world.run(MAPPING)
    assert world.writes() == {"salesforce": {}, "jira": {}}


def test_a_run_overlapping_another_run_of_the_same_window(world: World, tmp_path: Path) -> None:
    """The next interval's run (its overlap reaches back over the current interval) and the current
    interval run again, at once: both windows hold the edits."""
    seed = _seed(world)
    now = dt.datetime.now(dt.UTC)
    runs = [DagProcess(world, tmp_path, "next", "sync", now + dt.timedelta(minutes=10), {}),
            DagProcess(world, tmp_path, "again", "sync", now, {})]
    for run in runs:
        states = run.finish()
        assert set(states.values()) == {"success"}, states
    _assert_one_issue_each_and_every_edit_landed(world, seed)
    world.clear_calls()
    world.run(MAPPING)
    assert world.writes() == {"salesforce": {}, "jira": {}}


@pytest.fixture(autouse=True)
def _lease_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # the world's own dag.test() runs too: a short TTL keeps the heartbeat busy within a short test
    monkeypatch.setenv("AIRFLOW__SFJIRA__WRITER_LEASE_SECONDS", "30")
