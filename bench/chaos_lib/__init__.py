"""Reusable pieces for fault benchmarks (bench/liveness.py now, the chaos suite of issue 11 point 7 later).

A package, not a script, so `make bench` (every bench/*.py) does not run it on its own.

- `mixed_faults(probability)`: emulator fault rules that, together, fault about `probability` of every
  API call with a mix of the faults each emulator knows (Jira: 429, 500, 503, reset, lost response;
  Salesforce: 500, 503, reset, lost response, expired session).
- `ChaosWorld`: both emulators as processes, an isolated Airflow home and state store, the shipped
  mappings, and real `dag.test()` runs with the DAG's own task retries.
- `Workload` / `oracle()`: edits made in both systems between runs, and what must hold afterwards:
  one issue per case (no duplicate), every case carrying its issue's key, one copy of every comment on
  the other side, statuses that agree; `Verdict.duplicates` must stay 0 after every run, `missing` after a
  clean run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sfjira-chaos-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")  # dag.test() serializes the DAG from its bundle
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")

from emulators.common.process import EmulatorProcess  # noqa: E402
from sfjira.emulator_env import environment, sqlite_state  # noqa: E402

JIRA_FAULTS = ("429", "500", "503", "reset", "lost_response")
SF_FAULTS = ("500", "503", "reset", "lost_response", "expired_session")
# An expired session is answered by the data API; the token endpoint itself never says it.
SF_DATA_ONLY = {"expired_session": "^/services/data/"}
MARKER = "[sfjira]"
CASE_STATUS_TO_JIRA = {"New": "To Do", "Working": "In Progress", "Escalated": "In Review", "Closed": "Done"}


def mixed_faults(probability: float, kinds: tuple[str, ...], paths: dict[str, str] | None = None
                 ) -> list[dict[str, Any]]:
    """Rules firing one after the other, each with the chance that makes the union `probability`."""
    each = 1 - (1 - probability) ** (1 / len(kinds))
    return [{"fault": kind, "probability": each, **({"path": paths[kind]} if paths and kind in paths else {})}
            for kind in kinds]


@dataclass
class Verdict:
    duplicates: int = 0
    missing: int = 0
    details: list[str] = field(default_factory=list)


@dataclass
class ChaosWorld:
    work: Path
    mapping: str = "case_to_bug"
    task_retries: int = 3
    sf: EmulatorProcess | None = None
    jira: EmulatorProcess | None = None

    def start(self) -> ChaosWorld:
        self.sf = EmulatorProcess("emulators.salesforce", self.work / "sf", tls_dir=self.work / "tls").start()
        self.jira = EmulatorProcess("emulators.jira", self.work / "jira", tls_dir=self.work / "tls").start()
        mappings = self.work / "mappings"
        mappings.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "include" / "mappings" / f"{self.mapping}.yaml", mappings)
        os.environ.update(environment(self.sf.url, self.jira.url, self.sf.ca_bundle,
                                      state=sqlite_state(str(self.work / "state.db"))))
        os.environ.update({"SFJIRA_MAPPINGS_DIR": str(mappings), "SFJIRA_STORAGE": f"file://{self.work / 'runs'}",
                           "SFJIRA_TASK_RETRIES": str(self.task_retries), "SFJIRA_RETRY_DELAY_S": "1"})
        done = subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=dict(os.environ),
                              capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
        return self

    def stop(self) -> None:
        for proc in (self.jira, self.sf):
            if proc is not None:
                proc.stop()

    @property
    def rest(self) -> tuple[Any, Any]:
        from tests.e2e.world import JiraRest, SalesforceRest

        assert self.sf and self.jira
        if not hasattr(self, "_rest"):
            self._rest = (SalesforceRest(self.sf.url, self.sf.ca_bundle), JiraRest(self.jira.url, self.jira.ca_bundle))
        return self._rest

    def faults(self, probability: float, seed: int) -> None:
        assert self.sf and self.jira
        self.jira.set_faults(mixed_faults(probability, JIRA_FAULTS), seed=seed)
        self.sf.set_faults(mixed_faults(probability, SF_FAULTS, SF_DATA_ONLY), seed=seed + 1)

    def calm(self) -> dict[str, dict[str, int]]:
        """Clear the faults; returns the faults fired on each side since the last calm()."""
        assert self.sf and self.jira
        fired = {"salesforce": self.sf.calls().get("faults_fired", {}),
                 "jira": self.jira.calls().get("faults_fired", {})}
        for proc in (self.sf, self.jira):
            proc.clear_faults()
            proc.clear_calls()
        return fired

    def run(self) -> tuple[str, dict[str, int]]:
        """One sync DAG run (`dag.test()`, with the DAG's task retries): its state and each task's tries."""
        from sfjira.dag_factory import covering_logical_date, sync_dag
        from sfjira.mapping import load_mapping

        mapping = load_mapping(Path(os.environ["SFJIRA_MAPPINGS_DIR"]) / f"{self.mapping}.yaml")
        dag = sync_dag(mapping)
        logical = covering_logical_date(mapping.schedule, dt.datetime.now(dt.UTC))
        dag_run = dag.test(logical_date=logical, run_conf={"full_resync": False, "dry_run": False})
        return str(dag_run.state), {ti.task_id: ti.try_number for ti in dag_run.get_task_instances()}


class Workload:
    """Edits between runs, made through the public APIs as people would: new cases, status changes,
    comments on both sides."""

    def __init__(self, world: ChaosWorld, seed: int = 0) -> None:
        self.world = world
        self.rng = random.Random(seed)

    def step(self, new_cases: int = 3, moves: int = 2, comments: int = 2) -> None:
        from tests.e2e.world import make_cases

        sf, jira = self.world.rest
        make_cases(sf, new_cases, Status="New")
        linked = [r for r in sf.query("SELECT Id, Status, Jira_Key__c FROM Case") if r["Jira_Key__c"]]
        for case in self.rng.sample(linked, min(moves, len(linked))):
            sf.update("Case", case["Id"], Status=self.rng.choice(list(CASE_STATUS_TO_JIRA)))
        for case in self.rng.sample(linked, min(comments, len(linked))):
            sf.create("CaseComment", ParentId=case["Id"], CommentBody=f"note {self.rng.random():.6f}",
                      IsPublished=True)
        for case in self.rng.sample(linked, min(comments, len(linked))):
            text = f"jira note {self.rng.random():.6f}"
            jira.ok("POST", f"/issue/{case['Jira_Key__c']}/comment", json={"body": {
                "type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": text}]}]}})


def oracle(world: ChaosWorld, *, complete: bool) -> Verdict:
    """Duplicates always count; missing copies, keys and statuses only when `complete` (after a clean run)."""
    from sfjira.hooks.jira_frames import adf_to_text

    sf, jira = world.rest
    verdict = Verdict()
    cases = {r["Id"]: r for r in sf.query("SELECT Id, Status, Jira_Key__c FROM Case")}
    issues = _issues(jira)
    per_case = Counter(i["fields"].get("customfield_10050") for i in issues)
    for sf_id, n in per_case.items():
        if n > 1:
            verdict.duplicates += n - 1
            verdict.details.append(f"{n} issues for case {sf_id}")
    key_of = {i["fields"].get("customfield_10050"): i for i in issues}
    sf_comments = sf.query("SELECT Id, ParentId, CommentBody FROM CaseComment")
    for case_id, case in cases.items():
        issue = key_of.get(case_id)
        if issue is None:
            if complete:
                verdict.missing += 1
                verdict.details.append(f"case {case_id} has no issue")
            continue
        body = jira.ok("GET", f"/issue/{issue['key']}/comment", params={"maxResults": 100})
        on_issue = [adf_to_text(c["body"]) for c in body["comments"]]
        on_case = [c["CommentBody"] for c in sf_comments if c["ParentId"] == case_id]
        verdict.duplicates += _duplicated(on_issue, verdict, issue["key"]) + _duplicated(on_case, verdict, case_id)
        if not complete:
            continue
        wanted = [f"{MARKER} from Salesforce {c['Id']}" for c in sf_comments
                  if c["ParentId"] == case_id and not c["CommentBody"].startswith(MARKER)]
        wanted_back = [f"{MARKER} from Jira {c['id']}" for c in body["comments"]
                       if not adf_to_text(c["body"]).startswith(MARKER)]
        have = {t.split("\n", 1)[0].rsplit(" by ", 1)[0] for t in on_issue + on_case}
        have |= {t.split("\n", 1)[0] for t in on_issue + on_case}
        lost = [w for w in wanted + wanted_back if not any(h.startswith(w) for h in have)]
        if case.get("Jira_Key__c") != issue["key"]:
            lost.append(f"key of {case_id}")
        if CASE_STATUS_TO_JIRA.get(case["Status"]) != issue["fields"]["status"]["name"]:
            lost.append(f"status of {case_id}: {case['Status']} vs {issue['fields']['status']['name']}")
        verdict.missing += len(lost)
        verdict.details += [f"missing: {x}" for x in lost]
    return verdict


def _duplicated(texts: list[str], verdict: Verdict, where: str) -> int:
    headers = Counter(t.split("\n", 1)[0] for t in texts if t.startswith(MARKER))
    extra = sum(n - 1 for n in headers.values() if n > 1)
    if extra:
        verdict.details.append(f"{extra} duplicate comment copies on {where}")
    return extra


def _issues(jira: Any) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"jql": "project = SUP", "fields": "status,customfield_10050", "maxResults": 100}
    out: list[dict[str, Any]] = []
    while True:
        body = jira.ok("GET", "/search/jql", params=params)
        out += body["issues"]
        if body.get("isLast", True):
            return out
        params["nextPageToken"] = body.get("nextPageToken")


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
