"""The transform as the sync calls it: contracts, rejects, ids and stamps, blocks, the shipped mappings."""

from __future__ import annotations

import pandas as pd
import pytest

from sfjira.exceptions import TransformError
from sfjira.mapping import load_mapping
from sfjira.transform import REJECT_COLUMNS, by_sf_id, differences, engine, to_jira, to_salesforce
from tests.sfjira.mapping.conftest import SHIPPED
from tests.sfjira.transform.conftest import jira_frame, mapping, sf_frame, values


def test_rejected_record_is_held_back_with_every_reason_and_the_rest_lands() -> None:
    m = mapping({"salesforce": "Amount", "jira": "customfield_1", "type": "number"},
                {"salesforce": "CloseDate", "jira": "customfield_2", "type": "date"})
    r = to_jira(m, sf_frame(Amount=["1.5", "x", "2"], CloseDate=["2026-01-01", "2026-02-30", "2026-01-02"]))
    assert list(r.rejects.columns) == REJECT_COLUMNS
    assert r.rejects[["record_id", "field", "code", "value"]].values.tolist() == [
        ["500000000000000001", "Amount", "INVALID_NUMBER", "x"],
        ["500000000000000001", "CloseDate", "INVALID_DATE", "2026-02-30"]]
    assert r.rejects["message"].tolist() == [
        "Salesforce Amount is not a decimal number -- fix: correct Amount in Salesforce, or change `type` of "
        "`Amount` in t.yaml",
        "Salesforce CloseDate is not a calendar date (yyyy-mm-dd) -- fix: correct CloseDate in Salesforce"]
    assert r.rejected_ids == ["500000000000000001"]
    assert list(r.frame.index) == list(r.target.index) == list(r.meta.index) == [
        "500000000000000000", "500000000000000002"]
    assert set(r.rejects["mapping"]) == {"t"} and set(r.rejects["direction"]) == {"sf_to_jira"}


def test_pii_values_never_reach_the_rejects() -> None:
    m = mapping({"salesforce": "Contact.Email", "jira": "customfield_1", "max_length": 5, "on_overflow": "reject"},
                pii=["Contact.Email"])
    r = to_jira(m, sf_frame(**{"Contact.Email": ["ada.lovelace@example.com"]}))
    assert r.rejects["value"].tolist() == ["***"]
    assert "lovelace" not in r.rejects.to_string()


def test_frames_are_keyed_and_shaped_for_the_plan() -> None:
    m = load_mapping(SHIPPED / "case_to_bug.yaml")
    sf = sf_frame(Description=["d"], Priority=["High"], **{"Contact.Email": ["A@x.org"]}, Status=["New"],
                  Fix_Version__c=[None], Jira_Key__c=["SUP-7"],
                  SystemModstamp=pd.to_datetime(["2026-11-28T15:04:05.120Z"], utc=True))
    r = to_jira(m, sf)
    assert r.frame.index.name == "sf_id" and list(r.frame.columns) == ["Subject", "Description", "Priority",
                                                                      "Contact.Email", "Status"]
    assert list(r.target.columns) == ["summary", "description", "priority", "customfield_10054", "status"]
    assert list(r.meta.columns) == ["jira_key", "modified"]
    assert r.meta["jira_key"].tolist() == ["SUP-7"]
    assert str(r.meta["modified"].dtype) == "datetime64[ms, UTC]"
    assert r.meta["modified"].iloc[0] == pd.Timestamp("2026-11-28T15:04:05.120Z")
    assert values(r.target["status"]) == ["To Do"]


def test_jira_side_meta_finds_the_salesforce_id_in_the_field_or_the_property() -> None:
    m = load_mapping(SHIPPED / "case_to_bug.yaml")
    jira = jira_frame(description=[None] * 3, priority=["High"] * 3, fixVersions=[[]] * 3, status=["Done"] * 3,
                      customfield_10050=["500A", None, None], sfid=[None, "500B", None],
                      updated=pd.to_datetime(["2026-11-28T16:04:05.000+01:00"] * 3, utc=True))
    r = to_salesforce(m, jira)
    assert r.frame.index.name == "jira_key"
    assert list(r.meta.columns) == ["jira_id", "sf_id", "modified"]
    assert values(r.meta["sf_id"]) == ["500A", "500B", None]
    assert r.meta["modified"].iloc[0] == pd.Timestamp("2026-11-28T15:04:05Z")
    assert list(by_sf_id(r).index) == ["500A", "500B"]


