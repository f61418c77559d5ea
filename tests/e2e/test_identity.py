"""Identity integrity (issue 9, must-show 1): a key or id someone typed into a Salesforce or Jira field
never makes the sync write anywhere. Each claim below is refused: no issue and no record changes (read
back through both REST APIs, and the emulators' write counters stay at zero), the record is a reject
with its own code in the state store, and the reconciliation lists it with the reason -- never as drift
to heal, even with auto_heal on."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tests.e2e.world import World, account_and_contact, make_cases, make_opportunities
from tests.e2e_reconcile.recon import Recon, ReconRun

MAPPING = "case_to_bug"
JIRA_FIELDS = "summary,status,priority,description,customfield_10050,labels,issuetype,comment,updated"
CASE_FIELDS = "Id, Subject, Status, Priority, Description, Jira_Key__c, Jira_Url__c, Jira_Status__c, SystemModstamp"
OPP_FIELDS = "Id, Name, StageName, Jira_Key__c, Jira_Url__c, Jira_Status__c, SystemModstamp"


def _both_sides(world: World) -> dict[str, Any]:
    """Everything either system holds that the sync could touch, as a user reads it."""
    issues = {i["key"]: i for i in world.issues("project in (SUP, DEL) ORDER BY key", JIRA_FIELDS)}
    return {"issues": issues,
            "cases": {r["Id"]: r for r in world.sf.query(f"SELECT {CASE_FIELDS} FROM Case")},
            "opportunities": {r["Id"]: r for r in world.sf.query(f"SELECT {OPP_FIELDS} FROM Opportunity")}}


def _case(world: World, subject: str, **fields: Any) -> str:
    account, contact = account_and_contact(world.sf)
    return world.sf.create("Case", Subject=subject, Priority="High", Status="Working", Origin="Web",
                           AccountId=account, ContactId=contact, **fields)


def _epics(world: World) -> list[str]:
    """Two DEL epics made by the other mapping's own sync."""
    make_opportunities(world.sf, 2)
    world.run("opportunity_to_epic")
    return sorted(r["Jira_Key__c"] for r in world.sf.query("SELECT Jira_Key__c FROM Opportunity"))


def _rejects(world: World) -> pd.DataFrame:
    return world.store.rejects(MAPPING).set_index("record_id")


def _reconcile(world: World) -> ReconRun:
    """The reconciliation DAG, with auto_heal on: whatever it lists as healable it would write."""
    recon = Recon(world.sf_emulator, world.jira_emulator, world.mappings_dir, world.storage_dir)
    recon.__dict__["store"] = world.store  # one store for both (the fixture closes it)
    return recon.reconcile(MAPPING, auto_heal=True)


def _refused_rows(run: ReconRun) -> dict[tuple[Any, Any], dict[str, Any]]:
    rows = run.rows
    assert set(rows["category"]) == {"identity_refused"}, rows[["category", "sf_id", "jira_key", "detail"]]
    return {(r["sf_id"], r["jira_key"]): r for r in rows.to_dict("records")}


def _refused_untouched(world: World, before: dict[str, Any]) -> None:
    assert world.writes() == {"salesforce": {}, "jira": {}}
    assert _both_sides(world) == before


def test_keys_of_another_project_and_a_traversal_key_are_refused(world: World) -> None:
    epic_1, epic_2 = _epics(world)
    other = _case(world, "Wants the epic", Jira_Key__c=epic_1)
    traversal = _case(world, "Walks the path", Jira_Key__c=f"SUP-1/../{epic_2}")
    before = _both_sides(world)
    world.clear_calls()

    dry = world.run(MAPPING, dry_run=True)

    diff = (dry.folder / "plan_diff.md").read_text()
    assert "## Rejected (2)" in diff and "IDENTITY_KEY_OTHER_PROJECT" in diff and "IDENTITY_KEY_MALFORMED" in diff
    run = world.run(MAPPING)

    _refused_untouched(world, before)
    # Both were settled without asking Jira anything about the keys: no GET of an issue at all.
    assert not [e for e in world.jira_emulator.calls()["by_endpoint"] if e.startswith("GET") and "/issue/" in e]
    assert run.summary["status"] == "partial" and world.store.links(MAPPING).empty
    rejects = _rejects(world)
    assert rejects.loc[other, "code"] == "IDENTITY_KEY_OTHER_PROJECT"
    assert f"Jira_Key__c holds '{epic_1}', an issue of project DEL" in rejects.loc[other, "message"]
    assert rejects.loc[traversal, "code"] == "IDENTITY_KEY_MALFORMED"
    assert "not a Jira issue key" in rejects.loc[traversal, "message"]
    for record in (other, traversal):
        assert rejects.loc[record, "side"] == "salesforce" and rejects.loc[record, "field"] == "Jira_Key__c"
        assert rejects.loc[record, "fix"].startswith("clear Jira_Key__c on the record")
        assert rejects.loc[record, "fix"] != rejects.loc[record, "message"]

    world.clear_calls()
    refused = _refused_rows(_reconcile(world))
    _refused_untouched(world, before)
    assert set(refused) == {(other, epic_1), (traversal, f"SUP-1/../{epic_2}")}
    assert refused[(other, epic_1)]["detail"].startswith("IDENTITY_KEY_OTHER_PROJECT: ")
    assert refused[(traversal, f"SUP-1/../{epic_2}")]["detail"].startswith("IDENTITY_KEY_MALFORMED: ")
    assert {r["auto_heal"] for r in refused.values()} == {"none"}


