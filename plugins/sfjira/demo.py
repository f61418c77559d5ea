"""`make demo`: both emulators with seeded data, the smoke DAG, then the shipped mappings' sync DAGs
run by `airflow dags test` -- a first full sync, changes made on both sides behind the connector's
back, an incremental run that carries them across, and a last run that has nothing to do.

Everything lives under .demo/ (recreated on each run; `--dir` names another folder); the emulators are
stopped at the end. `airflow dags test` runs the tasks in its own process and prints their logs: each
DAG run's output is kept in logs/, one file per run, named at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
from pathlib import Path

from emulators.common.process import EmulatorProcess
from sfjira.dag_factory import covering_logical_date
from sfjira.emulator_env import environment, sqlite_state
from sfjira.local_airflow import REPO, LocalAirflowError, airflow_environment, run_airflow
from sfjira.mapping import parse_mapping

WORK = REPO / ".demo"
MAPPINGS = ("opportunity_to_epic", "case_to_bug")
SEED = {"seed": 42, "accounts": 25}


def start_emulators(work: Path, *, new_session: bool = False) -> tuple[EmulatorProcess, EmulatorProcess]:
    """Both emulators under `work`, Salesforce seeded with the demo's data, Jira empty (the first sync
    fills it). The caller stops them, also when this fails half-way."""
    sf = EmulatorProcess("emulators.salesforce", work / "salesforce", tls_dir=work / "tls", new_session=new_session)
    jira = EmulatorProcess("emulators.jira", work / "jira", tls_dir=work / "tls", new_session=new_session)
    try:
        sf.start()
        jira.start()
        seeded = sf.seed(**SEED)
    except BaseException:
        jira.stop()
        sf.stop()
        raise
    print(f"Salesforce emulator {sf.url}: seeded {json.dumps(seeded.get('counts', seeded))}")
    print(f"Jira emulator {jira.url} (cloud mode)")
    return sf, jira


class Demo:
    """The demo's Airflow: `dags test` runs whose whole output is kept, numbered, under `logs`."""

    def __init__(self, work: Path, sf: EmulatorProcess, jira: EmulatorProcess) -> None:
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.runs = 0
        self.env = airflow_environment(
            work / "airflow", environment(sf.url, jira.url, sf.ca_bundle, state=sqlite_state(str(work / "state.db"))),
            storage=work / "runs", task_retries=0)

    def dags_test(self, dag_id: str, *args: str) -> tuple[str, Path]:
        """`airflow dags test DAG_ID ARGS`: its output, and the file that keeps it."""
        self.runs += 1
        log = self.logs / f"{self.runs:02d}-{dag_id}.log"
        proc = run_airflow(self.env, "dags", "test", dag_id, *args, timeout=600, log=log)
        return proc.stdout + proc.stderr, log

    def run_sync(self, mapping: str, *, full: bool = False) -> None:
        # Only the schedule is wanted here; the full load (with its PII key check) happens in the DAG runs,
        # whose environment holds the demo's generated key.
        path = REPO / "include" / "mappings" / f"{mapping}.yaml"
        schedule = parse_mapping(path.read_text(), str(path)).schedule
        logical = covering_logical_date(schedule, dt.datetime.now(dt.UTC))
        conf = json.dumps({"full_resync": full})
        out, log = self.dags_test(f"sfjira_sync__{mapping}", logical.isoformat(), "--conf", conf)
        lines = [line.split("SFJIRA SUMMARY ", 1)[1] for line in out.splitlines() if "SFJIRA SUMMARY " in line]
        print(f"  {lines[-1] if lines else mapping + f': (no summary printed; see {log})'}")


def change_both_sides(sf: EmulatorProcess, jira: EmulatorProcess) -> None:
    """Edit behind the connector's back: a Salesforce amount and subject, a Jira status."""
    import requests

    from emulators.jira.testing import JiraRest
    from emulators.salesforce.testing import access_token

    token = access_token(sf.url, sf.ca_bundle)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{sf.url}/services/data/v62.0"
    query = requests.get(f"{base}/query", params={"q": "SELECT Id, Jira_Key__c FROM Case WHERE Jira_Key__c != null "
                                                        "ORDER BY Id LIMIT 2"},
                         headers=headers, verify=sf.ca_bundle, timeout=30).json()["records"]
    if query:
        requests.patch(f"{base}/sobjects/Case/{query[0]['Id']}", json={"Subject": "Printer on fire (edited in SF)"},
                       headers=headers, verify=sf.ca_bundle, timeout=30).raise_for_status()
    if len(query) > 1:
        rest = JiraRest(jira.url, jira.ca_bundle)
        key = query[1]["Jira_Key__c"]
        moves = rest.ok("GET", f"/issue/{key}/transitions")["transitions"]
        rest.ok("POST", f"/issue/{key}/transitions", json={"transition": {"id": moves[0]["id"]}})
        print(f"  edited Case {query[0]['Id']} subject in Salesforce; moved {key} to {moves[0]['to']['name']} in Jira")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sfjira.demo", description="make demo: a guided sync")
    parser.add_argument("--dir", type=Path, default=WORK, help="the demo's folder (default: .demo/)")
    work = parser.parse_args(argv).dir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sf, jira = start_emulators(work)
    try:
        demo = Demo(work, sf, jira)
        run_airflow(demo.env, "db", "migrate", timeout=300)
        out, _ = demo.dags_test("sfjira_smoke")
        print("Smoke DAG (Salesforce through sfjira's hook):")
        for line in out.splitlines():
            if "SMOKE " in line:
                print("  " + line.split("SMOKE ", 1)[1])
        print("First sync (full resync) per mapping:")
        for mapping in MAPPINGS:
            demo.run_sync(mapping, full=True)
        print("Changes made behind the connector's back:")
        change_both_sides(sf, jira)
        print("Incremental sync:")
        for mapping in MAPPINGS:
            demo.run_sync(mapping)
        print("Again, with nothing changed:")
        for mapping in MAPPINGS:
            demo.run_sync(mapping)
        print(f"Run folders, plans and diffs: {work / 'runs'}; state store: {work / 'state.db'}")
        print(f"Task logs, one file per DAG run ({demo.runs} runs): {demo.logs}")
        print("For the Airflow UI over the same emulators and DAGs: make airflow")
        return 0
    except LocalAirflowError as err:
        print(err, file=sys.stderr)
        return 1
    finally:
        jira.stop()
        sf.stop()


if __name__ == "__main__":
    raise SystemExit(main())
