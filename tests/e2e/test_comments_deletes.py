"""Must-show 6 and 7: comments are copied both ways exactly once; deletes follow each side's policy
(include/mappings/*.yaml `deletes`)."""

from __future__ import annotations

from tests.e2e.world import (
    SQLITE_STATE_ONLY,
    World,
    case_comment_texts,
    jira_comment_texts,
    make_cases,
    make_opportunities,
)

pytestmark = [SQLITE_STATE_ONLY]


def _key(world: World, sobject: str, record_id: str) -> str:
    return str(world.sf.get(sobject, record_id)["Jira_Key__c"])


def test_comments_sync_both_ways_once(world: World) -> None:
    first, second = make_cases(world.sf, 2, Status="Working")
    world.run("case_to_bug")
    first_key, second_key = _key(world, "Case", first), _key(world, "Case", second)

    world.sf.create("CaseComment", ParentId=first, CommentBody="Customer sent logs", IsPublished=True)
    world.jira.ok("POST", f"/issue/{second_key}/comment", json={"body": {
        "type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "Root cause found"}]}]}})
    world.run("case_to_bug")

    in_jira = jira_comment_texts(world, first_key)
    assert len(in_jira) == 1
    assert in_jira[0].startswith("[sfjira] from Salesforce ") and in_jira[0].endswith("\nCustomer sent logs")
    in_sf = case_comment_texts(world, second)
    assert len(in_sf) == 1
    assert in_sf[0].startswith("[sfjira] from Jira ") and in_sf[0].endswith("\nRoot cause found")
    # Our own copies are not copied back.
    assert case_comment_texts(world, first) == ["Customer sent logs"]
    assert jira_comment_texts(world, second_key) == ["Root cause found"]
    links = world.store.comment_links("case_to_bug")
    assert sorted(links["origin"]) == ["jira", "salesforce"]

    world.clear_calls()
    world.run("case_to_bug")
    world.run("case_to_bug", full=True)
    assert world.writes() == {"salesforce": {}, "jira": {}}
    assert len(jira_comment_texts(world, first_key)) == 1 and len(case_comment_texts(world, second)) == 1


def test_salesforce_delete_moves_the_issue_to_done(world: World) -> None:
    gone, kept = make_cases(world.sf, 2, Status="New")
    world.run("case_to_bug")
    key = _key(world, "Case", gone)

    world.sf.delete("Case", gone)
    world.run("case_to_bug")

    assert world.issue(key)["fields"]["status"]["name"] == "Done"
    links = world.store.links("case_to_bug").set_index("sf_id")
    assert links.loc[gone, "state"] == "deleted_sf" and links.loc[kept, "state"] == "active"
    ledger = world.store.ledger(mapping="case_to_bug", sf_id=gone)
    assert "deleted in Salesforce: policy transition" in set(ledger["reason"])

    world.clear_calls()
    world.run("case_to_bug")
    assert world.writes() == {"salesforce": {}, "jira": {}}
    assert world.issue(key)["fields"]["status"]["name"] == "Done"


def test_jira_delete_flags_the_case_when_the_sync_next_touches_it(world: World) -> None:
    edited, moved, untouched = make_cases(world.sf, 3, Status="New")
    world.run("case_to_bug")
    keys = {i: _key(world, "Case", i) for i in (edited, moved, untouched)}
    for case_id in (edited, moved, untouched):
        world.jira.ok("DELETE", f"/issue/{keys[case_id]}")

    world.sf.update("Case", edited, Subject="Still broken")  # next sync writes the summary: 404
    world.sf.update("Case", moved, Status="Working")         # next sync walks the workflow: 404
    world.run("case_to_bug")

    for case_id in (edited, moved):
        case = world.sf.get("Case", case_id)
        assert case["Jira_Status__c"] == "Deleted in Jira"
        assert case["Jira_Key__c"] == keys[case_id]  # policy `flag` keeps the key for the record
    assert world.sf.get("Case", untouched)["Jira_Status__c"] is None  # not touched by this run
    states = world.store.links("case_to_bug").set_index("sf_id")["state"]
    assert states[edited] == states[moved] == "deleted_jira" and states[untouched] == "active"
    assert world.issues("project = SUP") == []  # nothing re-created
    assert world.store.rejects("case_to_bug").empty

    world.clear_calls()
    world.run("case_to_bug")
    assert world.writes() == {"salesforce": {}, "jira": {}}


def test_jira_delete_clears_the_key_and_the_next_run_creates_a_new_epic(world: World) -> None:
    (opp,) = make_opportunities(world.sf, 1)
    world.run("opportunity_to_epic")
    old_key = _key(world, "Opportunity", opp)
    world.jira.ok("DELETE", f"/issue/{old_key}")

    world.sf.update("Opportunity", opp, Amount=5000)
    world.run("opportunity_to_epic")
    assert world.sf.get("Opportunity", opp)["Jira_Key__c"] is None
    assert world.store.links("opportunity_to_epic").set_index("sf_id").loc[opp, "state"] == "deleted_jira"

    world.run("opportunity_to_epic")
    epics = world.issues("project = DEL")
    assert [e["fields"]["customfield_10050"] for e in epics] == [opp]
    new_key = epics[0]["key"]
    assert new_key != old_key and world.sf.get("Opportunity", opp)["Jira_Key__c"] == new_key
    link = world.store.links("opportunity_to_epic").set_index("sf_id").loc[opp]
    assert (link["state"], link["jira_key"]) == ("active", new_key)

    world.clear_calls()
    world.run("opportunity_to_epic")
    assert world.writes() == {"salesforce": {}, "jira": {}}
