"""The `scope` param: "YYYY-MM-DD" reads only what changed since that day on either side, fetches what
those records point at by id and key (so an untouched partner is not drift and a deleted one is), and
leaves older drift to a full reconciliation."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.world import make_cases, make_opportunities
from tests.e2e_reconcile.recon import Recon
from tests.e2e_reconcile.seed import MAPPING, synced_cases

pytestmark = pytest.mark.e2e


def test_changed_since_scope_reads_recent_changes_and_their_counterparts(recon: Recon) -> None:
    ids, keys = synced_cases(recon, 5)
    month_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).isoformat()

    def age(n: int) -> None:
        recon.sf_emulator.admin("POST", "backdate", {"id": ids[n], "SystemModstamp": month_ago})
        recon.jira_emulator.admin("POST", "set_updated", {"key": keys[n], "updated": month_ago})

    recon.sf.update("Case", ids[0], Subject="An old edit nobody synced")
    for n in range(5):
        age(n)
    # Recent: a Jira-side change; a touched record whose issue was deleted; a touched issue whose record
    # was not, and a touched record whose issue was not (each partner is fetched by id or key, or they
    # would look like an issue without a record and an orphan).
    recon.jira.ok("PUT", f"/issue/{keys[1]}", json={"fields": {"priority": {"name": "High"}}})
    recon.jira.ok("DELETE", f"/issue/{keys[2]}")
    recon.sf.update("Case", ids[2], Origin="Phone")
    recon.jira.ok("PUT", f"/issue/{keys[3]}", json={"fields": {"labels": ["touched"]}})
    recon.sf.update("Case", ids[4], Origin="Email")

    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date().isoformat()
    recent = recon.reconcile(MAPPING, scope=yesterday)
    assert recent.found() == {("field_mismatch", ids[1], keys[1], "Priority"), ("orphan_link", ids[2], keys[2], None)}
    # Read: records 2 and 4, issues 1 and 3; fetched: records 1 and 3, issue 4 (issue 2 is gone).
    assert (recent.report["summary"]["sf_records"], recent.report["summary"]["jira_issues"]) == (4, 3)
    assert recent.summary["drift"]["counterparts_fetched"] == {"salesforce": 2, "jira": 1}

    everything = recon.reconcile(MAPPING)
    assert everything.found() == recent.found() | {("field_mismatch", ids[0], keys[0], "Subject")}


def test_mapping_filter_scope_keeps_every_record_that_carries_a_key(recon: Recon) -> None:
    """`salesforce.where` picks the records to sync; a record that left the filter but still carries its
    issue's key is still read (else its issue would look orphaned), one that never matched is not."""
    recon.variant("case_to_bug", "web_cases", [("  jira_key_field: Jira_Key__c\n",
                                                "  where: \"Origin = 'Web'\"\n  jira_key_field: Jira_Key__c\n")])
    web = make_cases(recon.sf, 2, origin="Web")
    make_cases(recon.sf, 1, origin="Phone", prefix="Phone case")
    recon.run("web_cases")
    recon.sf.update("Case", web[0], Origin="Email")  # out of the filter now, still linked

    run = recon.reconcile("web_cases")
    assert run.found() == set()
    assert (run.report["summary"]["sf_records"], run.report["summary"]["pairs"]) == (2, 2)
    assert run.summary["drift"]["counterparts_fetched"] == {"salesforce": 0, "jira": 0}  # read by the query


def test_issues_carrying_ids_of_other_mappings_are_not_in_scope(recon: Recon) -> None:
    """Any issue carrying a Salesforce id is read, but one outside the project and type counts only if
    the id is this mapping's: its `sfjira` property names the mapping, or (no property) the id is of
    the mapping's object -- an epic of the opportunity mapping is not a case's drift."""
    ids, _ = synced_cases(recon, 2)
    opportunities = make_opportunities(recon.sf, 2)
    recon.run("opportunity_to_epic")
    stray = recon.jira.create("DEL", "Task", "Case copied to Delivery", customfield_10050=ids[0])["key"]
    recon.jira.create("DEL", "Task", "About an opportunity", customfield_10050=opportunities[0])

    run = recon.reconcile(MAPPING)
    assert run.found() == {("duplicate", ids[0], stray, None)}
    assert run.report["summary"]["jira_issues"] == 3
