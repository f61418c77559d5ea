"""Deterministic, realistic test data: POST /__emulator/seed {"seed": 7, "accounts": 100, ...}.

The same seed and counts give the same field values (and, after a reset, the same ids). Names mix
plain ASCII with accents, combining characters, right-to-left scripts, CJK and emoji; optional fields
are null now and then, as in a real org. Records are generated straight into the store (no per-record
API validation) so 5,000 of them take well under a second.
"""

from __future__ import annotations

import random
import time
import unicodedata
from dataclasses import dataclass, fields
from typing import Any

from emulators.salesforce.defaults import INTEGRATION_USER_ID
from emulators.salesforce.org import Org
from emulators.salesforce.store import Record
from emulators.salesforce.timefmt import DAY_MS, format_date, format_datetime
from emulators.salesforce.writes import compute_fields

FIRST_NAMES = ("Ada", "Grace", "Alan", "Zoë", "José", "Søren", "Łukasz", "Amélie", "Ingrid", "Mateo", "Priya",
               "Chidi", "Mei", "Oluwaseun", "François", "Nuño", "Émile", "Björn", "Yuki", "Aiyana",
               "مريم", "יעל", "美咲", "Дмитрий", "Αθηνά")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Müller", "O'Brien", "Nguyễn", "García", "Øvergaard", "Şahin",
              "Kowalski", "Okafor", "Smith", "Johnson", "Dubois", "Rossi", "Tanaka", "Schröder",
              "أحمد", "כהן", "田中", "Иванов", "Παπαδόπουλος", "Zoë-Lynn", "D'Angelo", "McAllister")
COMPANY_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Nordic", "Zürich", "Škoda",
                 "Café", "Ørsted", "Łódź", "Kyōto", "São Paulo", "Δέλτα", "Аврора", "نور", "אור", "東京")
COMPANY_SUFFIXES = ("Inc.", "GmbH", "Ltd", "S.A.", "AG", "LLC", "K.K.", "& Co.", "Group", "Labs")
EMOJI = ("🚀", "☕", "🌍", "⚡", "🧪", "📦", "👩‍💻", "🇩🇪")
PRODUCTS = ("Platform licence", "Support renewal", "Onboarding", "Data migration", "Enterprise upgrade",
            "Pilot", "Training package", "Integration services")
CASE_SUBJECTS = ("Login fails after password reset", "Export to CSV drops umlauts (ä, ö, ü)",
                 "Invoice total wrong by 0.01 €", "API returns 500 on large payloads", "Dashboard is slow",
                 "Cannot attach files > 10 MB", "Sync stopped since Monday", "文字化け in PDF export",
                 "RTL text (עברית / العربية) renders backwards", "Emoji 😀 breaks the search index")
COMMENTS = ("Customer confirmed the workaround works.", "Escalated to engineering.",
            "Attached logs; see line 42.", "Called back, no answer — will retry tomorrow.",
            "Merci, c'est réglé !", "Repro steps:\n1. Open report\n2. Click \"Export\"\n3. Observe error",
            "ありがとうございます", "Fixed in build 2.0.1 🎉")
INDUSTRIES = ("Technology", "Manufacturing", "Finance", "Healthcare", "Retail", "Education", "Energy", "Media")
STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
          "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost")
MAX_RECORDS = 250_000


@dataclass
class SeedParams:
    seed: int = 1
    accounts: int = 10
    contacts: int | None = None        # default 2 per account
    opportunities: int | None = None   # default 1 per account
    cases: int | None = None           # default 1 per account
    case_comments: int | None = None   # default 1 per case
    tasks: int = 0
    users: int = 3
    deleted: int = 0                   # this many of the generated opportunities and cases end soft-deleted
    jira_linked: float = 0.0           # share of opportunities/cases that already carry a Jira_Key__c

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SeedParams:
        allowed = [f.name for f in fields(cls)]
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise ValueError(f"unknown seed parameter(s) {unknown}; allowed: {', '.join(allowed)}")
        params = cls(**body)
        counts = [params.accounts, params.tasks, params.users, params.deleted,
                  *(v for v in (params.contacts, params.opportunities, params.cases, params.case_comments) if v)]
        if any(not isinstance(c, int) or c < 0 for c in counts):
            raise ValueError("counts must be whole numbers >= 0")
        if not 0 <= params.jira_linked <= 1:
            raise ValueError(f"jira_linked is a share between 0 and 1, got {params.jira_linked}")
        return params


