"""Must-show 3: auto_heal repairs the healable drift through the sync's own plan and load, by the owner
rules and the delete policies; a second reconciliation finds none of it, and only the drift that needs
a person (a duplicate issue, an issue without a record) is left -- with the reason, in the ledger."""

from __future__ import annotations

import pytest

from tests.e2e_reconcile.recon import Recon
from tests.e2e_reconcile.seed import MAPPING, STALE_KEY, seed_every_category

pytestmark = pytest.mark.e2e

HEALABLE = ("missing_in_jira", "orphan_link", "delete_unapplied", "field_mismatch", "conflict_pending")


def test_auto_heal_closes_the_healable_drift(recon: Recon) -> None:
    seed = seed_every_category(recon)
    ids, keys = seed.ids, seed.keys

    healed = recon.reconcile(MAPPING, auto_heal=True)
    assert healed.found() == seed.expected  # what it found (and healed)
    assert healed.status == "success" and healed.summary["heal"]["finished"]
    # Its writes and decisions are ledgered as a heal (issue 12's audit trail).
    ledger = recon.store.ledger(run_id=recon.store.run_key(MAPPING, healed.dag_run.run_id))
    causes = set(ledger["cause"])
    assert len(ledger) and causes <= {"heal", "conflict", "delete_policy"} and "heal" in causes

    again = recon.reconcile(MAPPING)
    assert {c: again.counts[c] for c in HEALABLE} == dict.fromkeys(HEALABLE, 0)
    assert again.found() == {("duplicate", ids[2], seed.duplicate_issue, None),
                             ("missing_in_salesforce", None, seed.lone_issue, None),
                             ("identity_refused", seed.stale_case, STALE_KEY, "Jira_Key__c")}

    case = {r["Id"]: r for r in recon.sf.query(
        "SELECT Id, Subject, Priority, Jira_Key__c, Jira_Status__c FROM Case")}
    # Field drift went to the side the owner rules say loses it.
    assert case[ids[3]]["Priority"] == "Low"
    description = recon.jira.issue(keys[4], fields="description")["fields"]["description"]
    assert "Edited in Salesforce only" in str(description)
    assert case[ids[5]]["Subject"] == "Subject from Jira" == recon.issue(keys[5])["fields"]["summary"]
    assert case[ids[6]]["Jira_Key__c"] == keys[6]
    # Orphans by the delete policies: jira_deleted flag, salesforce_deleted transition to Done.
    assert case[ids[0]]["Jira_Status__c"] == "Deleted in Jira"
    assert recon.issue(keys[1])["fields"]["status"]["name"] == "Done"
    links = recon.store.links(MAPPING).set_index("sf_id")
    assert (links.loc[ids[0], "state"], links.loc[ids[1], "state"]) == ("deleted_jira", "deleted_sf")
    # Missing in Jira: created through the sync's create path. The record holding a key no issue answers to
    # is refused by the identity rules: left as it is, for a person to correct.
    key = case[seed.new_case]["Jira_Key__c"]
    assert key and links.loc[seed.new_case, "jira_key"] == key
    assert recon.issue(key)["properties"]["sfjira"]["sfid"] == seed.new_case
    assert case[seed.stale_case]["Jira_Key__c"] == STALE_KEY and seed.stale_case not in links.index
    # Every decision is in the ledger, the ones left alone with the reason.
    ledger = recon.store.ledger(run_id=recon.store.run_key(MAPPING, healed.dag_run.run_id))
    decisions = ledger[ledger["action"].isin(["heal", "skip"])]
    assert decisions["action"].value_counts().to_dict() == {"heal": 7, "skip": 3}
    skipped = decisions[decisions["action"] == "skip"].set_index("jira_key")["reason"]
    assert "never deletes one on its own" in skipped[seed.duplicate_issue]
    assert "carries no Salesforce id" in skipped[seed.lone_issue]
    assert "IDENTITY_KEY_NOT_FOUND" in skipped[STALE_KEY]
    writes = ledger[~ledger["action"].isin(["heal", "skip"])]
    assert {"create", "update", "transition"} <= set(writes["action"])

    # Healed through the sync's own bookkeeping: once a person settles the duplicate as its reason says,
    # the next sync run sees only its own echoes.
    recon.jira.ok("DELETE", f"/issue/{seed.duplicate_issue}")
    recon.clear_calls()
    recon.run(MAPPING)
    assert recon.writes() == {"salesforce": {}, "jira": {}}
