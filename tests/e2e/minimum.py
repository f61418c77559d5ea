"""Every shipped mapping against its protocol minimum: a first sync, an incremental run with changes on
both sides, and an idle run, each a real DAG run; the calls the emulators served, per side, next to the
minimum the run's report computed (sfjira.sync.report.protocol_minimum).

Shared by tests/e2e/test_api_minimum.py (which asserts the bound) and bench/budget.py (which prints it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.e2e.world import World, make_cases, make_opportunities

SHIPPED = ("case_to_bug", "opportunity_to_epic")
KINDS = ("first", "incremental", "idle")
BOUND = 1.1  # calls per side at most this times the protocol minimum
SIDES = ("salesforce", "jira")


@dataclass
class Figures:
    mapping: str
    kind: str
    used: dict[str, int]
    minimum: dict[str, int]
    endpoints: dict[str, dict[str, int]]

    def ratio(self, side: str) -> float:
        return self.used[side] / max(self.minimum[side], 1)

    def within(self, bound: float = BOUND) -> bool:
        return all(self.used[s] <= bound * self.minimum[s] for s in SIDES)

    def line(self) -> str:
        cells = "  ".join(f"{s} {self.used[s]:>4} / {self.minimum[s]:>4} ({self.ratio(s):.2f})" for s in SIDES)
        return f"{self.mapping:<20} {self.kind:<12} {cells}"


def served(world: World) -> dict[str, dict[str, int]]:
    """Calls each emulator served since the last clear, per endpoint (its own admin routes left out)."""
    out = {}
    for side, emulator in (("salesforce", world.sf_emulator), ("jira", world.jira_emulator)):
        out[side] = {k: v for k, v in emulator.calls()["by_endpoint"].items() if "/__emulator" not in k and v}
    return out


def measured(world: World, mapping: str, kind: str) -> Figures:
    """One DAG run of `mapping`, its calls counted by the emulators from a clean counter."""
    world.clear_calls()
    run = world.run(mapping)
    endpoints = served(world)
    minimum = dict(run.summary["summary"]["api_calls"]["minimum"])
    return Figures(mapping, kind, {s: sum(endpoints[s].values()) for s in SIDES}, minimum, endpoints)


def seed(world: World, mapping: str, records: int) -> list[str]:
    """`records` new Salesforce records of the mapping's object (cases in every status, each with a comment)."""
    if mapping == "opportunity_to_epic":
        return make_opportunities(world.sf, records)
    ids = make_cases(world.sf, records)
    world.sf.create_many("CaseComment", [{"ParentId": i, "CommentBody": f"First note on {n}", "IsPublished": True}
                                         for n, i in enumerate(ids)])
    return ids


def change_both_sides(world: World, mapping: str, ids: list[str], changed: int) -> None:
    """Edits behind the sync's back: `changed` records edited in Salesforce (cases also closed), `changed`
    other ones in Jira (a status step each; for cases also a comment on each side)."""
    sf_side, jira_side = ids[:changed], ids[-changed:]
    sobject = "Opportunity" if mapping == "opportunity_to_epic" else "Case"
    for n, record in enumerate(sf_side):
        if sobject == "Opportunity":
            world.sf.update(sobject, record, Amount=99_000 + n)
        else:  # closed: walked to Done from wherever the issue is (the chunk's before-image says where)
            world.sf.update(sobject, record, Subject=f"Edited {n}: printer still on fire", Status="Closed")
    if sobject == "Case":
        world.sf.create_many("CaseComment", [{"ParentId": i, "CommentBody": f"Follow-up {n}", "IsPublished": True}
                                             for n, i in enumerate(sf_side)])
    keys = [r["Jira_Key__c"] for r in world.sf.query(
        f"SELECT Jira_Key__c FROM {sobject} WHERE Id IN ({', '.join(repr(i) for i in jira_side)})")]
    for key in keys:
        moves = world.jira.ok("GET", f"/issue/{key}/transitions")["transitions"]
        world.jira.ok("POST", f"/issue/{key}/transitions", json={"transition": {"id": moves[0]["id"]}})
        if sobject == "Case":
            world.jira.ok("POST", f"/issue/{key}/comment", json={"body": _adf(f"Seen on {key}")})


def _adf(text: str) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text",
                                                                                         "text": text}]}]}


def scenario(world: World, mapping: str, records: int, changed: int) -> list[Figures]:
    """First sync of `records` new records, an incremental run after `changed` edits per side, an idle run."""
    ids = seed(world, mapping, records)
    out = [measured(world, mapping, "first")]
    change_both_sides(world, mapping, ids, changed)
    out.append(measured(world, mapping, "incremental"))
    out.append(measured(world, mapping, "idle"))
    return out
