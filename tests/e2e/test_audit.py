"""Issue 12, must show 1 and 2 (before-images, an audit trail you can query), through real sync DAG runs
against the emulators: fields edited on both sides are synced, and the audit shows for each written
field the value the target held before (as read over REST before the edit) and the value written; a
conflict names the side that won and the owner rule; the PII before-image is sealed in the ledger
table and masked by `sfjira audit`, shown with --reveal; a run with nothing to do reads nothing more."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import sqlalchemy as sa

from sfjira.cli import main
from sfjira.pii import cipher_from_airflow, is_sealed
from sfjira.state import audit as trail
from tests.e2e.world import World, make_cases

MAPPING = "case_to_bug"
OLD_EMAIL, NEW_EMAIL = "ada.audit-probe@example.org", "grace.audit-probe@example.org"


def _keys(world: World, ids: list[str]) -> list[str]:
    return [world.sf.get("Case", i)["Jira_Key__c"] for i in ids]


def _one(rows: Any, **where: Any) -> Any:
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, f"{where}: {len(rows)} rows"
    return rows.iloc[0]


def test_audit_shows_before_and_after_of_every_written_field(world: World,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    ids = make_cases(world.sf, 4, Status="New", Priority="Medium")
    contact = world.sf.create("Contact", FirstName="Ada", LastName="Probe", Email=OLD_EMAIL)
    world.sf.update("Case", ids[2], ContactId=contact)
    world.run(MAPPING)
    keys = _keys(world, ids)

    # What each target holds before the edits, read over REST.
    jira_summary_0 = world.issue(keys[0])["fields"]["summary"]
    sf_priority_1 = world.sf.get("Case", ids[1])["Priority"]
    jira_email_2 = world.jira.issue(keys[2], fields="customfield_10054")["fields"]["customfield_10054"]
    sf_subject_3 = world.sf.get("Case", ids[3])["Subject"]
    assert jira_email_2 == OLD_EMAIL

    world.sf.update("Case", ids[0], Subject="Audit: Salesforce edit")                        # -> Jira summary
    world.jira.ok("PUT", f"/issue/{keys[1]}", json={"fields": {"priority": {"name": "Highest"}}})  # -> SF
    other = world.sf.create("Contact", FirstName="Grace", LastName="Probe", Email=NEW_EMAIL)
    world.sf.update("Case", ids[2], ContactId=other)                                          # PII -> Jira
    world.sf.update("Case", ids[3], Subject="Salesforce wrote first")                          # conflict,
    time.sleep(0.05)
    world.jira.ok("PUT", f"/issue/{keys[3]}", json={"fields": {"summary": "Jira wrote last"}})  # Jira wins
    edited = world.run(MAPPING)
    run_id = edited.dag_run.run_id

    rows = trail.audit(world.store, mapping=MAPPING, run=run_id)
    assert set(rows["airflow_run_id"].str.split("#").str[0]) == {run_id}
    summary = _one(rows, sf_id=ids[0], field="summary", action="update")
    assert (summary["before"], summary["after"]) == (jira_summary_0, "Audit: Salesforce edit")
    assert (summary["side"], summary["direction"], summary["cause"]) == ("jira", "sf_to_jira", "change")
    priority = _one(rows, sf_id=ids[1], field="Priority", action="update")
    assert (priority["before"], priority["after"]) == (sf_priority_1, "High")
    assert (priority["side"], priority["direction"]) == ("salesforce", "jira_to_sf")
    email = _one(rows, sf_id=ids[2], field="customfield_10054", action="update")
    assert (email["before"], email["after"]) == (trail.MASK, trail.MASK)  # PII: masked without the key
    opened = trail.audit(world.store, mapping=MAPPING, run=run_id, record=keys[2], field="customfield_10054",
                         cipher=cipher_from_airflow())
    assert (opened["before"].iloc[0], opened["after"].iloc[0]) == (OLD_EMAIL, NEW_EMAIL)

    # The conflict: the decision and the write it caused, both naming Jira as the winner.
    conflict = _one(rows, sf_id=ids[3], action="conflict")
    # Salesforce's own edit is the value the winner replaced (its value before that edit was another).
    assert (conflict["winner"], conflict["before"], conflict["after"]) == ("jira", "Salesforce wrote first",
                                                                           "Jira wrote last")
    assert sf_subject_3 != "Salesforce wrote first"
    assert "owner latest" in conflict["reason"]
    write = _one(rows, sf_id=ids[3], action="update", field="Subject")
    assert (write["cause"], write["winner"], write["before"], write["after"]) == (
        "conflict", "jira", "Salesforce wrote first", "Jira wrote last")
    assert "owner latest" in write["reason"]

    # The PII before-image is sealed in the table itself.
    with world.store.engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT before, after FROM sfjira_ledger WHERE field = 'customfield_10054' "
                                   "AND action = 'update'")).all()
    assert raw and OLD_EMAIL not in repr(raw) and NEW_EMAIL not in repr(raw)
    assert all(is_sealed(json.loads(v) if v.startswith('"') else v) for row in raw for v in row)

    # The CLI: masked by default, JSON and CSV, revealed with --reveal.
    capsys.readouterr()  # what the DAG runs printed
    assert main(["audit", "--mapping", MAPPING, "--record", keys[2], "--field", "customfield_10054",
                 "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [r["before"] for r in shown if r["run_id"].endswith(run_id)] == [trail.MASK]
    assert main(["audit", "--mapping", MAPPING, "--record", keys[2], "--field", "customfield_10054",
                 "--reveal", "--format", "csv"]) == 0
    assert OLD_EMAIL in capsys.readouterr().out
    assert main(["audit", "--mapping", MAPPING, "--run", run_id]) == 0
    table = capsys.readouterr().out
    assert "Salesforce wrote first" in table and OLD_EMAIL not in table

    # Nothing to do: no writes, no before-image reads, no ledger rows.
    world.clear_calls()
    quiet = world.run(MAPPING)
    assert world.writes() == {"salesforce": {}, "jira": {}}
    assert trail.audit(world.store, mapping=MAPPING, run=quiet.dag_run.run_id).empty
    # One by-id read for each side's one write chunk; none in the run with nothing to write.
    assert edited.summary["summary"]["api_calls"]["before_reads"] == {"salesforce": 1, "jira": 1}
    assert quiet.summary["summary"]["api_calls"]["before_reads"] == {"salesforce": 0, "jira": 0}
    # The edited run's Jira calls: exactly the protocol minimum, the before-image search counted in it.
    calls = edited.summary["summary"]["api_calls"]
    assert calls["used"]["jira"] == calls["minimum"]["jira"]
