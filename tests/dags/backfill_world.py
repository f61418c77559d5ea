"""What both backfill tests (LocalExecutor: test_backfill_cli.py, CeleryExecutor: test_backfill_celery.py)
set up and read: Opportunities whose SystemModstamp is backdated into the windows to backfill, and the
Jira issues of the `DEL` project by the Salesforce id they carry (more than one per id is a duplicate)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import requests

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import JiraRest
from emulators.salesforce.testing import access_token


def backdated_opportunities(sf_emulator: EmulatorProcess, stamps: Sequence[dt.datetime], *,
                            seed: int) -> tuple[list[str], Callable[[], list[dict]]]:
    """Seed one Opportunity per stamp, each changed at its stamp; their ids and a reader of (Id, Jira_Key__c)."""
    sf_emulator.reset()
    sf_emulator.seed(seed=seed, accounts=6, opportunities=len(stamps), contacts=0, cases=0, case_comments=0)
    headers = {"Authorization": f"Bearer {access_token(sf_emulator.url, sf_emulator.ca_bundle)}"}
    base = f"{sf_emulator.url}/services/data/v62.0"

    def opportunities() -> list[dict]:
        return requests.get(f"{base}/query", params={"q": "SELECT Id, Jira_Key__c FROM Opportunity ORDER BY Id"},
                            headers=headers, verify=sf_emulator.ca_bundle, timeout=30).json()["records"]

    ids = [r["Id"] for r in opportunities()]
    for record_id, stamp in zip(ids, stamps, strict=True):
        sf_emulator.admin("POST", "backdate", {"id": record_id, "SystemModstamp": stamp.isoformat()})
    return ids, opportunities


def issues_by_sfid(jira_emulator: EmulatorProcess) -> dict[str, list[str]]:
    """The `DEL` project's issue keys per Salesforce id (customfield_10050)."""
    rest = JiraRest(jira_emulator.url, jira_emulator.ca_bundle)
    found = rest.ok("GET", "/search/jql", params={"jql": "project = DEL", "fields": "customfield_10050",
                                                  "maxResults": 100})
    out: dict[str, list[str]] = {}
    for issue in found["issues"]:
        out.setdefault(issue["fields"]["customfield_10050"], []).append(issue["key"])
    return out
