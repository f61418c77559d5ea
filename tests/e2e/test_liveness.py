"""Issue 11 points 2 and 8: every write left pending is finished exactly once, and an ambiguous write is
resolved inside the task.

(a) In-task: a lost response (the write landed, the answer did not come back) or a 500 on a comment,
    a transition, an update or a Salesforce comment create is looked up and only what did not land is sent
    again: the run succeeds on every task's first try with exactly one copy of each effect.
(b) Killed attempt: `airflow dags test` is SIGKILLed while the emulator holds back the answer of a
    write that landed (`late_response`), so the chunk's intent stays pending; the next run looks the
    pending records up and finishes them exactly once. The same state arises when the write lands and
    every look-up fails too: the task gives up and fails TRANSIENTLY (never a reject: the cursor stays
    put) and Airflow's retry finishes the chunk.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.world import (
    World,
    case_comment_texts,
    jira_comment_texts,
    kill_dag_test_while_held,
    make_cases,
)

MAPPING = "case_to_bug"
# Enough failing look-ups to outlast the in-task tries (4 sends, 3 look-ups) times the hook's own
# HTTP attempts (4 with the emulator connections' FAST_RETRY): the task then fails transiently.
OUTLAST = 3 * 4




def _key(world: World, case_id: str) -> str:
    return str(world.sf.get("Case", case_id)["Jira_Key__c"])


def _tries(run: Any) -> dict[str, int]:
    return {ti.task_id: ti.try_number for ti in run.dag_run.get_task_instances()}


def _comment_on_both_sides(world: World, case_id: str, key: str) -> None:
    world.sf.create("CaseComment", ParentId=case_id, CommentBody="Customer sent logs", IsPublished=True)
    world.jira.ok("POST", f"/issue/{key}/comment", json={"body": {
        "type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "Root cause found"}]}]}})


def _kill_sync_while_held(world: World, fault: dict[str, Any], tmp_path: Path) -> None:
    """`airflow dags test` of the mapping, SIGKILLed once the emulator handled the faulted write and holds its
    answer back: the write landed, the load never heard of it."""
    from sfjira.dag_factory import covering_logical_date

    emulator = world.sf_emulator if fault.pop("side", "jira") == "salesforce" else world.jira_emulator
    # The interval that holds now, as world.run() uses: the edits just made are inside its window.
    logical = covering_logical_date(world.mapping(MAPPING).schedule, dt.datetime.now(dt.UTC))
    kill_dag_test_while_held(emulator, fault, f"sfjira_sync__{MAPPING}", logical, tmp_path / "killed.log")


def test_the_next_run_finishes_a_comment_a_killed_load_wrote_exactly_once(world: World, tmp_path: Path) -> None:
    (case,) = make_cases(world.sf, 1, Status="New")
    world.run(MAPPING)
    key = _key(world, case)
    world.sf.create("CaseComment", ParentId=case, CommentBody="Customer sent logs", IsPublished=True)

    _kill_sync_while_held(world, {"path": r"/issue/[^/]+/comment$", "method": "POST"}, tmp_path)

    assert len(jira_comment_texts(world, key)) == 1, "the comment landed before the kill"
    pending = world.store.pending_intents(MAPPING)
    assert list(pending["op"]) == ["comment"] and world.store.comment_links(MAPPING).empty
    world.run(MAPPING)
    assert len(jira_comment_texts(world, key)) == 1
    assert len(world.store.comment_links(MAPPING)) == 1
    _assert_nothing_left(world)


def test_the_next_run_finishes_a_transition_a_killed_load_took(world: World, tmp_path: Path) -> None:
    (case,) = make_cases(world.sf, 1, Status="New")
    world.run(MAPPING)
    key = _key(world, case)
    world.sf.update("Case", case, Status="Working")

    _kill_sync_while_held(world, {"path": r"/issue/[^/]+/transitions$", "method": "POST"}, tmp_path)

    assert world.issue(key)["fields"]["status"]["name"] == "In Progress", "the transition landed before the kill"
    assert list(world.store.pending_intents(MAPPING)["op"]) == ["update"]
    world.jira_emulator.clear_calls()
    world.run(MAPPING)
    assert world.issue(key)["fields"]["status"]["name"] == "In Progress"
    assert "POST /rest/api/3/issue/{issueIdOrKey}/transitions" not in world.jira_emulator.calls()["by_endpoint"]
    _assert_nothing_left(world)


def test_the_next_run_finishes_a_key_write_back_a_killed_load_sent(world: World, tmp_path: Path) -> None:
    (case,) = make_cases(world.sf, 1, Status="New")

    _kill_sync_while_held(world, {"side": "salesforce", "path": r"/composite/sobjects$", "method": "PATCH"},
                          tmp_path)

    key = world.store.links(MAPPING)["jira_key"].iloc[0]
    assert _key(world, case) == key, "the key landed before the kill"
    assert list(world.store.pending_intents(MAPPING)["side"]) == ["salesforce"]
    world.run(MAPPING)
    assert _key(world, case) == key
    assert len(world.issues("project = SUP", "customfield_10050")) == 1
    _assert_nothing_left(world)


def _assert_nothing_left(world: World) -> None:
    assert world.store.pending_intents(MAPPING).empty
    assert world.store.rejects(MAPPING).empty, "a transient fault never becomes a reject"
    world.clear_calls()
    world.run(MAPPING)
    assert world.writes() == {"salesforce": {}, "jira": {}}, "nothing was left for a later run to write"


def test_ambiguous_writes_are_resolved_inside_the_task(world: World) -> None:
    first, second = make_cases(world.sf, 2, Status="New")
    world.run(MAPPING)
    first_key, second_key = _key(world, first), _key(world, second)
    _comment_on_both_sides(world, first, second_key)
    world.sf.update("Case", first, Status="Escalated", Subject="Printer on fire, escalated")
    world.jira_emulator.set_faults([
        {"fault": "lost_response", "path": r"/issue/[^/]+/comment$", "method": "POST", "times": 1},
        {"fault": "500", "path": r"/issue/[^/]+/transitions$", "method": "POST", "times": 1},
        {"fault": "lost_response", "path": r"/issue/[^/]+/transitions$", "method": "POST", "times": 1},
        {"fault": "lost_response", "path": r"/issue/[^/]+$", "method": "PUT", "times": 1},
    ])
    world.sf_emulator.set_faults([
        {"fault": "lost_response", "path": r"/composite/sobjects$", "method": "POST", "times": 1},
    ])

    run = world.run(MAPPING)

    assert set(_tries(run).values()) == {1}, f"every task succeeded on its first try: {_tries(run)}"
    assert world.jira_emulator.calls()["faults_fired"] == {"lost_response": 3, "500": 1}
    assert world.sf_emulator.calls()["faults_fired"] == {"lost_response": 1}
    copies = jira_comment_texts(world, first_key)
    assert len(copies) == 1 and copies[0].endswith("\nCustomer sent logs")
    assert [c for c in case_comment_texts(world, second) if c.endswith("\nRoot cause found")] == \
        [c for c in case_comment_texts(world, second)], "one copy of the Jira comment in Salesforce"
    assert len(case_comment_texts(world, second)) == 1
    issue = world.issue(first_key)["fields"]
    assert issue["status"]["name"] == "In Review" and issue["summary"] == "Printer on fire, escalated"
    links = world.store.comment_links(MAPPING)
    assert sorted(links["origin"]) == ["jira", "salesforce"]
    _assert_nothing_left(world)


def test_a_retry_finishes_a_comment_its_killed_attempt_wrote_exactly_once(world: World,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (case,) = make_cases(world.sf, 1, Status="New")
    world.run(MAPPING)
    key = _key(world, case)
    world.sf.create("CaseComment", ParentId=case, CommentBody="Customer sent logs", IsPublished=True)
    world.jira_emulator.set_faults([
        {"fault": "lost_response", "path": r"/issue/[^/]+/comment$", "method": "POST", "times": 1},
        {"fault": "500", "path": r"/issue/[^/]+/comment$", "method": "GET", "times": OUTLAST},
    ])
    monkeypatch.setenv("SFJIRA_TASK_RETRIES", "1")

    run = world.run(MAPPING)

    assert _tries(run)["load_jira"] == 2, "the first attempt failed transiently, Airflow retried it"
    assert world.jira_emulator.calls()["by_endpoint"]["POST /rest/api/3/issue/{issueIdOrKey}/comment"] == 1
    assert len(jira_comment_texts(world, key)) == 1
    chunk = world.store.intents(MAPPING, side="jira").set_index("op").loc["comment"]
    assert chunk["status"] == "completed" and chunk["result"] == {"comments_to_jira": 1}
    assert len(world.store.comment_links(MAPPING)) == 1
    _assert_nothing_left(world)


def test_a_retry_walks_a_transition_on_from_where_its_killed_attempt_left_it(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    (case,) = make_cases(world.sf, 1, Status="New")
    world.run(MAPPING)
    key = _key(world, case)
    world.sf.update("Case", case, Status="Closed")  # To Do -> Done: three steps of the workflow
    world.jira_emulator.set_faults([
        {"fault": "lost_response", "path": r"/issue/[^/]+/transitions$", "method": "POST", "times": 1},
        {"fault": "500", "path": r"/issue/[^/]+$", "method": "GET", "times": OUTLAST},
    ])
    monkeypatch.setenv("SFJIRA_TASK_RETRIES", "1")

    run = world.run(MAPPING)

    assert _tries(run)["load_jira"] == 2
    assert world.issue(key)["fields"]["status"]["name"] == "Done"
    # Each step once: the step that landed unanswered is not taken again.
    assert world.jira_emulator.calls()["by_endpoint"]["POST /rest/api/3/issue/{issueIdOrKey}/transitions"] == 3
    steps = world.store.ledger(mapping=MAPPING, sf_id=case)
    assert list(steps.loc[steps["action"] == "transition", "after"]) == ["Done"], "one ledger row for it"
    _assert_nothing_left(world)


def test_the_next_run_confirms_a_key_write_back_a_failed_run_left_pending(world: World) -> None:
    (case,) = make_cases(world.sf, 1, Status="New")
    world.sf_emulator.set_faults([
        {"fault": "lost_response", "path": r"/composite/sobjects$", "method": "PATCH", "times": 1},
        {"fault": "500", "path": r"/composite/sobjects$", "method": "PATCH", "times": 4 * 4},
    ])

    failed = world.run(MAPPING, expect="failed")

    assert failed.task_states["load_salesforce"] == "failed"
    pending = world.store.pending_intents(MAPPING)
    assert list(pending["side"]) == ["salesforce"] and list(pending["op"]) == ["update"]
    key = world.store.links(MAPPING)["jira_key"].iloc[0]
    assert _key(world, case) == key, "the write-back landed before the answer was lost"
    assert world.store.watermarks(MAPPING) == {}, "the cursor did not move past the failed run"

    world.sf_emulator.clear_faults()
    world.sf_emulator.clear_calls()
    world.run(MAPPING)

    assert _key(world, case) == key
    assert len(world.issues("project = SUP", "customfield_10050")) == 1
    closed = world.store.intents(MAPPING, side="salesforce").set_index("intent_id").loc[pending["intent_id"].iloc[0]]
    assert closed["status"] == "completed" and "superseded_by" in closed["result"]
    _assert_nothing_left(world)
