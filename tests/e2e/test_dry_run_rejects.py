"""Must-show 10 and 11: a dry run writes nothing and leaves the plan (counts and a readable diff);
a record with a value one side refuses is rejected alone, with its code and message, while the rest
of its batch syncs."""

from __future__ import annotations

from tests.e2e.world import SQLITE_STATE_ONLY, STAGES, World, make_cases, make_opportunities

pytestmark = [SQLITE_STATE_ONLY]


def test_dry_run_writes_nothing_and_leaves_a_readable_plan(world: World) -> None:
    ids = make_cases(world.sf, 4, Status="Working", Priority="Low")
    world.clear_calls()

    dry = world.run("case_to_bug", dry_run=True)

    assert world.writes() == {"salesforce": {}, "jira": {}}
    assert world.issues("project = SUP") == [] and world.store.links("case_to_bug").empty
    assert world.xcom(dry, "plan")["counts"]["jira_create"] == 4
    report = world.xcom(dry, "report")
    assert report["dry_run"] is True and report["sf_to_jira"]["planned_creates"] == 4
    diff = (dry.folder / "plan_diff.md").read_text()
    assert diff.startswith("# Plan for `case_to_bug`\n")
    assert "| jira_create | 4 |" in diff and "| jira_update | 0 |" in diff
    assert "## Create in Jira (4)" in diff
    for i, case_id in enumerate(ids):
        line = next(x for x in diff.splitlines() if x.startswith(f"- {case_id} / (new): "))
        assert f'"summary": "Case {i}: printer on fire"' in line and line.endswith("-> status In Progress")
        assert '"priority": "Low"' in line  # canonical values: the Jira hook shapes {"name": ...} when it writes
        assert '"customfield_10054": "***"' in line  # Contact.Email is PII: masked in the diff
    assert "example.com" not in diff.lower()

    world.run("case_to_bug")
    keys = {r["Id"]: r["Jira_Key__c"] for r in world.sf.query("SELECT Id, Jira_Key__c FROM Case")}
    world.sf.update("Case", ids[0], Subject="Printer replaced")
    world.transition(keys[ids[1]], "In Review")
    world.clear_calls()

    dry = world.run("case_to_bug", dry_run=True)

    assert world.writes() == {"salesforce": {}, "jira": {}}
    diff = (dry.folder / "plan_diff.md").read_text()
    assert "| jira_update | 1 |" in diff and "| sf_update | 1 |" in diff
    assert f'- {ids[0]} / {keys[ids[0]]}: {{"summary": "Printer replaced"}}' in diff.splitlines()
    assert f'- {ids[1]} / {keys[ids[1]]}: {{"Status": "Escalated"}}' in diff.splitlines()
    assert world.sf.get("Case", ids[1])["Status"] == "Working"  # still: it was a dry run
    world.run("case_to_bug")
    assert world.sf.get("Case", ids[1])["Status"] == "Escalated"


def test_a_refused_value_rejects_its_record_alone(world: World) -> None:
    # One stage the mapping does not map (the transform rejects it) and one mapped to a value the Jira
    # select field refuses (the bulk create rejects that element); the other eight sync.
    world.variant("opportunity_to_epic", "stage_check", [
        ("      Closed Lost: Closed Lost\n", ""),
        ("Perception Analysis: Perception Analysis", "Perception Analysis: Perception"),
    ])
    opps = dict(zip(STAGES, make_opportunities(world.sf, len(STAGES)), strict=True))

    run = world.run("stage_check")

    synced = {e["fields"]["customfield_10050"] for e in world.issues("project = DEL", "customfield_10050")}
    assert synced == {i for stage, i in opps.items() if stage not in ("Closed Lost", "Perception Analysis")}
    rejects = world.store.rejects("stage_check").set_index("record_id")
    assert sorted(rejects.index) == sorted([opps["Closed Lost"], opps["Perception Analysis"]])
    unmapped = rejects.loc[opps["Closed Lost"]]
    assert (unmapped["side"], unmapped["code"], unmapped["field"]) == ("salesforce", "VALUE_UNMAPPED", "StageName")
    assert unmapped["message"].startswith("Salesforce StageName has no entry in the value map of `StageName`")
    assert "stage_check.yaml" in unmapped["message"] and unmapped["payload"] == "Closed Lost"
    refused = rejects.loc[opps["Perception Analysis"]]
    assert (refused["side"], refused["code"], refused["field"]) == ("jira", "400", "customfield_10055")
    assert refused["message"] == "Option value 'Perception' is not valid"
    assert "mapping" in refused["fix"]
    assert run.summary["status"] == "partial"
    carried = {r["Id"]: r["Jira_Key__c"] for r in world.sf.query("SELECT Id, Jira_Key__c FROM Opportunity")}
    assert {i for i, key in carried.items() if key} == synced
