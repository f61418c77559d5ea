"""Must-show 2: a cleanly synced set of records of mixed types shows zero drift -- formatting is never drift.

5,000 opportunities (set SFJIRA_RECON_E2E_N for another count) are made through the Salesforce API
with emoji, RTL, combining and ZWJ text, CRLF descriptions, currency values with and without cents,
close dates on and around both 2026 DST changes and every stage, and synced by the real sync DAG
in two halves: one while the Jira server's clock reads the last minutes of summer time in the API
user's zone (Europe/Berlin), one just after it ended, so the issues' stamps straddle the change. The reconciliation DAG then compares every field of every pair.
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.world import STAGES, account_and_contact
from tests.e2e_reconcile.recon import Recon

pytestmark = pytest.mark.e2e

N = int(os.environ.get("SFJIRA_RECON_E2E_N", "5000"))
MAPPING = "opportunity_to_epic"
NAMES = ["Printer on fire \U0001F525", "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd (RTL)", "Cafe\u0301 cre\u0300me",
         "family \U0001F468\u200d\U0001F469\u200d\U0001F467 deal", "\u00dcn\u00efc\u00f8d\u00e9 \u2713",
         "\u0645\u0631\u062d\u0628\u0627 123", "plain ascii", "thumbs \U0001F44D\U0001F3FD"]
AMOUNTS = [1234567.89, 0.1, 100.0, 99999999.99, -5.5, 0.01, 42, None]
DATES = ["2026-03-28", "2026-03-29", "2026-03-30", "2026-10-24", "2026-10-25", "2026-10-26", "2024-02-29"]
DESCRIPTIONS = [None, "One line", "First line\r\nsecond line\r\n\r\nnew paragraph \u05e9\u05dc\u05d5\u05dd",
                "tabs\tand  double  spaces, <b>markup</b> & \"quotes\""]
# Berlin leaves summer time at 01:00 UTC on 2026-10-25: the halves are synced either side of it.
JIRA_CLOCK = ("2026-10-25T00:55:00Z", "2026-10-25T01:05:00Z")


def _opportunities(accounts: list[str], numbers: range) -> list[dict[str, object]]:
    return [{"Name": f"{NAMES[i % len(NAMES)]} #{i}", "AccountId": accounts[i % len(accounts)],
             "StageName": STAGES[i % len(STAGES)], "Amount": AMOUNTS[i % len(AMOUNTS)],
             "CloseDate": DATES[i % len(DATES)], "Description": DESCRIPTIONS[i % len(DESCRIPTIONS)]}
            for i in numbers]


def test_cleanly_synced_mixed_records_show_zero_drift(recon: Recon, monkeypatch: pytest.MonkeyPatch) -> None:
    # Parts and buckets of 1,000 here (the worlds' default of 4 is for their few records): the sync and the
    # compare still go part by part and bucket by bucket, without thousands of files.
    monkeypatch.setenv("AIRFLOW__SFJIRA__PART_RECORDS", "1000")
    accounts = [account_and_contact(recon.sf, name)[0]
                for name in ("Acme \u05e9\u05dc\u05d5\u05dd", "Cafe\u0301 GmbH", "\U0001F3E2 Towers")]
    for clock, numbers in zip(JIRA_CLOCK, (range(N // 2), range(N // 2, N)), strict=True):
        recon.sf.create_many("Opportunity", _opportunities(accounts, numbers))
        recon.jira_emulator.configure(now=clock)
        recon.run(MAPPING, full=True)
    stamps = {issue["fields"]["created"][-5:] for issue in recon.issues("project = DEL", "created")}
    run = recon.reconcile(MAPPING)

    assert run.counts == dict.fromkeys(run.counts, 0), run.rows.head(20).to_dict("records")
    summary = run.report["summary"]
    assert (summary["sf_records"], summary["jira_issues"], summary["pairs"]) == (N, N, N)
    assert summary["fields_compared"] == 7 and summary["rejected_records"] == 0
    assert "No drift" in run.html.read_text(encoding="utf-8")
    assert stamps == {"+0200", "+0100"}  # Berlin summer and winter time
