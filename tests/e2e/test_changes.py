"""Must-show 3, 4 and 5: changes flow each way (values through the value maps, statuses through
workflow transitions), a run after both directions have synced writes nothing, and a field changed on
both sides is settled by its owner and written to the ledger."""

from __future__ import annotations

import time

from tests.e2e.world import SQLITE_STATE_ONLY, World, make_cases, make_opportunities

pytestmark = [SQLITE_STATE_ONLY]


def _keys(world: World, sobject: str, ids: list[str]) -> list[str]:
    rows = {r["Id"]: r["Jira_Key__c"] for r in world.sf.query(f"SELECT Id, Jira_Key__c FROM {sobject}")}
    return [rows[i] for i in ids]


def _case(world: World, case_id: str) -> dict:
    return world.sf.get("Case", case_id)


def test_case_changes_flow_both_ways_then_nothing_to_do(world: World) -> None:
    ids = make_cases(world.sf, 4, Status="New", Priority="Medium")
    world.run("case_to_bug")
    keys = _keys(world, "Case", ids)

    world.sf.update("Case", ids[0], Subject="Printer on fire, now smoking", Description="Para one\n\nPara two")
    world.sf.update("Case", ids[1], Status="Closed")
    world.transition(keys[2], "In Review")
    world.jira.ok("PUT", f"/issue/{keys[3]}", json={"fields": {"priority": {"name": "Highest"}}})
    world.run("case_to_bug")

    edited = world.issue(keys[0])["fields"]
    assert edited["summary"] == "Printer on fire, now smoking"
    assert world.jira.issue(keys[0], fields="description")["fields"]["description"]["content"][1]["content"][0][
        "text"] == "Para two"
    # Salesforce Closed -> Jira Done, walking the workflow from To Do.
    assert world.issue(keys[1])["fields"]["status"]["name"] == "Done"
    walk = world.store.ledger(mapping="case_to_bug", sf_id=ids[1])
    walk = walk[walk["action"] == "transition"]
    assert walk["reason"].iloc[-1] == "Start Progress -> Submit for Review -> Done"
    # Jira In Review -> Salesforce Escalated (status value map); Highest -> High (reverse map).
    assert _case(world, ids[2])["Status"] == "Escalated"
    assert _case(world, ids[3])["Priority"] == "High"
    assert world.issue(keys[3])["fields"]["priority"]["name"] == "Highest"  # Jira keeps its own level

    world.clear_calls()
    world.run("case_to_bug")
    assert world.writes() == {"salesforce": {}, "jira": {}}


def test_opportunity_changes_reach_jira_and_epic_status_reaches_salesforce(world: World) -> None:
    ids = make_opportunities(world.sf, 3)
    world.run("opportunity_to_epic")
    keys = _keys(world, "Opportunity", ids)

    world.transition(keys[0], "In Progress")
    world.sf.update("Opportunity", ids[1], Amount=98765.43, StageName="Closed Won")
    world.run("opportunity_to_epic")

    assert world.sf.get("Opportunity", ids[0])["Jira_Status__c"] == "In Progress"
    epic = world.jira.issue(keys[1], fields="customfield_10052,customfield_10055")["fields"]
    assert epic["customfield_10052"] == 98765.43
    assert epic["customfield_10055"]["value"] == "Closed Won"
    assert world.sf.get("Opportunity", ids[2])["Jira_Status__c"] == "To Do"

    world.clear_calls()
    world.run("opportunity_to_epic")
    assert world.writes() == {"salesforce": {}, "jira": {}}


def test_field_changed_on_both_sides_is_settled_by_its_owner_and_ledgered(world: World) -> None:
    ids = make_cases(world.sf, 3, Status="New", Priority="Medium")
    world.run("case_to_bug")
    keys = _keys(world, "Case", ids)

    # Priority is owned by Jira: Jira's value wins whatever the order of the edits.
    world.jira.ok("PUT", f"/issue/{keys[0]}", json={"fields": {"priority": {"name": "High"}}})
    world.sf.update("Case", ids[0], Priority="Low")
    # Subject is owned by `latest`: the later edit wins, Salesforce's on one record, Jira's on the other.
    world.jira.ok("PUT", f"/issue/{keys[1]}", json={"fields": {"summary": "Jira wrote first"}})
    time.sleep(0.05)
    world.sf.update("Case", ids[1], Subject="Salesforce wrote last")
    world.sf.update("Case", ids[2], Subject="Salesforce wrote first")
    time.sleep(0.05)
    world.jira.ok("PUT", f"/issue/{keys[2]}", json={"fields": {"summary": "Jira wrote last"}})
    world.run("case_to_bug")

    assert _case(world, ids[0])["Priority"] == "High"
    assert world.issue(keys[0])["fields"]["priority"]["name"] == "High"
    assert world.issue(keys[1])["fields"]["summary"] == "Salesforce wrote last"
    assert _case(world, ids[1])["Subject"] == "Salesforce wrote last"
    assert _case(world, ids[2])["Subject"] == "Jira wrote last"
    assert world.issue(keys[2])["fields"]["summary"] == "Jira wrote last"

    ledger = world.store.ledger(mapping="case_to_bug")
    conflicts = ledger[ledger["action"] == "conflict"].set_index("sf_id")
    assert sorted(conflicts.index) == sorted(ids)
    row = conflicts.loc[ids[0]]
    assert (row["field"], row["side"], row["before"], row["after"]) == ("Priority", "salesforce", "Low", "High")
    assert "owner jira" in row["reason"] and row["jira_key"] == keys[0]
    assert (conflicts.loc[ids[1], "side"], conflicts.loc[ids[1], "after"]) == ("jira", "Salesforce wrote last")
    assert (conflicts.loc[ids[2], "side"], conflicts.loc[ids[2], "after"]) == ("salesforce", "Jira wrote last")
    assert conflicts.loc[ids[2], "before"] == "Salesforce wrote first"
    assert all("owner latest" in conflicts.loc[i, "reason"] for i in ids[1:])

    world.clear_calls()
    world.run("case_to_bug")
    assert world.writes() == {"salesforce": {}, "jira": {}}


def test_rerunning_the_same_airflow_run_applies_new_changes(world: World) -> None:
    # Clearing a DAG run (or a backfill reprocessing it) runs every task again under the same run id:
    # the new plan's chunks must be written, not mistaken for the first attempt's completed ones.
    ids = make_cases(world.sf, 2, Status="New")
    first = world.run("case_to_bug")
    keys = _keys(world, "Case", ids)
    world.transition(keys[0], "In Progress")
    (late,) = world.sf.create_many("Case", [{"Subject": "Arrived late", "Status": "New", "Priority": "Low"}])

    again = world.run("case_to_bug", run_after=first.dag_run.run_after)

    assert again.dag_run.run_id == first.dag_run.run_id
    assert _case(world, ids[0])["Status"] == "Working"
    assert _case(world, late)["Jira_Key__c"], "the record that arrived later got its issue"
    assert len(world.issues("project = SUP")) == 3
    assert again.summary["airflow_run_id"] == f"{first.dag_run.run_id}#2"
    assert again.summary["status"] == "success"
