"""Every drift category, made deliberately behind the connector's back through both public APIs after
a clean first sync of the `case_to_bug` mapping. `seed_every_category` returns what a reconciliation
must find: one (category, sf_id, jira_key, field) per seeded drift, nothing else."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tests.e2e.world import World, make_cases

MAPPING = "case_to_bug"
STALE_KEY = "SUP-999"  # a key no issue has


@dataclass
class Seeded:
    ids: list[str]            # the cases synced first (index = role below)
    keys: list[str]           # their issues
    new_case: str             # never synced
    stale_case: str           # never synced, holds STALE_KEY
    lone_issue: str           # an issue no record goes with
    duplicate_issue: str      # a second issue carrying ids[2]
    expected: set[tuple[object, ...]]


def synced_cases(world: World, n: int = 8) -> tuple[list[str], list[str]]:
    """`n` cases synced by a real sync DAG run; their ids and issue keys."""
    ids = make_cases(world.sf, n, Status="New", Priority="Medium")
    world.run(MAPPING)
    keys = {r["Id"]: r["Jira_Key__c"] for r in world.sf.query("SELECT Id, Jira_Key__c FROM Case")}
    return ids, [keys[i] for i in ids]


def seed_every_category(world: World) -> Seeded:
    ids, keys = synced_cases(world)
    sf, jira = world.sf, world.jira
    # orphan_link: the issue of ids[0] deleted in Jira, the record ids[1] deleted in Salesforce.
    jira.ok("DELETE", f"/issue/{keys[0]}")
    sf.delete("Case", ids[1])
    # duplicate: a second issue carrying ids[2] (custom field and property, as the sync writes them).
    dup = jira.create("SUP", "Bug", "Copy of case 2", customfield_10050=ids[2])["key"]
    jira.ok("PUT", f"/issue/{dup}/properties/sfjira", json={"sfid": ids[2], "mapping": MAPPING})
    # field_mismatch: Jira changed priority; Salesforce changed the description; the record lost its key.
    jira.ok("PUT", f"/issue/{keys[3]}", json={"fields": {"priority": {"name": "Low"}}})
    sf.update("Case", ids[4], Description="Edited in Salesforce only")
    sf.update("Case", ids[6], Jira_Key__c=None)
    # conflict_pending: the subject changed differently on both sides (owner latest: Jira edits last).
    sf.update("Case", ids[5], Subject="Subject from Salesforce")
    time.sleep(0.05)
    jira.ok("PUT", f"/issue/{keys[5]}", json={"fields": {"summary": "Subject from Jira"}})
    # missing_in_jira: a record never synced. identity_refused: one holding the key of an issue that does not
    # exist (the sync refuses to adopt it, so nothing heals it either).
    new_case = sf.create("Case", Subject="Arrived after the sync", Priority="High", Status="New", Origin="Web")
    stale = sf.create("Case", Subject="Holds a dead key", Priority="Low", Status="New", Origin="Web",
                      Jira_Key__c=STALE_KEY)
    # missing_in_salesforce: an issue made in Jira, no record goes with it.
    lone = jira.create("SUP", "Bug", "Filed in Jira directly")["key"]
    expected = {
        ("missing_in_jira", new_case, None, None), ("identity_refused", stale, STALE_KEY, "Jira_Key__c"),
        ("missing_in_salesforce", None, lone, None),
        ("orphan_link", ids[0], keys[0], None), ("orphan_link", ids[1], keys[1], None),
        ("duplicate", ids[2], dup, None),
        ("field_mismatch", ids[3], keys[3], "Priority"), ("field_mismatch", ids[4], keys[4], "Description"),
        ("field_mismatch", ids[6], keys[6], "Jira_Key__c"),
        ("conflict_pending", ids[5], keys[5], "Subject"),
    }
    return Seeded(ids, keys, new_case, stale, lone, dup, expected)
