"""`make demo`: both emulators with seeded data, the smoke DAG, then the shipped mappings' sync DAGs
run by `airflow dags test` -- a first full sync, changes made on both sides behind the connector's
back, an incremental run that carries them across, and a last run that has nothing to do.

Everything lives under .demo/ (recreated on each run); the emulators are stopped at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from emulators.common.process import EmulatorProcess
from sfjira.dag_factory import covering_logical_date
from sfjira.emulator_env import environment, sqlite_state
from sfjira.mapping import parse_mapping

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / ".demo"
MAPPINGS = ("opportunity_to_epic", "case_to_bug")


def airflow_env(sf: EmulatorProcess, jira: EmulatorProcess) -> dict[str, str]:
    env = {**os.environ,
           "AIRFLOW_HOME": str(WORK / "airflow"),
           "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
           "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "SFJIRA_STORAGE": f"file://{WORK / 'runs'}",
           "SFJIRA_TASK_RETRIES": "0",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    env.update(environment(sf.url, jira.url, sf.ca_bundle, state=sqlite_state(str(WORK / "state.db"))))
    return env


def airflow(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([str(Path(sys.executable).parent / "airflow"), *args], env=env, capture_output=True,
                          text=True, cwd=REPO)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"airflow {' '.join(args)} failed with exit code {proc.returncode}")
    return proc.stdout + proc.stderr


def run_sync(env: dict[str, str], mapping: str, *, full: bool = False) -> None:
    # Only the schedule is wanted here; the full load (with its PII key check) happens in the DAG runs,
    # whose environment holds the demo's generated key.
    path = REPO / "include" / "mappings" / f"{mapping}.yaml"
    schedule = parse_mapping(path.read_text(), str(path)).schedule
    logical = covering_logical_date(schedule, dt.datetime.now(dt.UTC))
    conf = json.dumps({"full_resync": full})
    out = airflow(env, "dags", "test", f"sfjira_sync__{mapping}", logical.isoformat(), "--conf", conf)
    lines = [line.split("SFJIRA SUMMARY ", 1)[1] for line in out.splitlines() if "SFJIRA SUMMARY " in line]
    print(f"  {lines[-1] if lines else mapping + ': (no summary printed; see .demo/airflow/logs)'}")


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


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    sf = EmulatorProcess("emulators.salesforce", WORK / "salesforce", tls_dir=WORK / "tls")
    jira = EmulatorProcess("emulators.jira", WORK / "jira", tls_dir=WORK / "tls")
    try:
        sf.start()
        jira.start()
        seeded = sf.seed(seed=42, accounts=25)
        print(f"Salesforce emulator {sf.url}: seeded {json.dumps(seeded.get('counts', seeded))}")
        print(f"Jira emulator {jira.url} (cloud mode)")
        env = airflow_env(sf, jira)
        airflow(env, "db", "migrate")
        out = airflow(env, "dags", "test", "sfjira_smoke")
        print("Smoke DAG (Salesforce through sfjira's hook):")
        for line in out.splitlines():
            if "SMOKE " in line:
                print("  " + line.split("SMOKE ", 1)[1])
        print("First sync (full resync) per mapping:")
        for mapping in MAPPINGS:
            run_sync(env, mapping, full=True)
        print("Changes made behind the connector's back:")
        change_both_sides(sf, jira)
        print("Incremental sync:")
        for mapping in MAPPINGS:
            run_sync(env, mapping)
        print("Again, with nothing changed:")
        for mapping in MAPPINGS:
            run_sync(env, mapping)
        print(f"Run folders, plans and diffs: {WORK / 'runs'}; state store: {WORK / 'state.db'}")
        return 0
    finally:
        jira.stop()
        sf.stop()


if __name__ == "__main__":
    raise SystemExit(main())
