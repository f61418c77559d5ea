"""Must-show 1 and 2: a first run makes exactly one issue per matching record and links both ways;
running the same interval again writes nothing on either side."""

from __future__ import annotations

import pytest

from tests.e2e.world import CASE_STATUS_TO_JIRA, SQLITE_STATE_ONLY, World, make_cases, make_opportunities

pytestmark = [SQLITE_STATE_ONLY]

WEB_ONLY = ("  jira_key_field: Jira_Key__c\n", "  where: \"Origin = 'Web'\"\n  jira_key_field: Jira_Key__c\n")


def _by_sfid(issues: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for issue in issues:
        sfid = issue["fields"]["customfield_10050"]
        assert sfid not in out, f"two issues carry {sfid}: {out.get(sfid, {}).get('key')} and {issue['key']}"
        out[sfid] = issue
    return out


def test_cases_first_run_links_both_ways_and_rerun_writes_nothing(world: World) -> None:
    world.variant("case_to_bug", "web_cases", [WEB_ONLY])
    web = make_cases(world.sf, 6, origin="Web")
    phone = make_cases(world.sf, 2, origin="Phone", prefix="Phone case")
    world.sf.create("CaseComment", ParentId=web[0], CommentBody="Customer called twice", IsPublished=True)

    world.clear_calls()
    first = world.run("web_cases")

    assert world.xcom(first, "report")["api_calls"]["used"] == {
        "salesforce": world.sf_emulator.calls()["total"], "jira": world.jira_emulator.calls()["total"]}
    # The stored summary keeps every count, the token endpoint's too (the scrubber masks text, not numbers).
    stored = first.summary["summary"]["api_calls"]
    assert stored == world.xcom(first, "report")["api_calls"] and stored["salesforce"]["POST /services/oauth2/token"] >= 1
    issues = _by_sfid(world.issues("project = SUP", "summary,status,priority,customfield_10050,comment"))
    assert set(issues) == set(web), "exactly one SUP issue per Web case, none for the Phone cases"
    cases = {r["Id"]: r for r in world.sf.query(
        "SELECT Id, Subject, Status, Priority, Jira_Key__c, Jira_Url__c FROM Case")}
    links = world.store.links("web_cases")
    assert dict(zip(links["sf_id"], links["jira_key"], strict=True)) == {i: issues[i]["key"] for i in web}
    assert set(links["state"]) == {"active"}
    for sf_id in web:
        issue, case = issues[sf_id], cases[sf_id]
        assert case["Jira_Key__c"] == issue["key"]
        assert case["Jira_Url__c"] == f"{world.jira_emulator.url}/browse/{issue['key']}"
        assert issue["properties"]["sfjira"] == {"sfid": sf_id, "mapping": "web_cases"}
        assert issue["fields"]["summary"] == case["Subject"]
        assert issue["fields"]["priority"]["name"] == case["Priority"]
        assert issue["fields"]["status"]["name"] == CASE_STATUS_TO_JIRA[case["Status"]]
    assert all(cases[i]["Jira_Key__c"] is None for i in phone)
    copied = issues[web[0]]["fields"]["comment"]["comments"]
    assert len(copied) == 1 and "Customer called twice" in str(copied[0]["body"])

    world.clear_calls()
    again = world.run("web_cases")
    assert world.writes() == {"salesforce": {}, "jira": {}}
    assert again.summary["status"] == "success"
    assert len(world.issues("project = SUP")) == 6


def test_opportunities_first_run_reports_epic_status_and_rerun_writes_nothing(world: World) -> None:
    opps = make_opportunities(world.sf, 7)

    world.clear_calls()
    first = world.run("opportunity_to_epic")

    # The report counts every API call the run made, as the emulators saw them.
    assert world.xcom(first, "report")["api_calls"]["used"] == {
        "salesforce": world.sf_emulator.calls()["total"], "jira": world.jira_emulator.calls()["total"]}
    epics = _by_sfid(world.issues("project = DEL", "summary,status,customfield_10050,customfield_10055"))
    assert set(epics) == set(opps)
    records = {r["Id"]: r for r in world.sf.query(
        "SELECT Id, Name, StageName, Jira_Key__c, Jira_Status__c FROM Opportunity")}
    for sf_id in opps:
        epic, opp = epics[sf_id], records[sf_id]
        assert opp["Jira_Key__c"] == epic["key"]
        assert epic["fields"]["customfield_10055"]["value"] == opp["StageName"]
        assert epic["properties"]["sfjira"]["sfid"] == sf_id
        # The first run also reports the new epic's workflow status back.
        assert opp["Jira_Status__c"] == "To Do"

    world.clear_calls()
    world.run("opportunity_to_epic")
    assert world.writes() == {"salesforce": {}, "jira": {}}


def test_data_center_first_run_and_changes_both_ways(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.use_datacenter(monkeypatch)
    ids = make_cases(world.sf, 3, Status="New")
    world.sf.create("CaseComment", ParentId=ids[0], CommentBody="Logs attached", IsPublished=True)

    world.run("case_to_bug")

    issues = _by_sfid(world.issues("project = SUP", "summary,description,status,customfield_10050,comment"))
    assert set(issues) == set(ids)
    assert issues[ids[0]]["fields"]["description"] == "Line one of 0\nline two"  # v2: plain text
    assert issues[ids[0]]["fields"]["comment"]["comments"][0]["body"].endswith("\nLogs attached")
    keys = {r["Id"]: r["Jira_Key__c"] for r in world.sf.query("SELECT Id, Jira_Key__c FROM Case")}
    assert keys == {i: issues[i]["key"] for i in ids}

    world.sf.update("Case", ids[1], Description="Edited\n\nin Salesforce")
    world.transition(keys[ids[2]], "Done")
    world.run("case_to_bug")
    assert world.jira.issue(keys[ids[1]], fields="description")["fields"]["description"] == "Edited\n\nin Salesforce"
    assert world.sf.get("Case", ids[2])["Status"] == "Closed"

    world.clear_calls()
    world.run("case_to_bug")
    assert world.writes() == {"salesforce": {}, "jira": {}}
