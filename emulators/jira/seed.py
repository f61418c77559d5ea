"""Deterministic seed data: the same `seed` gives the same issues, texts and shapes every time.

SUP gets Bugs and Tasks (priorities, fix versions, customer e-mail); DEL gets Epics with the
opportunity fields and Stories/Tasks under them (`parent`). Descriptions are ADF with paragraphs,
hard breaks and marks; summaries and comments carry non-ASCII text. Timestamps lie in the 30 days
before `base_time` (default: the server clock), in key order.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from emulators.jira import catalog
from emulators.jira.fields import STAGE_OPTIONS
from emulators.jira.store import Comment, Issue, Store
from emulators.jira.timefmt import parse_ms
from emulators.jira.users import COLLEAGUES

DAY_MS = 86_400_000
SUBJECTS = ("Login fails for Müller GmbH", "Invoice PDF shows wrong VAT — Überweisung pending",
            "Export to CSV drops umlauts (äöü)", "Timeout when syncing 東京 office", "Données clients incomplètes",
            "Dashboard slow after upgrade", "Password reset mail not received", "Renewal quote for Zürich AG",
            "API returns 500 on bulk update", "Mobile app crashes on start ✓")
WORDS = ("customer", "Kunde", "renewal", "migration", "größe", "latency", "façade", "naïve", "coöperation",
         "pipeline", "München", "São Paulo", "Kraków")
COMMENTS = ("Grüße aus München — looking into it.", "Customer confirmed the fix works ✓", "Escalated to L2 🚀",
            "Waiting for logs from 東京.", "Can't reproduce; please attach a HAR file.", "Merci, c'est réglé.")
LABELS = ("customer", "backend", "größe", "urgent", "sync")
STATUS_WEIGHTS = (("10000", 4), ("3", 3), ("10001", 2), ("10002", 2))


@dataclass
class SeedParams:
    seed: int = 0
    issues_per_project: int = 20
    projects: tuple[str, ...] = ("SUP", "DEL")
    comments_per_issue: int = 2
    sfid_fraction: float = 0.0
    base_time: str | None = None
    reset: bool = False

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SeedParams:
        allowed = set(cls.__dataclass_fields__)
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(f"unknown seed parameters {sorted(unknown)}; allowed: {', '.join(sorted(allowed))}")
        params = cls(**{**body, "projects": tuple(body.get("projects", cls.projects))})
        bad = [p for p in params.projects if p not in catalog.PROJECTS]
        if bad or params.issues_per_project < 0 or not 0 <= params.sfid_fraction <= 1:
            raise ValueError(f"projects must be among {sorted(catalog.PROJECTS)}, issues_per_project >= 0 and "
                             "sfid_fraction within 0..1")
        return params


def _adf(rng: random.Random, n: int) -> dict[str, Any]:
    words = rng.sample(WORDS, 4)
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [
            {"type": "text", "text": f"Reported by {words[0]} team, case {n}."},
            {"type": "hardBreak"},
            {"type": "text", "text": "Impact: ", "marks": [{"type": "strong"}]},
            {"type": "text", "text": f"{words[1]} and {words[2]}", "marks": [{"type": "em"}]},
        ]},
        {"type": "paragraph", "content": [{"type": "text", "text": f"Next step: check {words[3]} — résumé ✓"}]},
    ]}


def _fake_sfid(prefix: str, rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(rng.choice(alphabet) for _ in range(15))


class Seeder:
    def __init__(self, store: Store, me: str, params: SeedParams) -> None:
        self.store = store
        self.me = me
        self.params = params
        self.rng = random.Random(params.seed)
        self.base = parse_ms(params.base_time) if params.base_time else store.now_ms()
        self.issues: list[Issue] = []
        self.comments: list[Comment] = []
        self.props: list[tuple[int, str, Any]] = []

    def run(self) -> dict[str, Any]:
        store = self.store
        with store.tx():
            if self.params.reset:
                store.clear()
            summary = {p: self.project(p) for p in self.params.projects}
            store.insert_issues(self.issues)
            store.add_comments(self.comments)
            store.conn.executemany("INSERT INTO properties(issue_id, key, value) VALUES (?, ?, json(?))",
                                   [(i, k, _dumps(v)) for i, k, v in self.props])
            if self.issues:
                store.note_written(max(i.updated for i in self.issues))
        return {"seed": self.params.seed, "created": len(self.issues), "comments": len(self.comments),
                "projects": summary}

    def project(self, key: str) -> dict[str, Any]:
        count = self.params.issues_per_project
        if count == 0:
            return {"count": 0}
        first_id = self.store.next_id("issue", count)
        first_num = self.store.next_issue_numbers(key, count)
        span = 30 * DAY_MS
        offsets = sorted(self.rng.randrange(DAY_MS, span) for _ in range(count))[::-1]
        epics: list[Issue] = []
        for n in range(count):
            created = self.base - offsets[n] + n  # strictly increasing in key order
            updated = min(created + self.rng.randrange(0, 5 * DAY_MS), self.base - (count - n))
            issue = self.issue(key, first_id + n, first_num + n, created, max(created, updated), epics)
            self.issues.append(issue)
            if issue.issuetype == "10000":
                epics.append(issue)
        return {"count": count, "first": f"{key}-{first_num}", "last": f"{key}-{first_num + count - 1}"}

    def issue(self, project: str, issue_id: int, num: int, created: int, updated: int,
              epics: list[Issue]) -> Issue:
        rng = self.rng
        status = rng.choices([s for s, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0]
        type_id = self._type(project, epics)
        fields: dict[str, Any] = {
            "summary": f"{rng.choice(SUBJECTS)} #{num}", "description": _adf(rng, num),
            "reporter": self.me, "creator": self.me,
            "assignee": rng.choice([None, self.me, *(u.account_id for u in COLLEAGUES)]),
            "labels": sorted(set(rng.sample(LABELS, rng.randint(0, 2)))),
            "fixVersions": [],
        }
        if fields["assignee"] is None:
            del fields["assignee"]
        if status == "10002":
            fields["resolution"] = catalog.RESOLUTION_DONE["id"]
            fields["resolutiondate"] = updated
        self._custom(project, type_id, num, fields)
        parent = rng.choice(epics).id if epics and type_id != "10000" and rng.random() < 0.8 else None
        issue = Issue(issue_id, f"{project}-{num}", project, num, type_id, status,
                      rng.choice(list(catalog.PRIORITIES)), parent, created, updated, fields)
        self._comments(issue)
        if rng.random() < self.params.sfid_fraction:
            sfid = _fake_sfid("500" if project == "SUP" else "006", rng)
            fields["customfield_10050"] = sfid
            mapping = "case_to_bug" if project == "SUP" else "opportunity_to_epic"
            self.props.append((issue_id, "sfjira", {"sfid": sfid, "mapping": mapping}))
        return issue

    def _type(self, project: str, epics: list[Issue]) -> str:
        if project == "SUP":
            return "10003" if self.rng.random() < 0.7 else "10002"
        if project == "DEL" and (not epics or self.rng.random() < 0.2):
            return "10000"
        return self.rng.choice(catalog.PROJECTS[project].issue_type_ids[1:] or ("10002",))

    def _custom(self, project: str, type_id: str, num: int, fields: dict[str, Any]) -> None:
        rng = self.rng
        fields["customfield_10051"] = rng.choice(("Müller GmbH", "Zürich AG", "Acme Corp", "株式会社東京", "Café Noir"))
        if project == "SUP":
            fields["customfield_10054"] = f"kunde{num}@example.com"
            fields["fixVersions"] = sorted({v.id for v in catalog.PROJECTS["SUP"].versions if rng.random() < 0.3})
        if type_id == "10000":
            fields["customfield_10052"] = float(rng.randrange(1_000, 500_000, 50))
            fields["customfield_10053"] = f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            fields["customfield_10055"] = rng.choice(list(STAGE_OPTIONS))

    def _comments(self, issue: Issue) -> None:
        for _ in range(self.rng.randint(0, self.params.comments_per_issue)):
            stamp = self.rng.randint(issue.created, issue.updated)
            body = {"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": self.rng.choice(COMMENTS)}]}]}
            self.comments.append(Comment(self.store.next_id("comment"), issue.id, self.me, self.me, body, stamp,
                                         stamp))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