def test_a_key_of_another_issue_type_is_refused_and_the_rest_of_the_run_lands(world: World) -> None:
    task = world.jira.create("SUP", "Task", "A task, not a bug")["key"]
    claimed = _case(world, "Claims the task", Jira_Key__c=task)
    (fine,) = make_cases(world.sf, 1, Status="New")
    before = _both_sides(world)
    world.clear_calls()

    run = world.run(MAPPING)
    totals = {"salesforce": world.sf_emulator.calls()["total"], "jira": world.jira_emulator.calls()["total"]}

    after = _both_sides(world)
    assert after["issues"][task] == before["issues"][task]
    assert after["cases"][claimed] == before["cases"][claimed]
    new_key = after["cases"][fine]["Jira_Key__c"]  # the other case of the same run was created and linked
    assert new_key and after["issues"][new_key]["fields"]["customfield_10050"] == fine
    assert dict(zip(world.store.links(MAPPING)["sf_id"], world.store.links(MAPPING)["jira_key"],
                    strict=True)) == {fine: new_key}
    rejects = _rejects(world)
    assert list(rejects.index) == [claimed]
    assert rejects.loc[claimed, "code"] == "IDENTITY_KEY_OTHER_ISSUE_TYPE"
    assert "an issue of type Task" in rejects.loc[claimed, "message"]
    # One look-up for the key in doubt, counted in the report and in its protocol minimum.
    assert world.xcom(run, "plan")["identity_lookups"] == {"jira": 1, "salesforce": 0}
    assert world.xcom(run, "plan")["lookup_calls"]["jira"] == {"GET /rest/api/3/issue/{key}": 1}
    assert world.xcom(run, "report")["api_calls"]["used"] == totals

    before = _both_sides(world)
    world.clear_calls()
    refused = _refused_rows(_reconcile(world))
    _refused_untouched(world, before)
    assert set(refused) == {(claimed, task)}
    assert refused[(claimed, task)]["detail"].startswith("IDENTITY_KEY_OTHER_ISSUE_TYPE: ")
    assert refused[(claimed, task)]["auto_heal"] == "none"


def test_a_key_linked_to_another_record_is_refused(world: World) -> None:
    (gone,) = make_cases(world.sf, 1, Status="New")
    world.run(MAPPING)
    key = world.sf.get("Case", gone)["Jira_Key__c"]
    world.sf.delete("Case", gone)
    world.run(MAPPING)  # the delete policy moves the issue to Done; the link stays, settled
    assert world.issue(key)["fields"]["status"]["name"] == "Done"
    claimer = _case(world, "Reuses a key", Jira_Key__c=key)
    before = _both_sides(world)
    world.clear_calls()

    world.run(MAPPING)

    _refused_untouched(world, before)
    rejects = _rejects(world)
    assert rejects.loc[claimer, "code"] == "IDENTITY_KEY_LINKED_ELSEWHERE"
    assert f"the issue of Salesforce record {gone}" in rejects.loc[claimer, "message"]
    links = world.store.links(MAPPING)
    assert list(links["sf_id"]) == [gone] and list(links["state"]) == ["deleted_sf"]

    world.clear_calls()
    refused = _refused_rows(_reconcile(world))
    _refused_untouched(world, before)
    assert set(refused) == {(claimer, key)}
    assert refused[(claimer, key)]["detail"].startswith("IDENTITY_KEY_LINKED_ELSEWHERE: ")


def test_an_id_of_another_object_on_an_issue_is_refused(world: World) -> None:
    account, _ = account_and_contact(world.sf, "Typed into Jira")
    issue = world.jira.create("SUP", "Bug", "Filed by hand", customfield_10050=account)["key"]
    before = _both_sides(world)
    world.clear_calls()

    run = world.run(MAPPING)
    used = world.sf_emulator.calls()["total"]

    _refused_untouched(world, before)
    assert world.sf.get("Account", account)["Name"] == "Typed into Jira"
    assert world.store.links(MAPPING).empty
    rejects = _rejects(world)
    assert list(rejects.index) == [issue]
    refused = rejects.loc[issue]
    assert (refused["side"], refused["code"], refused["field"]) == ("jira", "IDENTITY_SFID_OTHER_OBJECT",
                                                                    "customfield_10050")
    assert f"the id of a record that is not a Case (key prefix {account[:3]}, Case is 500)" in refused["message"]
    # The object's key prefix came from one describe, counted in the report's minimum.
    calls = world.xcom(run, "report")["api_calls"]
    assert calls["salesforce"]["GET /services/data/v62.0/sobjects/Case/describe"] == 1
    # The extract's token and budget read (/limits), the window's COUNT() and its query, the comment query,
    # the describe.
    assert calls["minimum"]["salesforce"] == 6
    assert calls["used"]["salesforce"] == used

    world.clear_calls()
    found = _refused_rows(_reconcile(world))
    _refused_untouched(world, before)
    assert set(found) == {(account, issue)}
    assert found[(account, issue)]["detail"].startswith("IDENTITY_SFID_OTHER_OBJECT: ")
    assert found[(account, issue)]["auto_heal"] == "none"
