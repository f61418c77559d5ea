"""A cleanly synced case_to_bug world, and the same world with every drift category seeded on purpose
(each seed is a change made on one side behind the sync's back)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sfjira.mapping.model import Mapping
from sfjira.state import StateStore
from tests.sfjira.reconcile.world import (
    jira_frame,
    jira_issue,
    links_frame,
    sf_frame,
    sf_record,
    synced_state,
)

PAIRS = 12
STATUS = {"New": "To Do", "Working": "In Progress", "Escalated": "In Review", "Closed": "Done"}
PRIORITY_IN_JIRA = {"High": "Highest", "Medium": "Medium", "Low": "Lowest"}  # reverse_map folds them back
PII_EDIT = "leaked.address@example.org"
MISMATCH_SUMMARY = "Printer <b>on fire</b> & \"smoking\""


def sf_id(n: int) -> str:
    return f"500Qy{n:013d}"


def key(n: int) -> str:
    return f"SUP-{n}"


def _case(n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    status = list(STATUS)[n % 4]
    priority = ("High", "Medium", "Low")[n % 3]
    record = sf_record(sf_id(n), Subject=f"Case {n} \u2013 \u00fcn\u00efcode \U0001F600", Jira_Key__c=key(n),
                       Jira_Url__c=f"https://jira.example/browse/{key(n)}",
                       Description=f"Line one of {n}\r\n\r\nline two", Priority=priority,
                       **{"Contact.Email": f"  Customer{n}@Example.COM "}, Fix_Version__c="1.1; 1.0",
                       Status=status)
    issue = jira_issue(10_000 + n, key(n), sfid=sf_id(n), mapping_name="case_to_bug",
                       customfield_10050=sf_id(n), summary=f"Case {n} \u2013 \u00fcn\u00efcode \U0001F600",
                       description=f"Line one of {n}\n\nline two", priority=PRIORITY_IN_JIRA[priority],
                       customfield_10054=f"customer{n}@example.com", fixVersions=["1.0", "1.1"],
                       status=STATUS[status])
    return record, issue


@dataclass
class World:
    mapping: Mapping
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def clean(cls, mapping: Mapping, n: int = PAIRS) -> World:
        world = cls(mapping)
        for i in range(1, n + 1):
            record, issue = _case(i)
            world.records[record["Id"]] = record
            world.issues[issue["key"]] = issue
        return world

    def sf(self) -> pd.DataFrame:
        return sf_frame(self.mapping, self.records.values())

    def jira(self) -> pd.DataFrame:
        return jira_frame(self.mapping, self.issues.values())

    def save_sync(self, store: StateStore) -> str:
        """Record the world as the sync leaves it: links and the agreed field hashes."""
        run = store.begin_run(self.mapping.name, "scheduled__2026-03-28T09:00:00+00:00")
        links = links_frame((r["Id"], i["id"], i["key"]) for r, i in zip(self.records.values(), self.issues.values(),
                                                                            strict=True))
        store.upsert_links(self.mapping.name, links, run)
        store.save_synced_state(self.mapping.name, synced_state(self.mapping, self.sf(), self.jira()), run)
        return run


def seed_every_category(world: World) -> set[tuple[Any, ...]]:
    """Change the world behind the sync's back; returns the (category, sf_id, jira_key, field) rows
    the reconciliation must find -- nothing more."""
    extra, _ = _case(100)
    extra["Jira_Key__c"] = None
    world.records[extra["Id"]] = extra                                        # created in SF, never synced
    _, lone = _case(100)
    lone.pop("properties")
    lone["key"], lone["id"] = "SUP-100", "10100"
    lone["fields"]["customfield_10050"] = None
    world.issues["SUP-100"] = lone                                            # created by hand in Jira
    del world.issues[key(2)]                                                  # issue deleted in Jira
    del world.records[sf_id(3)]                                               # record deleted in Salesforce
    _, copy = _case(4)
    copy["key"], copy["id"] = "SUP-101", "10101"
    world.issues["SUP-101"] = copy                                            # a cloned issue: same SF id
    twin, _ = _case(101)
    twin["Jira_Key__c"] = key(5)
    world.records[twin["Id"]] = twin                                          # a record claiming SUP-5
    world.issues[key(6)]["fields"]["summary"] = MISMATCH_SUMMARY               # edited in Jira only
    world.issues[key(7)]["fields"]["customfield_10054"] = PII_EDIT             # SF-owned PII edited in Jira
    world.records[sf_id(8)]["Subject"] = "Edited in Salesforce"               # edited on both sides:
    world.records[sf_id(8)]["SystemModstamp"] = "2026-03-29T12:00:00.000+0000"  # Salesforce later
    world.issues[key(8)]["fields"]["summary"] = "Edited in Jira"
    world.issues[key(9)]["fields"]["status"] = {"name": "Done", "id": "4"}      # moved on in Jira
    return {
        ("missing_in_jira", sf_id(100), None, None),
        ("missing_in_salesforce", None, "SUP-100", None),
        ("orphan_link", sf_id(2), key(2), None),
        ("orphan_link", sf_id(3), key(3), None),
        ("duplicate", sf_id(4), "SUP-101", None),
        ("duplicate", sf_id(101), key(5), None),
        ("field_mismatch", sf_id(6), key(6), "Subject"),
        ("field_mismatch", sf_id(7), key(7), "Contact.Email"),
        ("conflict_pending", sf_id(8), key(8), "Subject"),
        ("field_mismatch", sf_id(9), key(9), "Status"),
    }


def found(rows: pd.DataFrame) -> set[tuple[Any, ...]]:
    picked = rows[["category", "sf_id", "jira_key", "field"]].astype(object)
    return {tuple(None if pd.isna(v) else v for v in row) for row in picked.itertuples(index=False)}
