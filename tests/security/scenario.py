"""The sync and reconciliation runs the leak scan inspects, run in a process of their own:
`python -m tests.security.scenario REPORT_FILE`, with AIRFLOW_HOME a fresh, migrated folder and
$SFJIRA_SCAN_SCENARIO saying where the emulators are and which state stores to use (JSON:
{"salesforce": {url, ca_bundle, admin_token}, "jira": {...}, "passes": [{"name", "folder", "state"}]}).

A process of its own so that its Airflow home holds exactly what these runs left and nothing of other
tests (it migrates that home first). Each pass: the shipped `case_to_bug` (contacts with e-mails,
comments both ways, a reject) and `opportunity_to_epic`; edits on both sides of the cases, a dry run,
a second incremental run, then the cases' reconciliation DAG with its report, which finds the
contact whose e-mail changed behind the sync's back. A pass that fails is reported (REPORT_FILE
"failed") and the next one still runs: what a failed run left is scanned all the same. The e-mails it created and the credentials its connections
held (including the generated PII key) are written to REPORT_FILE (outside the scanned folders) for the
scan to look for.
"""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Any

from emulators.common.process import EmulatorProcess
from sfjira.emulator_env import environment
from tests.e2e.world import copy_shipped_mappings, make_opportunities
from tests.e2e_reconcile.recon import Recon

SCENARIO_ENV = "SFJIRA_SCAN_SCENARIO"
# Connection fields whose values are credentials: the sync's copies of what the emulators accept, and the PII key.
SECRET_FIELD = re.compile(r"secret|password|token|private|fernet|key", re.IGNORECASE)
PEOPLE = [("Ada", "Lovelace"), ("Grace", "Hopper"), ("Linus", "Torvalds")]


def _fresh(emulator: EmulatorProcess) -> None:
    emulator.clear_faults()
    emulator.set_latency(0)
    emulator.reset()
    emulator.clear_calls()


def connection_secrets(env: dict[str, str]) -> list[dict[str, str]]:
    """The credentials in AIRFLOW_CONN_* values, as {"kind", "value"} (a list value gives one each)."""
    found = []
    for name, raw in env.items():
        if not name.startswith("AIRFLOW_CONN_"):
            continue
        conn = json.loads(raw)
        fields = [("password", conn.get("password")), *(conn.get("extra") or {}).items()]
        for kind, value in fields:
            items = value if isinstance(value, list) else [value]
            found += [{"kind": f"{name} {kind}", "value": item} for item in items
                      if SECRET_FIELD.search(kind) and isinstance(item, str) and item]
    return found


def open_world(sf: EmulatorProcess, jira: EmulatorProcess, folder: Path, state: dict[str, Any]) -> Recon:
    _fresh(sf)
    _fresh(jira)
    env = environment(sf.url, jira.url, sf.ca_bundle, state=state)
    env.update({"SFJIRA_STORAGE": f"file://{folder / 'runs'}", "SFJIRA_TASK_RETRIES": "0",
                "SFJIRA_RETRY_DELAY_S": "0.1", "SFJIRA_MAPPINGS_DIR": str(copy_shipped_mappings(folder / "mappings"))})
    os.environ.update(env)
    return Recon(sf, jira, folder / "mappings", folder / "runs")


def _adf(text: str) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}


def pass_emails(tag: str) -> list[str]:
    """The contacts' e-mail addresses of a pass, and last the one the first contact moves to."""
    return [*(f"{first}.{last}.{tag}@Example.org" for first, last in PEOPLE), f"ada.moved.{tag}@Example.org"]


def one_pass(world: Recon, tag: str) -> None:
    """Runs every DAG the scan covers."""
    sf = world.sf
    account = sf.create("Account", Name=f"Scan {tag}", Industry="Manufacturing")
    *emails, moved = pass_emails(tag)
    contacts = [sf.create("Contact", FirstName=first, LastName=last, Email=email, AccountId=account)
                for (first, last), email in zip(PEOPLE, emails, strict=True)]
    cases = sf.create_many("Case", [
        {"Subject": f"Case {i}: printer on fire", "Description": f"Case {i}\nsecond line", "Priority": "Medium",
         "Status": "New", "Origin": "Web", "AccountId": account, "ContactId": contacts[i % len(contacts)]}
        for i in range(5)])
    sf.create("CaseComment", ParentId=cases[0], CommentBody="Customer sent logs", IsPublished=True)
    make_opportunities(sf, 4)
    world.run("case_to_bug")
    world.run("opportunity_to_epic")

    keys = {r["Id"]: r["Jira_Key__c"] for r in sf.query("SELECT Id, Jira_Key__c FROM Case")}
    # The PII went all the way through the sync (a scan of runs that never carried it would prove nothing).
    carried = world.issue(keys[cases[0]])["fields"]["customfield_10054"]
    assert carried == emails[0].lower(), f"Contact.Email did not reach Jira: {carried!r}"
    sf.update("Case", cases[1], Subject="Printer replaced")
    sf.update("Contact", contacts[0], Email=moved)  # only the parent changes: drift for the reconciliation
    world.jira.ok("PUT", f"/issue/{keys[cases[2]]}", json={"fields": {"summary": "Edited in Jira"}})
    world.jira.ok("POST", f"/issue/{keys[cases[2]]}/comment", json={"body": _adf("Root cause found")})
    world.transition(keys[cases[3]], "In Review")
    # Longer than Case.Description's 32,000 characters: the mapping rejects that record on its way back.
    world.jira.ok("PUT", f"/issue/{keys[cases[4]]}", json={"fields": {"description": _adf("x" * 32_100)}})
    world.run("case_to_bug", dry_run=True)
    world.run("case_to_bug")
    assert not world.store.rejects("case_to_bug").empty, "the over-long description was not rejected"
    drift = world.reconcile("case_to_bug")
    assert len(drift.rows), "the reconciliation found no drift, so its report held no values to scan"


def main() -> None:
    from airflow.utils import db

    db.upgradedb()  # `airflow db migrate` for the fresh AIRFLOW_HOME, without another interpreter start
    report = Path(sys.argv[1])
    scenario = json.loads(os.environ.pop(SCENARIO_ENV))
    sf, jira = (EmulatorProcess.attach(f"emulators.{name}", scenario[name]["url"], scenario[name]["ca_bundle"],
                                       scenario[name]["admin_token"]) for name in ("salesforce", "jira"))
    emails: list[str] = []
    secrets: list[dict[str, str]] = []
    failed: dict[str, str] = {}
    for step in scenario["passes"]:
        world = open_world(sf, jira, Path(step["folder"]), step["state"])
        secrets += connection_secrets(dict(os.environ))
        try:
            one_pass(world, step["name"])
        except Exception:  # noqa: BLE001 - the next pass still runs; what this one left is still scanned
            failed[step["name"]] = traceback.format_exc()
            traceback.print_exc()
        finally:
            if "store" in world.__dict__:
                world.store.close()
        # What the pass meant to create, and what Salesforce holds (the integration user has no Contact).
        emails += pass_emails(step["name"])
        emails += [r["Email"] for r in world.sf.query("SELECT Email FROM Contact", deleted=True) if r["Email"]]
    report.write_text(json.dumps({"emails": sorted(set(emails)), "connection_secrets": secrets, "failed": failed}))

if __name__ == "__main__":
    main()
