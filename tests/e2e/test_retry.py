"""Must-show 9: a load task fails after writing part of its chunks; the retry (an Airflow task retry, or
the next DAG run) leaves exactly one issue per record and every record linked.

60 opportunities make two bulk-create chunks (50 + 10). The Jira emulator faults the second
`POST /issue/bulk`: `lost_response` lets the create land and then resets the connection before the
answer (the ambiguous case: the hook must not resend blindly), `reset` drops the call before Jira
handles it (nothing landed). The task resolves both itself: it looks the chunk's records up and creates
only those not found (issue 11 point 8). When the look-ups fail too, the task fails transiently with the
chunk's intent pending, and the retry or the next run resolves it by the same look-up.
"""

from __future__ import annotations

import pytest

from tests.e2e.world import World, make_opportunities

RECORDS = 60  # > 50, Jira's bulk-create maximum: two chunks


def _assert_one_linked_epic_per_record(world: World, opps: list[str]) -> None:
    epics = world.issues("project = DEL", "customfield_10050")
    sfids = [e["fields"]["customfield_10050"] for e in epics]
    assert len(sfids) == len(set(sfids)) == RECORDS, "one epic per opportunity, no duplicate"
    assert set(sfids) == set(opps)
    key_of = {e["fields"]["customfield_10050"]: e["key"] for e in epics}
    links = world.store.links("opportunity_to_epic")
    assert dict(zip(links["sf_id"], links["jira_key"], strict=True)) == key_of
    carried = {r["Id"]: r["Jira_Key__c"] for r in world.sf.query("SELECT Id, Jira_Key__c FROM Opportunity")}
    assert carried == key_of, "every opportunity carries its epic's key"
    assert world.store.pending_intents("opportunity_to_epic").empty


# The look-ups of a faulted chunk: every search after the extract's one, outlasting the task's own tries
# (3 look-ups, each sent 4 times by the hook with the emulator connections' FAST_RETRY).
LOOKUPS_FAIL = {"fault": "500", "path": "/search/jql$", "method": "GET", "skip": 1, "times": 3 * 4}


@pytest.mark.parametrize("fault", ["lost_response", "reset"])
def test_a_chunk_that_failed_mid_load_is_resolved_inside_the_task(world: World, fault: str) -> None:
    opps = make_opportunities(world.sf, RECORDS)
    world.jira_emulator.set_faults([{"fault": fault, "path": "/issue/bulk$", "method": "POST", "skip": 1,
                                     "times": 1}])

    run = world.run("opportunity_to_epic")

    load = next(ti for ti in run.dag_run.get_task_instances() if ti.task_id == "load_jira")
    assert load.try_number == 1, "the ambiguous create was resolved without failing the task"
    assert world.jira_emulator.calls()["faults_fired"] == {fault: 1}
    chunk = world.store.intents("opportunity_to_epic", side="jira").set_index(["op", "chunk"]).loc[("create", 1)]
    if fault == "lost_response":  # landed: found by the look-up, not created again
        assert chunk["result"] == {"created": 0, "found_existing": 10, "rejected": 0}
        assert world.jira_emulator.calls()["by_endpoint"]["POST /rest/api/3/issue/bulk"] == 2
    else:  # never reached Jira: created by the retry
        assert chunk["result"] == {"created": 10, "found_existing": 0, "rejected": 0}
        assert world.jira_emulator.calls()["by_endpoint"]["POST /rest/api/3/issue/bulk"] == 3
    _assert_one_linked_epic_per_record(world, opps)

    world.clear_calls()
    world.run("opportunity_to_epic")
    assert world.writes() == {"salesforce": {}, "jira": {}}


def test_task_retry_after_a_chunk_stayed_ambiguous(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    opps = make_opportunities(world.sf, RECORDS)
    world.jira_emulator.set_faults([{"fault": "lost_response", "path": "/issue/bulk$", "method": "POST",
                                     "skip": 1, "times": 1}, LOOKUPS_FAIL])
    monkeypatch.setenv("SFJIRA_TASK_RETRIES", "1")

    run = world.run("opportunity_to_epic")

    load = next(ti for ti in run.dag_run.get_task_instances() if ti.task_id == "load_jira")
    assert load.try_number == 2, "load_jira failed transiently once and was retried by Airflow"
    assert world.jira_emulator.calls()["faults_fired"] == {"lost_response": 1, "500": 12}
    chunk = world.store.intents("opportunity_to_epic", side="jira").set_index(["op", "chunk"]).loc[("create", 1)]
    assert chunk["result"] == {"created": 0, "found_existing": 10, "rejected": 0}
    assert world.jira_emulator.calls()["by_endpoint"]["POST /rest/api/3/issue/bulk"] == 2
    _assert_one_linked_epic_per_record(world, opps)


def test_next_run_recovers_what_a_failed_run_left_pending(world: World) -> None:
    opps = make_opportunities(world.sf, RECORDS)
    world.jira_emulator.set_faults([{"fault": "lost_response", "path": "/issue/bulk$", "method": "POST",
                                     "skip": 1, "times": 1}, LOOKUPS_FAIL])

    failed = world.run("opportunity_to_epic", expect="failed")
    assert failed.task_states["load_jira"] == "failed"
    pending = world.store.pending_intents("opportunity_to_epic")
    assert list(pending["op"]) == ["create"] and len(pending["record_ids"].iloc[0]) == 10

    world.jira_emulator.clear_faults()
    world.run("opportunity_to_epic")
    _assert_one_linked_epic_per_record(world, opps)

    world.clear_calls()
    world.run("opportunity_to_epic")
    assert world.writes() == {"salesforce": {}, "jira": {}}
