"""The plan as a pure function over frames: extracted records and issues + the state store's links and
agreed hashes in, one action per record, direction and field out. No API, no state store."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sfjira.identity.rules import REFUSED_COLUMNS
from sfjira.mapping import Mapping, load_mapping
from sfjira.sync.plan import build_plan
from tests.sfjira.mapping.conftest import SHIPPED
from tests.sfjira.reconcile.world import (
    jira_frame,
    jira_issue,
    links_frame,
    sf_frame,
    sf_record,
    synced_state,
)

NO_DELETES = pd.DataFrame({"Id": pd.Series(dtype=object)})
NO_LINKS = links_frame([])
OPP_A, OPP_B = "006000000000001AAA", "006000000000002AAA"


@pytest.fixture(scope="module")
def opportunities() -> Mapping:
    return load_mapping(SHIPPED / "opportunity_to_epic.yaml")


def _opportunity(sf_id: str, name: str, **extra: object) -> dict:
    return sf_record(sf_id, "Opportunity", Name=name, Description="Line one", Amount=1200.5,
                     CloseDate="2026-12-31", StageName="Prospecting", **{"Account.Name": "Acme"}, **extra)


def _epic(issue_id: int, key: str, sf_id: str, summary: str) -> dict:
    return jira_issue(issue_id, key, sfid=sf_id, mapping_name="opportunity_to_epic", summary=summary,
                      status="To Do", customfield_10050=sf_id)


def _plan(mapping: Mapping, records: list[dict], issues: list[dict], links: pd.DataFrame,
          synced: pd.DataFrame | None = None, refused: pd.DataFrame | None = None):  # noqa: ANN202
    sf, jira = sf_frame(mapping, records), jira_frame(mapping, issues)
    stored = synced if synced is not None else pd.DataFrame(columns=["sf_id", "direction", "hash", "field_hashes"])
    return build_plan(mapping, sf, NO_DELETES, jira, links, stored, run_id="r1", refused=refused)


def test_a_new_record_is_created_with_its_mapped_fields(opportunities: Mapping) -> None:
    plan = _plan(opportunities, [_opportunity(OPP_A, "Big deal")], [], NO_LINKS)
    creates = plan.tables["jira_create"]
    assert creates["sf_id"].tolist() == [OPP_A]
    fields = json.loads(creates.loc[0, "fields"])
    assert fields["summary"] == "Big deal" and fields["customfield_10050"] == OPP_A
    assert plan.counts()["jira_update"] == 0


def test_an_unchanged_linked_record_is_an_echo_and_writes_nothing(opportunities: Mapping) -> None:
    records, issues = [_opportunity(OPP_A, "Big deal")], [_epic(1, "DEL-1", OPP_A, "Big deal")]
    agreed = synced_state(opportunities, sf_frame(opportunities, records), jira_frame(opportunities, issues))
    plan = _plan(opportunities, records, issues, links_frame([(OPP_A, "1", "DEL-1")]), agreed)
    counts = plan.counts()
    assert (counts["jira_create"], counts["jira_update"], counts["sf_update"]) == (0, 0, 0)


def test_a_field_changed_in_salesforce_updates_only_that_field(opportunities: Mapping) -> None:
    before, issues = [_opportunity(OPP_A, "Big deal")], [_epic(1, "DEL-1", OPP_A, "Big deal")]
    agreed = synced_state(opportunities, sf_frame(opportunities, before), jira_frame(opportunities, issues))
    plan = _plan(opportunities, [_opportunity(OPP_A, "Bigger deal")], issues, links_frame([(OPP_A, "1", "DEL-1")]),
                 agreed)
    update = plan.tables["jira_update"]
    assert update[["sf_id", "jira_key"]].values.tolist() == [[OPP_A, "DEL-1"]]
    assert json.loads(update.loc[0, "fields"]) == {"summary": "Bigger deal"}


def test_a_record_carrying_its_issue_key_is_adopted_not_created_again(opportunities: Mapping) -> None:
    plan = _plan(opportunities, [_opportunity(OPP_A, "Big deal", Jira_Key__c="DEL-7")], [], NO_LINKS)
    assert plan.tables["adopt"][["sf_id", "jira_key"]].values.tolist() == [[OPP_A, "DEL-7"]]
    assert plan.counts()["jira_create"] == 0


def test_a_refused_claim_is_left_out_of_every_table_and_rejected(opportunities: Mapping) -> None:
    refused = pd.DataFrame([{"side": "salesforce", "record_id": OPP_A, "sf_id": OPP_A, "jira_key": "SUP-1",
                             "code": "IDENTITY_KEY_OTHER_PROJECT", "field": "Jira_Key__c", "value": "SUP-1",
                             "message": "SUP-1 is not in DEL", "fix": "clear Jira_Key__c"}])[REFUSED_COLUMNS]
    records = [_opportunity(OPP_A, "Big deal", Jira_Key__c="SUP-1"), _opportunity(OPP_B, "Other deal")]
    plan = _plan(opportunities, records, [], NO_LINKS, refused=refused)
    for name, table in plan.tables.items():
        if name != "rejects" and "sf_id" in table.columns:
            assert OPP_A not in set(table["sf_id"]), name
    assert plan.tables["jira_create"]["sf_id"].tolist() == [OPP_B]
    rejects = plan.tables["rejects"]
    assert rejects.loc[rejects["record_id"] == OPP_A, "code"].tolist() == ["IDENTITY_KEY_OTHER_PROJECT"]


def test_confirmed_jira_deletions_of_linked_records_get_the_policy(opportunities: Mapping) -> None:
    """The webhook-reported deletions the extract took (sfjira.sync.jira_deleted): only the confirmed ones of
    records still actively linked, and not deleted in Salesforce too, are planned."""
    opp_c, opp_d = "006000000000003AAA", "006000000000004AAA"
    links = pd.concat([links_frame([(OPP_A, "10001", "DEL-1"), (OPP_B, "10002", "DEL-2"), (opp_c, "10003", "DEL-3")]),
                       links_frame([(opp_d, "10004", "DEL-4")]).assign(state="deleted_jira")], ignore_index=True)
    reported = pd.DataFrame({"sf_id": [OPP_A, OPP_B, opp_c, opp_d], "verdict": ["gone", "exists", "gone", "gone"]})
    sf_deleted = pd.DataFrame({"Id": [opp_c]})
    plan = build_plan(opportunities, sf_frame(opportunities, []), sf_deleted, jira_frame(opportunities, []), links,
                      pd.DataFrame(columns=["sf_id", "direction", "hash", "field_hashes"]), jira_deleted=reported)
    table = plan.tables["jira_deleted"]
    assert table.to_dict("records") == [{"sf_id": OPP_A, "jira_key": "DEL-1", "action": "clear_key", "field": None,
                                         "value": None}]
    assert plan.counts()["jira_deleted"] == 1
    assert build_plan(opportunities, sf_frame(opportunities, []), NO_DELETES, jira_frame(opportunities, []), links,
                      pd.DataFrame(columns=["sf_id", "direction", "hash", "field_hashes"])).counts()["jira_deleted"] == 0
