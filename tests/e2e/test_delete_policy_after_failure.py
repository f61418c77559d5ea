"""A delete policy that could not be applied is applied by the next run, never dropped.

The link of a deleted record leaves "active" only once its policy's write succeeded. A run that fails
while applying it (Jira refuses every transition, or Salesforce every flag write) leaves the link active;
the cursor does not pass the failed run, so the next run reads the change again and applies the policy.
Found by the chaos suite: the link used to be marked first, so a failed walk to Done was never retried.
"""

from __future__ import annotations

from tests.e2e.world import SQLITE_STATE_ONLY, World, make_cases

pytestmark = [SQLITE_STATE_ONLY]


def _key(world: World, case_id: str) -> str:
    return str(world.sf.get("Case", case_id)["Jira_Key__c"])


def test_a_salesforce_delete_whose_transition_failed_is_applied_by_the_next_run(world: World) -> None:
    gone, kept = make_cases(world.sf, 2, Status="New")
    world.run("case_to_bug")
    key = _key(world, gone)

    world.sf.delete("Case", gone)
    world.jira_emulator.set_faults([{"fault": "500", "path": "/transitions$", "method": "POST"}])
    world.run("case_to_bug", expect="failed")
    assert world.issue(key)["fields"]["status"]["name"] != "Done"
    assert world.store.links("case_to_bug").set_index("sf_id").loc[gone, "state"] == "active"

    world.jira_emulator.set_faults([])
    world.run("case_to_bug")
    assert world.issue(key)["fields"]["status"]["name"] == "Done"
    links = world.store.links("case_to_bug").set_index("sf_id")
    assert links.loc[gone, "state"] == "deleted_sf" and links.loc[kept, "state"] == "active"
    assert world.store.pending_intents("case_to_bug").empty


def test_a_jira_delete_whose_flag_write_failed_is_flagged_by_the_next_run(world: World) -> None:
    (edited,) = make_cases(world.sf, 1, Status="New")
    world.run("case_to_bug")
    world.jira.ok("DELETE", f"/issue/{_key(world, edited)}")

    world.sf.update("Case", edited, Subject="Still broken")  # the next sync writes the summary: 404
    world.sf_emulator.set_faults([{"fault": "500", "path": "/composite/sobjects", "method": "PATCH"}])
    world.run("case_to_bug", expect="failed")
    assert world.sf.get("Case", edited)["Jira_Status__c"] is None
    assert world.store.links("case_to_bug").set_index("sf_id").loc[edited, "state"] == "active"

    world.sf_emulator.set_faults([])
    world.run("case_to_bug")
    assert world.sf.get("Case", edited)["Jira_Status__c"] == "Deleted in Jira"
    assert world.store.links("case_to_bug").set_index("sf_id").loc[edited, "state"] == "deleted_jira"
    assert world.issues("project = SUP") == []  # nothing re-created
