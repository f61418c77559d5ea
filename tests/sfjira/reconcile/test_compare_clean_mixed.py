"""5,000 cleanly synced records of mixed types show zero drift: formatting is never drift.

Each side is written in its own API's formats, independently of the transform: Salesforce date-times
in +0000 and Jira's in the API user's Europe/Berlin offset across both 2026 DST changes, currency as
JSON floats (1234567.89) against Jira's numbers (100 vs 100.0), CRLF text against ADF, ";"-joined
multi-picklists against lists in another order, options and statuses in Jira's vocabulary, emails in
other case and padding, emoji, RTL, combining and ZWJ text.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sfjira.mapping import Mapping, load_mapping
from sfjira.reconcile import compare
from tests.sfjira.reconcile import world

MIXED = Path(__file__).with_name("mixed_mapping.yaml")

N = 5_000
BERLIN_DST = (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC))
TEXTS = ["Printer on fire \U0001F525", "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd (RTL)",
         "Cafe\u0301 cre\u0300me", "family \U0001F468\u200d\U0001F469\u200d\U0001F467 ok", "\u00dcn\u00efc\u00f8d\u00e9 \u2713",
         "thumbs \U0001F44D\U0001F3FD", "plain ascii", "\u0645\u0631\u062d\u0628\u0627 123"]
AMOUNTS = [1234567.89, 0.1, 100.0, 99999999.99, -5.5, 1e-05, 0.30000000000000004, 42.0, None]
DATES = ["2026-03-29", "2026-10-25", "2024-02-29", "2026-12-31", None]
STATUS = {"New": "To Do", "Working": "In Progress", "Escalated": "In Review", "Closed": "Done"}
TAGS = [("gold", "renewal"), ("renewal",), ("upsell", "gold", "new"), ()]


def _instant(rng: random.Random) -> datetime:
    """Within 3 hours of either DST change, at millisecond precision."""
    edge = rng.choice(BERLIN_DST)
    return edge + timedelta(milliseconds=rng.randint(-3 * 3_600_000, 3 * 3_600_000))


def _sf_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _berlin_text(moment: datetime) -> str:
    """Jira's format in the API user's zone: +0100 in winter, +0200 in summer."""
    summer = BERLIN_DST[0] <= moment < BERLIN_DST[1]
    local = moment.astimezone(timezone(timedelta(hours=2 if summer else 1)))
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


def _jira_number(value: float | None) -> float | int | None:
    return int(value) if value is not None and value == int(value) else value  # Jira prints 100, not 100.0


def _pair(n: int, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    sf_id, key = f"500Mx{n:013d}", f"SUP-{n}"
    subject = f"{rng.choice(TEXTS)} #{n}"
    multiline = rng.random() < 0.1
    description = rng.choice([None, f"{rng.choice(TEXTS)}\n\nsecond paragraph\nhard break"])
    amount, discount = rng.choice(AMOUNTS), rng.choice([12.5, 0.0, 7.25, 100.0, None])
    review, modified = _instant(rng), _instant(rng)
    approved = rng.choice([True, False, None])
    units = rng.randint(0, 10_000)
    priority, status, tags = rng.choice(["High", "Medium", "Low"]), rng.choice(list(STATUS)), rng.choice(TAGS)
    account = rng.choice([None, "Acme \u05e9\u05dc\u05d5\u05dd", "Cafe\u0301 GmbH", "\U0001F3E2 Towers"])
    versions = rng.choice([["1.0", "1.1"], ["2.0"], []])
    record = world.sf_record(
        sf_id, SystemModstamp=_sf_text(modified), Jira_Key__c=key, Jira_Url__c=None,
        Subject=subject.replace(" #", "\n#", 1) if multiline else subject,
        Description=description.replace("\n", "\r\n") if description else None,
        Amount__c=amount, Close_Date__c=rng.choice(DATES), Review_At__c=_sf_text(review), Approved__c=approved,
        Units__c=float(units), Priority=priority,
        **{"Contact.Email": f"  User{n}.Z\u00f6e@Example.COM ", "Account.Name": account},
        Tags__c=";".join(reversed(tags)) or None, Fix_Version__c="; ".join(reversed(versions)) or None,
        Discount__c=discount, Status=status)
    issue = world.jira_issue(
        20_000 + n, key, sfid=sf_id, mapping_name="recon_mixed", updated=_berlin_text(modified),
        customfield_10050=sf_id, summary=subject, description=description,
        customfield_10052=_jira_number(amount), customfield_10053=record["Close_Date__c"],
        customfield_10060=_berlin_text(review),
        customfield_10061=None if approved is None else ("Yes" if approved else "No"),
        customfield_10062=units, priority={"High": rng.choice(["High", "Highest"])}.get(priority, priority),
        customfield_10054=f"user{n}.z\u00f6e@example.com", labels=list(tags), fixVersions=versions,
        customfield_10051=account, customfield_10063=_jira_number(discount), status=STATUS[status])
    return record, issue


@pytest.fixture(scope="module")
def mixed() -> tuple[Mapping, Any, Any, Any, Any]:
    mapping = load_mapping(MIXED)
    rng = random.Random(20260329)
    pairs = [_pair(n, rng) for n in range(1, N + 1)]
    sf = world.sf_frame(mapping, [p[0] for p in pairs])
    jira = world.jira_frame(mapping, [p[1] for p in pairs])
    links = world.links_frame((p[0]["Id"], p[1]["id"], p[1]["key"]) for p in pairs)
    return mapping, sf, jira, links, world.synced_state(mapping, sf, jira)


def test_five_thousand_clean_pairs_show_zero_drift(mixed: tuple) -> None:
    mapping, sf, jira, links, synced = mixed
    result = compare(mapping, sf, jira, links, synced_state=synced)
    assert result.rows.head(20).to_dict("records") == []
    assert (result.pairs, result.sf_records, result.jira_issues) == (N, N, N)
    assert len(result.fields) == 14 and len(result.rejects) == 0


def test_the_same_set_finds_one_real_change(mixed: tuple) -> None:
    """The zero above is not blindness: one instant moved by a millisecond is found."""
    mapping, sf, jira, links, synced = mixed
    changed = jira.copy()
    first = changed.loc[0, "customfield_10060"]
    changed.loc[0, "customfield_10060"] = first[:20] + str((int(first[20:23]) + 1) % 1000).zfill(3) + first[23:]
    result = compare(mapping, sf, changed, links, synced_state=synced)
    assert result.rows[["category", "jira_key", "field"]].values.tolist() == [
        ["field_mismatch", "SUP-1", "Review_At__c"]]
