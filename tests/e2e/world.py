"""The end-to-end test world: both emulators, a mappings folder, a state store, and real sync DAG runs.

Everything a test does to the two systems goes through their public REST APIs (`SalesforceRest`,
`JiraRest`); everything the sync does goes through a real Airflow DAG run (`dag.test()`), so the
assertions see exactly what a user of either system would see.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import requests

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import JiraRest
from emulators.salesforce.testing import access_token

# The e2e files whose subject does not depend on the state store's backend (call counts, change detection,
# comments, replay, dry runs, ...) run on SQLite alone: `pytestmark = [SQLITE_STATE_ONLY]`. PostgreSQL is
# covered query by query in tests/sfjira/state, and end to end by the files where the backend matters
# (one writer and its lease, killed loads and their intents, the cursor, identity, retries, rollback).
# Each PostgreSQL e2e variant costs 20-50 s of a 2-core CI run.
SQLITE_STATE_ONLY = pytest.mark.parametrize("state_conn", ["sqlite"], indirect=True)

REPO = Path(__file__).resolve().parents[2]
SHIPPED_MAPPINGS = REPO / "include" / "mappings"
API = "/services/data/v62.0"

# Calls that use POST but read: the OAuth token grant and search.
READ_POSTS = ("/services/oauth2/token", "/search")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
WORKFLOW = ["To Do", "In Progress", "In Review", "Done"]  # the SUP/DEL workflow, in order


def write_calls(calls: dict[str, Any]) -> dict[str, int]:
    """The write endpoints (METHOD /route) of an emulator's call counters, with their counts."""
    out = {}
    for endpoint, count in calls.get("by_endpoint", {}).items():
        method, _, route = endpoint.partition(" ")
        if method in WRITE_METHODS and not any(marker in route for marker in READ_POSTS) and count:
            out[endpoint] = count
    return out