def test_the_sync_can_compare_both_sides_field_by_field() -> None:
    m = load_mapping(SHIPPED / "case_to_bug.yaml")
    sf = to_jira(m, sf_frame(Subject=["Printer on fire", "Login broken"], Description=["a\r\nb", None],
                             Priority=["High", "Low"], Status=["Working", "New"], **{"Contact.Email": [None, None]}))
    jira = to_salesforce(m, jira_frame(
        summary=["Printer on fire", "Login broken!"], description=["a\nb", None], priority=["Highest", "Low"],
        status=["In Progress", "To Do"], fixVersions=[[], []], customfield_10050=list(sf.frame.index)))
    diff = differences(sf.frame, by_sf_id(jira))
    assert list(diff.columns) == ["Subject", "Description", "Priority", "Status"]
    assert diff.to_dict("index") == {
        "500000000000000000": {"Subject": False, "Description": False, "Priority": False, "Status": False},
        "500000000000000001": {"Subject": True, "Description": False, "Priority": False, "Status": False}}


def test_missing_columns_are_a_contract_error_with_the_fix() -> None:
    m = load_mapping(SHIPPED / "case_to_bug.yaml")
    with pytest.raises(TransformError) as caught:
        to_jira(m, sf_frame(Priority=["High"]))
    assert "lacks column(s) Description, Contact.Email, Status" in str(caught.value)
    assert "salesforce_columns()" in caught.value.fix


def test_unresolved_jira_field_names_are_pointed_out() -> None:
    m = mapping({"salesforce": "Amount", "jira": "Deal Amount", "type": "number", "direction": "both",
                 "owner": "salesforce"})
    with pytest.raises(TransformError, match="resolve_jira_field_names"):
        to_salesforce(m, jira_frame())
    r = to_salesforce(m, jira_frame(**{"Deal Amount": [12.5]}))  # a frame keyed by name works as is
    assert values(r.target["Amount"]) == ["12.5"]


@pytest.mark.parametrize(("ids", "message"), [(["500A", None], "1 row(s) have no `Id`"),
                                              (["500B", "500A", "500B"], "`Id` repeats (500B)")])
def test_ids_must_be_present_and_unique(ids, message) -> None:
    with pytest.raises(TransformError, match=message.replace("(", r"\(").replace(")", r"\)")):
        to_jira(mapping(), pd.DataFrame({"Id": ids, "Subject": ["s"] * len(ids)}))


def test_empty_frames() -> None:
    m = load_mapping(SHIPPED / "opportunity_to_epic.yaml")
    empty = pd.DataFrame({c: pd.Series([], dtype="str") for c in m.salesforce_columns()})
    r = to_jira(m, empty)
    assert len(r.frame) == 0 and list(r.target.columns)[0] == "summary" and r.rejects.empty
    assert len(r.hashes) == 0


def test_many_blocks_give_the_same_result_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    m = mapping({"salesforce": "Amount", "jira": "customfield_1", "type": "number"},
                {"salesforce": "Tags__c", "jira": "labels", "type": "multi-picklist"})
    n = 40
    frame = sf_frame(Subject=[f"s{i}" if i % 7 else "" for i in range(n)],
                     Amount=[str(i) if i % 5 else "bad" for i in range(n)],
                     Tags__c=[f"t{i % 3};a" for i in range(n)])
    whole = to_jira(m, frame)
    monkeypatch.setattr(engine, "BLOCK_ROWS", 6)
    split = to_jira(m, frame)
    pd.testing.assert_frame_equal(split.frame, whole.frame)
    pd.testing.assert_frame_equal(split.target, whole.target)
    pd.testing.assert_frame_equal(split.rejects, whole.rejects)
    assert len(whole.rejects) == 14 and len(whole.rejected_ids) == 12 and len(whole.frame) == n - 12
    pd.testing.assert_series_equal(split.hashes, whole.hashes)