class Generator:
    def __init__(self, org: Org, params: SeedParams) -> None:
        self.org = org
        self.p = params
        self.rng = random.Random(params.seed)
        self.now = org.clock.now_ms()
        self.out: list[tuple[str, Record]] = []

    def pick(self, items: tuple[Any, ...] | list[Any]) -> Any:
        return items[self.rng.randrange(len(items))]

    def maybe(self, value: Any, null_share: float = 0.15) -> Any:
        return None if self.rng.random() < null_share else value

    def record(self, sobject: str, **values: Any) -> Record:
        obj = self.org.schema.objects[sobject]
        record: Record = {name: None for name in obj.fields}
        record.update(values, Id=self.org.new_id(sobject), IsDeleted=False, CreatedById=INTEGRATION_USER_ID,
                      LastModifiedById=INTEGRATION_USER_ID)
        compute_fields(obj, record)
        if "OwnerId" in record and record["OwnerId"] is None:
            record["OwnerId"] = INTEGRATION_USER_ID
        self.out.append((sobject, record))
        return record

    def person(self) -> tuple[str, str]:
        first = self.pick(FIRST_NAMES)
        if first == "Amélie" and self.rng.random() < 0.5:
            first = unicodedata.normalize("NFD", first)  # the same name with a combining accent
        return first, self.pick(LAST_NAMES)

    def email(self, first: str, last: str, n: int) -> str:
        local = "".join(c for c in unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
                        if c.isalnum() or c == ".").strip(".").lower() or "contact"
        return f"{local}.{n}@example.com"

    def company(self) -> str:
        name = f"{self.pick(COMPANY_WORDS)} {self.pick(COMPANY_WORDS)} {self.pick(COMPANY_SUFFIXES)}"
        return f"{self.pick(EMOJI)} {name}" if self.rng.random() < 0.1 else name

    def run(self) -> dict[str, Any]:
        p = self.p
        users = [INTEGRATION_USER_ID] + [self.user(n)["Id"] for n in range(p.users)]
        accounts = [self.account(users) for _ in range(p.accounts)]
        contacts_of: dict[str, list[str]] = {a["Id"]: [] for a in accounts}
        for n in range(p.accounts * 2 if p.contacts is None else p.contacts):
            contact = self.contact(accounts, n)
            if contact["AccountId"]:
                contacts_of[contact["AccountId"]].append(contact["Id"])
        opportunities = [self.opportunity(accounts, users, n)
                         for n in range(p.accounts if p.opportunities is None else p.opportunities)]
        cases = [self.case(accounts, contacts_of, users, n) for n in range(p.accounts if p.cases is None else p.cases)]
        for _ in range(len(cases) if p.case_comments is None else p.case_comments):
            if cases:
                self.record("CaseComment", ParentId=self.pick(cases)["Id"], CommentBody=self.pick(COMMENTS),
                            IsPublished=self.rng.random() < 0.5)
        targets = [r["Id"] for r in accounts + opportunities + cases]
        for _ in range(p.tasks):
            self.task(targets, users)
        doomed = self.rng.sample(opportunities + cases, min(p.deleted, len(opportunities) + len(cases)))
        return self.finish(doomed)

    def finish(self, doomed: list[Record]) -> dict[str, Any]:
        if len(self.out) > MAX_RECORDS:
            raise ValueError(f"{len(self.out)} records is more than one seed call makes ({MAX_RECORDS})")
        for (_, record), stamp in zip(self.out, self.org.clock.stamps(len(self.out)), strict=True):
            modified = format_datetime(stamp)
            created = stamp - self.rng.randrange(0, 365 * DAY_MS)
            record.update(CreatedDate=format_datetime(created), LastModifiedDate=modified, SystemModstamp=modified)
        for record in doomed:
            record["IsDeleted"] = True
        self.org.remember_clock()
        self.org.store.save(self.out)
        created: dict[str, int] = {}
        for sobject, _ in self.out:
            created[sobject] = created.get(sobject, 0) + 1
        return {"seed": self.p.seed, "created": created, "total": len(self.out), "deleted": len(doomed)}

    # -- one record of each kind ---------------------------------------------------------------
    def user(self, n: int) -> Record:
        first, last = self.person()
        return self.record("User", Username=f"user{n + 1}.{self.p.seed}@example.com", FirstName=first, LastName=last,
                           Email=self.email(first, last, n), Alias=f"u{n + 1}"[:8],
                           IsActive=self.rng.random() < 0.9, Title=self.maybe("Account Executive"))

    def account(self, users: list[str]) -> Record:
        return self.record("Account", Name=self.company(), Industry=self.maybe(self.pick(INDUSTRIES)),
                           Type=self.maybe(self.pick(("Prospect", "Customer - Direct", "Technology Partner"))),
                           Phone=self.maybe(f"+49 30 {self.rng.randrange(1000000, 9999999)}"),
                           Website=self.maybe(f"https://example.com/{self.rng.randrange(10**6)}"),
                           BillingCountry=self.maybe(self.pick(("Germany", "France", "Japan", "Israel", "Brazil"))),
                           NumberOfEmployees=self.maybe(self.rng.randrange(1, 50_000)),
                           AnnualRevenue=self.maybe(float(self.rng.randrange(10**5, 10**9))),
                           OwnerId=self.pick(users))

    def contact(self, accounts: list[Record], n: int) -> Record:
        first, last = self.person()
        account = self.pick(accounts)["Id"] if accounts else None
        return self.record("Contact", FirstName=self.maybe(first, 0.05), LastName=last, AccountId=account,
                           Email=self.maybe(self.email(first, last, n)), Title=self.maybe("Head of IT"))

    def opportunity(self, accounts: list[Record], users: list[str], n: int) -> Record:
        account = self.pick(accounts) if accounts else None
        close = self.now + self.rng.randrange(-180, 180) * DAY_MS
        name = f"{account['Name'][:60] if account else 'Direct'} - {self.pick(PRODUCTS)}"
        return self.record("Opportunity", Name=name, AccountId=account and account["Id"], StageName=STAGES[n % len(STAGES)],
                           Amount=self.maybe(round(self.rng.uniform(1_000, 500_000), 2), 0.1),
                           CloseDate=format_date(close), OwnerId=self.pick(users),
                           Description=self.maybe(f"Opportunity {n + 1}: {self.pick(PRODUCTS).lower()} for "
                                                  f"{self.pick(COMPANY_WORDS)}.", 0.3),
                           Jira_Key__c=f"DEL-{n + 1}" if self.rng.random() < self.p.jira_linked else None)

    def case(self, accounts: list[Record], contacts_of: dict[str, list[str]], users: list[str], n: int) -> Record:
        account = self.pick(accounts)["Id"] if accounts else None
        contacts = contacts_of.get(account or "", [])
        number = f"{999 + self.org.next_sequence('Case.CaseNumber'):08d}"
        return self.record("Case", CaseNumber=number, Subject=self.pick(CASE_SUBJECTS),
                           Description=self.maybe(f"{self.pick(COMMENTS)}\n\nReported by \"{self.pick(FIRST_NAMES)}\"."),
                           Priority=self.pick(("High", "Medium", "Low")),
                           Status=self.pick(("New", "Working", "Escalated", "Closed")),
                           Origin=self.maybe(self.pick(("Phone", "Email", "Web"))), AccountId=account,
                           ContactId=self.pick(contacts) if contacts and self.rng.random() < 0.8 else None,
                           OwnerId=self.pick(users),
                           Jira_Key__c=f"SUP-{n + 1}" if self.rng.random() < self.p.jira_linked else None)

    def task(self, targets: list[str], users: list[str]) -> Record:
        return self.record("Task", WhatId=self.pick(targets) if targets else None, Subject=self.pick(PRODUCTS),
                           Status=self.pick(("Not Started", "In Progress", "Completed")),
                           Priority=self.pick(("High", "Normal", "Low")), OwnerId=self.pick(users),
                           ActivityDate=self.maybe(format_date(self.now + self.rng.randrange(-30, 30) * DAY_MS)))


def seed(org: Org, body: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    result = Generator(org, SeedParams.from_body(body)).run()
    return {**result, "elapsed_ms": round((time.perf_counter() - started) * 1000, 1)}
