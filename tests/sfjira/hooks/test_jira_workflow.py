"""Workflow path finding from what GET transitions showed: no server.

A small in-test workflow plays Jira's part: it answers "which transitions are available from
this status", exactly what the REST call tells the hook.
"""

from __future__ import annotations

from sfjira.hooks.workflow import WorkflowMap

# The catalog's workflow: To Do -> In Progress -> In Review -> Done, with back edges.
WORKFLOW = {
    "To Do": [("11", "Start Progress", "In Progress")],
    "In Progress": [("21", "Submit for Review", "In Review"), ("12", "Stop Progress", "To Do")],
    "In Review": [("31", "Done", "Done"), ("22", "Request Changes", "In Progress")],
    "Done": [("41", "Reopen", "To Do")],
}


def available(status: str, workflow: dict = WORKFLOW) -> list[dict]:
    return [{"id": i, "name": n, "to": {"name": to}} for i, n, to in workflow[status]]


def walk(start: str, target: str, known: WorkflowMap, workflow: dict = WORKFLOW) -> list[str] | None:
    current, taken = start, []
    while current.casefold() != target.casefold():
        known.learn(current, available(current, workflow))
        step = known.next_step(current, target)
        if step is None or len(taken) > 10:
            return None
        taken.append(step[1])
        current = step[2]
    return taken


def test_explores_unknown_workflow_to_done() -> None:
    assert walk("To Do", "Done", WorkflowMap()) == ["Start Progress", "Submit for Review", "Done"]


def test_learned_map_gives_shortest_path_and_case_insensitive_target() -> None:
    known = WorkflowMap()
    walk("To Do", "Done", known)
    assert walk("Done", "in review", known) == ["Reopen", "Start Progress", "Submit for Review"]
    assert len(walk("In Review", "To Do", known) or []) == 2  # two shortest ways; either is fine


def test_direct_transition_preferred() -> None:
    assert walk("In Review", "Done", WorkflowMap()) == ["Done"]


def test_unreachable_status_is_none_after_exploring() -> None:
    one_way = {"To Do": [("1", "Go", "Doing")], "Doing": [("2", "Back", "To Do")], "Done": []}
    known = WorkflowMap()
    assert walk("To Do", "Done", known, one_way) is None
    assert set(known.known_statuses()) == {"To Do", "Doing"}
