"""People editing both systems between sync runs, seeded: creates, field edits, status changes,
comments and deletes on cases (Salesforce) and their bugs (Jira), all through the public REST APIs.

`Book` remembers what was done that the oracle needs as ground truth: every comment's unique token and
where it was written, and which records were deleted on which side.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.world import CASE_STATUS_TO_JIRA, World, account_and_contact

PRIORITIES = ["High", "Medium", "Low"]  # mapped one to one (Highest/Lowest collapse on the way back)
STATUSES = list(CASE_STATUS_TO_JIRA)
# Share of the live records each round touches, per kind of edit.
SHARES = {"create": 0.02, "sf_edit": 0.04, "jira_edit": 0.03, "sf_status": 0.02, "jira_status": 0.02,
          "sf_comment": 0.02, "jira_comment": 0.02, "sf_delete": 0.005, "jira_delete": 0.005}


@dataclass
class Book:
    """Ground truth kept by the editors: comments by token, deletes by side."""

    comments: dict[str, tuple[str, str]] = field(default_factory=dict)  # token -> (origin side, case id)
    sf_deleted: set[str] = field(default_factory=set)       # case ids deleted in Salesforce
    jira_deleted: dict[str, str] = field(default_factory=dict)  # case id -> issue key deleted in Jira
    edits: dict[str, int] = field(default_factory=dict)     # kind -> count, for the figures

    def gone(self) -> set[str]:
        return self.sf_deleted | set(self.jira_deleted)

    def count(self, kind: str, n: int = 1) -> None:
        self.edits[kind] = self.edits.get(kind, 0) + n


def adf(text: str) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}


class Editors:
    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.seed = seed
        self.rng = random.Random(seed)
        self.book = Book()
        self.tokens = 0
        self.account, self.contact = "", ""

    def _token(self) -> str:
        self.tokens += 1
        return f"chaos-{self.seed}-{self.tokens:05d}"

    # -- the seeded start ---------------------------------------------------------------------------

    def seed_cases(self, n: int) -> list[str]:
        self.account, self.contact = account_and_contact(self.world.sf)
        return self._create(n, "seed")

    def _create(self, n: int, tag: str) -> list[str]:
        rng = self.rng
        records = [{"Subject": f"{tag} {rng.randrange(10**6)}: printer on fire",
                    "Description": f"Seeded {tag}\nsecond line {rng.randrange(10**6)}",
                    "Priority": rng.choice(PRIORITIES), "Status": rng.choice(STATUSES), "Origin": "Web",
                    "AccountId": self.account, "ContactId": self.contact} for _ in range(n)]
        ids = self.world.sf.create_many("Case", records) if records else []
        for case_id in ids:  # some cases start with a comment
            if rng.random() < 0.1:
                self._sf_comment(case_id)
        return ids

    # -- one round ----------------------------------------------------------------------------------

    def live_pairs(self) -> dict[str, str]:
        """Case id -> Jira key of every synced case not deleted on either side (read from Salesforce)."""
        rows = self.world.sf.query("SELECT Id, Jira_Key__c, Jira_Status__c FROM Case WHERE Jira_Key__c != null")
        gone = self.book.gone()
        return {r["Id"]: r["Jira_Key__c"] for r in rows if r["Id"] not in gone and not r.get("Jira_Status__c")}

    def edit_round(self, round_no: int) -> None:
        pairs = self.live_pairs()
        ids = sorted(pairs)
        rng = self.rng

        def pick(kind: str, pool: list[str]) -> list[str]:
            k = max(1, round(SHARES[kind] * len(ids))) if pool else 0
            return rng.sample(pool, min(k, len(pool)))

        # Deletes first, so nothing else touches a deleted record in the same round.
        sf_deletes = pick("sf_delete", ids)
        jira_deletes = pick("jira_delete", [i for i in ids if i not in sf_deletes])
        rest = [i for i in ids if i not in sf_deletes and i not in jira_deletes]
        for case_id in sf_deletes:
            self.world.sf.delete("Case", case_id)
            self.book.sf_deleted.add(case_id)
        for case_id in jira_deletes:
            self.world.jira.ok("DELETE", f"/issue/{pairs[case_id]}")
            self.book.jira_deleted[case_id] = pairs[case_id]
            # The flag policy marks a case when the sync next reads it: a person edits it meanwhile.
            self.world.sf.update("Case", case_id, Description=f"edited after the bug went, round {round_no}")
        self.book.count("sf_delete", len(sf_deletes))
        self.book.count("jira_delete", len(jira_deletes))

        for case_id in pick("sf_edit", rest):
            self.world.sf.update("Case", case_id, Subject=f"SF edit r{round_no} {rng.randrange(10**6)}",
                                 Priority=rng.choice(PRIORITIES),
                                 Description=f"Edited in Salesforce r{round_no}\nline {rng.randrange(10**6)}")
            self.book.count("sf_edit")
        for case_id in pick("jira_edit", rest):
            self.world.jira.ok("PUT", f"/issue/{pairs[case_id]}", json={"fields": {
                "summary": f"Jira edit r{round_no} {rng.randrange(10**6)}",
                "priority": {"name": rng.choice(PRIORITIES)},
                "description": adf(f"Edited in Jira r{round_no} {rng.randrange(10**6)}")}})
            self.book.count("jira_edit")
        for case_id in pick("sf_status", rest):
            self.world.sf.update("Case", case_id, Status=rng.choice(STATUSES))
            self.book.count("sf_status")
        for case_id in pick("jira_status", rest):
            self.world.transition(pairs[case_id], rng.choice(list(CASE_STATUS_TO_JIRA.values())))
            self.book.count("jira_status")
        for case_id in pick("sf_comment", rest):
            self._sf_comment(case_id)
        for case_id in pick("jira_comment", rest):
            token = self._token()
            self.world.jira.ok("POST", f"/issue/{pairs[case_id]}/comment",
                               json={"body": adf(f"{token} seen in Jira, round {round_no}")})
            self.book.comments[token] = ("jira", case_id)
            self.book.count("jira_comment")
        created = self._create(max(1, round(SHARES["create"] * len(ids))), f"r{round_no}")
        self.book.count("create", len(created))

    def _sf_comment(self, case_id: str) -> None:
        token = self._token()
        self.world.sf.create("CaseComment", ParentId=case_id, CommentBody=f"{token} customer says hi\nsecond line",
                             IsPublished=True)
        self.book.comments[token] = ("salesforce", case_id)
        self.book.count("sf_comment")