class SalesforceRest:
    """A person (or another integration) editing the org behind the sync's back."""

    def __init__(self, url: str, ca_bundle: str) -> None:
        self.url = url
        self.ca_bundle = ca_bundle
        self.session = requests.Session()

    @cached_property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {access_token(self.url, self.ca_bundle)}"}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        # verify= per request: REQUESTS_CA_BUNDLE would beat a session-level verify.
        response = self.session.request(method, f"{self.url}{API}{path}", headers=self._headers,
                                        verify=self.ca_bundle, timeout=30, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def query(self, soql: str, *, deleted: bool = False) -> list[dict[str, Any]]:
        body = self.call("GET", "/queryAll/" if deleted else "/query/", params={"q": soql})
        records = list(body["records"])
        while not body["done"]:
            body = self.call("GET", body["nextRecordsUrl"].removeprefix(API))
            records += body["records"]
        return records

    def create(self, sobject: str, **fields: Any) -> str:
        return str(self.call("POST", f"/sobjects/{sobject}/", json=fields)["id"])

    def create_many(self, sobject: str, records: list[dict[str, Any]]) -> list[str]:
        ids: list[str] = []
        for start in range(0, len(records), 200):
            chunk = [{"attributes": {"type": sobject}, **r} for r in records[start:start + 200]]
            results = self.call("POST", "/composite/sobjects", json={"allOrNone": True, "records": chunk})
            ids += [str(r["id"]) for r in results]
        return ids

    def update(self, sobject: str, record_id: str, **fields: Any) -> None:
        self.call("PATCH", f"/sobjects/{sobject}/{record_id}", json=fields)

    def delete(self, sobject: str, record_id: str) -> None:
        self.call("DELETE", f"/sobjects/{sobject}/{record_id}")

    def get(self, sobject: str, record_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/sobjects/{sobject}/{record_id}"))


@dataclass
class Run:
    """One finished DAG run: its Airflow state, task states and the state store's summary of it."""

    dag_run: Any
    task_states: dict[str, str]
    summary: dict[str, Any]
    folder: Path

    @property
    def state(self) -> str:
        return str(self.dag_run.state)


@dataclass
class World:
    sf_emulator: EmulatorProcess
    jira_emulator: EmulatorProcess
    mappings_dir: Path
    storage_dir: Path
    runs: list[Run] = field(default_factory=list)

    @cached_property
    def sf(self) -> SalesforceRest:
        return SalesforceRest(self.sf_emulator.url, self.sf_emulator.ca_bundle)

    @cached_property
    def jira(self) -> JiraRest:
        return JiraRest(self.jira_emulator.url, self.jira_emulator.ca_bundle)

    @cached_property
    def store(self) -> Any:
        from sfjira.state import StateStore

        return StateStore.from_airflow("sfjira_state")

    # -- mappings and DAGs ----------------------------------------------------------------------

    def add_mapping(self, name: str, text: str) -> Path:
        path = self.mappings_dir / f"{name}.yaml"
        path.write_text(text)
        return path

    def variant(self, shipped: str, name: str, replacements: Iterable[tuple[str, str]] = ()) -> Path:
        """A copy of a shipped mapping under another name, with textual replacements (each must apply)."""
        text = (SHIPPED_MAPPINGS / f"{shipped}.yaml").read_text().replace(f"name: {shipped}", f"name: {name}", 1)
        for old, new in replacements:
            assert old in text, f"{old!r} is not in {shipped}.yaml"
            text = text.replace(old, new)
        return self.add_mapping(name, text)

    def mapping(self, name: str) -> Any:
        from sfjira.mapping import load_mapping

        return load_mapping(self.mappings_dir / f"{name}.yaml")

    def dag(self, name: str) -> Any:
        from sfjira.dag_factory import sync_dag

        return sync_dag(self.mapping(name))

    def run(self, name: str, *, full: bool = False, dry_run: bool = False, expect: str = "success",
            dag: Any = None, run_after: dt.datetime | None = None, at: dt.datetime | None = None,
            conf: dict[str, Any] | None = None) -> Run:
        """One `dag.test()` run over the interval that contains `at` (default now), or a full resync. The
        Airflow run id is made from `run_after` (default now): passing an earlier run's value runs that
        same run again, over its interval, as clearing it in Airflow would."""
        from sfjira.dag_factory import covering_logical_date
        from sfjira.storage import run_path

        dag = dag or self.dag(name)
        logical = (self._logical_date_of(dag.dag_id, run_after) if run_after and at is None
                   else covering_logical_date(self.mapping(name).schedule, at or dt.datetime.now(dt.UTC)))
        dag_run = dag.test(logical_date=logical, run_after=run_after,
                           run_conf={"full_resync": full, "dry_run": dry_run, **(conf or {})})
        states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
        assert str(dag_run.state) == expect, f"DAG run {dag_run.run_id} ended {dag_run.state}: {states}"
        summary = self._summary(name, dag_run.run_id)
        run = Run(dag_run, states, summary, Path(str(run_path(dag.dag_id, dag_run.run_id)).removeprefix("file://")))
        self.runs.append(run)
        return run

    @staticmethod
    def _logical_date_of(dag_id: str, run_after: dt.datetime) -> dt.datetime:
        """The logical date of the earlier run made at `run_after`. Computing it from the clock again would
        name the next interval once a 15-minute boundary has passed, and Airflow would then refuse a second
        run under the same run id (UNIQUE dag_id, run_id) instead of running that run again."""
        from airflow.models.dagrun import DagRun
        from airflow.utils.session import create_session
        from airflow.utils.types import DagRunType

        run_id = DagRun.generate_run_id(run_type=DagRunType.MANUAL, logical_date=run_after, run_after=run_after)
        with create_session() as session:
            (logical,) = [r.logical_date for r in session.query(DagRun).filter(DagRun.dag_id == dag_id,
                                                                                DagRun.run_id == run_id)]
        return logical

    @staticmethod
    def xcom(run: Run, task_id: str) -> Any:
        """What a task of the run returned (its XCom), read from the metadata DB."""
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            row = session.scalars(XComModel.get_many(run_id=run.dag_run.run_id, key="return_value",
                                                     dag_ids=run.dag_run.dag_id, task_ids=task_id)).first()
            return None if row is None else XComModel.deserialize_value(row)

    def _summary(self, name: str, airflow_run_id: str) -> dict[str, Any]:
        """The state store's newest run for this Airflow run (a re-run gets `<run id>#n`)."""
        runs = self.store.runs(name, limit=None)
        mine = runs[runs["airflow_run_id"].str.split("#").str[0] == airflow_run_id]
        return mine.iloc[0].to_dict() if len(mine) else {}

    # -- emulator counters ----------------------------------------------------------------------

    def clear_calls(self) -> None:
        self.sf_emulator.clear_calls()
        self.jira_emulator.clear_calls()

    def writes(self) -> dict[str, dict[str, int]]:
        """Write calls per side since the last clear_calls()."""
        return {"salesforce": write_calls(self.sf_emulator.calls()),
                "jira": write_calls(self.jira_emulator.calls())}

    # -- reading both systems -------------------------------------------------------------------

    def use_datacenter(self, monkeypatch: Any) -> None:
        """Switch Jira to Data Center mode: the emulator, the sync's connection and this world's client."""
        from emulators.jira.testing import DC_BASIC
        from sfjira.emulator_env import jira_connection

        self.jira_emulator.configure(mode="datacenter")
        monkeypatch.setenv("AIRFLOW_CONN_JIRA_DEFAULT", json.dumps(jira_connection(
            self.jira_emulator.url, self.jira_emulator.ca_bundle, "datacenter")))
        self.__dict__["jira"] = JiraRest(self.jira_emulator.url, self.jira_emulator.ca_bundle, version=2,
                                         auth=DC_BASIC)

    def issues(self, jql: str, fields: str = "summary,status,priority,customfield_10050,description") -> list[dict]:
        """Every matching issue (Cloud: /search/jql pages; Data Center: /search with startAt)."""
        cloud = self.jira.version == 3
        params: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": 100, "properties": "sfjira"}
        issues: list[dict] = []
        while True:
            body = self.jira.ok("GET", "/search/jql" if cloud else "/search",
                                params=params if cloud else {**params, "startAt": len(issues)})
            issues += body["issues"]
            done = body.get("isLast", True) if cloud else len(issues) >= body["total"] or not body["issues"]
            if done:
                return issues
            params["nextPageToken"] = body.get("nextPageToken")

    def issue(self, key: str) -> dict[str, Any]:
        return self.jira.issue(key, properties="sfjira")

    def transition(self, key: str, target: str) -> None:
        """Walk an issue to `target` the way a person would: one workflow step at a time."""
        for _ in range(len(WORKFLOW) + 1):
            current = self.jira.issue(key, fields="status")["fields"]["status"]["name"]
            if current == target:
                return
            here, there = WORKFLOW.index(current), WORKFLOW.index(target)
            # Done goes back through "Reopen" (to To Do); everything else moves one status at a time.
            step = WORKFLOW[0] if current == "Done" else WORKFLOW[here + (1 if there > here else -1)]
            moves = self.jira.ok("GET", f"/issue/{key}/transitions")["transitions"]
            move = next(m for m in moves if m["to"]["name"] == step)
            self.jira.ok("POST", f"/issue/{key}/transitions", json={"transition": {"id": move["id"]}})
        raise AssertionError(f"{key} did not reach {target}")


def kill_dag_test_while_held(emulator: EmulatorProcess, rule: dict[str, Any], dag_id: str, logical: dt.datetime,
                             log_path: Path, conf: dict[str, Any] | None = None) -> None:
    """`airflow dags test dag_id logical` in a subprocess, SIGKILLed once `emulator` handled the write `rule`
    (a `late_response` fault rule) picks and holds its answer back: the write landed, the task never heard
    of it."""
    emulator.set_faults([{"fault": "late_response", "times": 1, "delay_s": 120, **rule}])
    command = [str(Path(sys.executable).parent / "airflow"), "dags", "test", dag_id, logical.isoformat()]
    with log_path.open("w") as log:
        proc = subprocess.Popen(command + (["-c", json.dumps(conf)] if conf else []), env=dict(os.environ),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 240
            while not emulator.calls().get("faults_fired", {}).get("late_response"):
                assert proc.poll() is None, f"the DAG run ended before the write: {log_path.read_text()[-3000:]}"
                assert time.monotonic() < deadline, "the write never came"
                time.sleep(0.2)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: only the processes this test started
            proc.wait(timeout=60)
    emulator.clear_faults()


def copy_shipped_mappings(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for path in SHIPPED_MAPPINGS.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


# -- test data, made through the Salesforce API -----------------------------------------------------

CASE_STATUS_TO_JIRA = {"New": "To Do", "Working": "In Progress", "Escalated": "In Review", "Closed": "Done"}


def account_and_contact(sf: SalesforceRest, name: str = "Acme Tools") -> tuple[str, str]:
    account = sf.create("Account", Name=name, Industry="Manufacturing")
    contact = sf.create("Contact", FirstName="Ada", LastName="Lovelace", Email="Ada.Lovelace@Example.com",
                        AccountId=account)
    return account, contact


def make_cases(sf: SalesforceRest, n: int, *, origin: str = "Web", prefix: str = "Case",
               **fields: Any) -> list[str]:
    """`n` cases with varied priority and status, all on one account and contact."""
    account, contact = account_and_contact(sf)
    priorities, statuses = ["High", "Medium", "Low"], list(CASE_STATUS_TO_JIRA)
    records = [{"Subject": f"{prefix} {i}: printer on fire", "Description": f"Line one of {i}\nline two",
                "Priority": priorities[i % 3], "Status": statuses[i % 4], "Origin": origin, "AccountId": account,
                "ContactId": contact, **fields} for i in range(n)]
    return sf.create_many("Case", records)


STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
          "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"]


def make_opportunities(sf: SalesforceRest, n: int, *, stages: list[str] | None = None) -> list[str]:
    account, _ = account_and_contact(sf, "Globex")
    stages = stages or STAGES
    records = [{"Name": f"Deal {i}", "AccountId": account, "StageName": stages[i % len(stages)],
                "Amount": 1000 + i * 250.5, "CloseDate": f"2027-0{1 + i % 9}-15", "Description": f"Deal number {i}"}
               for i in range(n)]
    return sf.create_many("Opportunity", records)


def jira_comment_texts(world: World, key: str) -> list[str]:
    """The plain text of every comment on issue `key`, oldest first."""
    from sfjira.hooks.jira_frames import adf_to_text

    body = world.jira.ok("GET", f"/issue/{key}/comment", params={"maxResults": 100})
    return [adf_to_text(c["body"]) for c in body["comments"]]


def case_comment_texts(world: World, case_id: str) -> list[str]:
    """The body of every CaseComment on case `case_id`, oldest first."""
    rows = world.sf.query(f"SELECT CommentBody FROM CaseComment WHERE ParentId = '{case_id}' ORDER BY CreatedDate")
    return [r["CommentBody"] for r in rows]
