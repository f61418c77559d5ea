"""The real clients against the emulator over verified HTTPS: simple_salesforce given a session from our own
OAuth call, and the Airflow provider's SalesforceHook with its connection from an AIRFLOW_CONN_ variable."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from emulators.common.process import EmulatorProcess
from tests.emulators.salesforce.conftest import Rest

OPPS = "SELECT Id, Name, StageName, Amount, Account.Name, Owner.Email FROM Opportunity"
NEXT_URL = re.compile(r"^/services/data/v62\.0/query/01g[0-9A-Za-z]{15}-(\d+)$")


@pytest.fixture
def seeded(sf: Rest, sf_emulator: EmulatorProcess) -> Rest:
    result = sf_emulator.seed(seed=11, accounts=40, contacts=0, opportunities=5000, cases=0, users=2)
    assert result["created"]["Opportunity"] == 5000
    sf_emulator.clear_calls()
    return sf


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_query_all_pages_through_5000_records(seeded: Rest, simple_sf: Salesforce,
                                              sf_emulator: EmulatorProcess) -> None:
    result = simple_sf.query_all(OPPS)
    records = result["records"]
    assert result["totalSize"] == len(records) == 5000
    assert len({r["Id"] for r in records}) == 5000
    with_account = next(r for r in records if r["Account"] is not None)
    assert with_account["Account"]["attributes"]["type"] == "Account" and with_account["Account"]["Name"]
    assert {r["StageName"] for r in records} >= {"Prospecting", "Closed Won", "Closed Lost"}
    calls = sf_emulator.calls()["by_endpoint"]
    assert calls["GET /services/data/{version}/query"] == 1
    assert calls["GET /services/data/{version}/query/{locator}"] == 2  # 2,000 a page by default
    assert simple_sf.api_usage["api-usage"].used >= 3


def test_batch_size_and_a_stable_cursor_while_writes_happen(seeded: Rest, simple_sf: Salesforce) -> None:
    first = simple_sf.query(f"{OPPS} ORDER BY Name", headers={"Sforce-Query-Options": "batchSize=1000"})
    assert (first["totalSize"], first["done"], len(first["records"])) == (5000, False, 1000)
    match = NEXT_URL.match(first["nextRecordsUrl"])
    assert match is not None and match.group(1) == "1000"

    second_page_id = simple_sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)["records"][0]["Id"]
    seeded("PATCH", f"/sobjects/Opportunity/{second_page_id}", json={"Name": "zzz renamed"})
    again = simple_sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert again["records"][0]["Id"] == second_page_id and again["records"][0]["Name"] != "zzz renamed"
    fresh = simple_sf.query(f"SELECT Name FROM Opportunity WHERE Id = '{second_page_id}'")
    assert fresh["records"][0]["Name"] == "zzz renamed"


def test_query_all_resource_includes_deleted_rows(seeded: Rest, simple_sf: Salesforce) -> None:
    ids = [r["Id"] for r in simple_sf.query("SELECT Id FROM Opportunity ORDER BY Id LIMIT 150")["records"]]
    results = simple_sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(ids)})
    assert all(r["success"] for r in results) and len(results) == 150

    live = simple_sf.query_all("SELECT Id FROM Opportunity")
    everything = simple_sf.query_all("SELECT Id, IsDeleted FROM Opportunity", include_deleted=True)
    assert (live["totalSize"], everything["totalSize"]) == (4850, 5000)
    assert sum(r["IsDeleted"] for r in everything["records"]) == 150
    page = simple_sf.query("SELECT Id FROM Opportunity", include_deleted=True)
    assert NEXT_URL.match(page["nextRecordsUrl"])  # queryAll pages through the same locator resource


def test_airflow_salesforce_hook(seeded: Rest, sf_emulator: EmulatorProcess, sf_token: str, trust_emulator_ca: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SF_EMULATOR", json.dumps(
        {"conn_type": "salesforce", "extra": {"instance_url": sf_emulator.url}}))
    hook = SalesforceHook(salesforce_conn_id="sf_emulator", session_id=sf_token)
    result = hook.make_query("SELECT Id, Account.Name FROM Opportunity")
    assert result["totalSize"] == len(result["records"]) == 5000
    doomed = [r["Id"] for r in result["records"][:10]]
    hook.get_conn().restful("composite/sobjects", method="DELETE", params={"ids": ",".join(doomed)})
    assert hook.make_query("SELECT Id FROM Opportunity")["totalSize"] == 4990
    everything = hook.make_query("SELECT Id, IsDeleted FROM Opportunity", include_deleted=True)
    assert everything["totalSize"] == 5000 and sum(r["IsDeleted"] for r in everything["records"]) == 10
    lost = hook.make_query("SELECT Id FROM Opportunity WHERE StageName = 'Closed Lost'", include_deleted=True)
    assert lost["totalSize"] == 500  # the seed cycles through all ten stages
    fields = hook.get_available_fields("Case")
    assert {"Id", "Subject", "Jira_Key__c", "SystemModstamp", "CaseNumber"} <= set(fields)
    stage = next(f for f in hook.describe_object("Opportunity")["fields"] if f["name"] == "StageName")
    assert stage["restrictedPicklist"] and [p["value"] for p in stage["picklistValues"]][-2:] == [
        "Closed Won", "Closed Lost"]


def test_describe_through_simple_salesforce(sf: Rest, simple_sf: Salesforce) -> None:
    listing = simple_sf.describe()
    assert {o["name"]: o["keyPrefix"] for o in listing["sobjects"]} == {
        "User": "005", "Account": "001", "Contact": "003", "Opportunity": "006", "Case": "500",
        "CaseComment": "00a", "Task": "00T"}
    fields = {f["name"]: f for f in simple_sf.Opportunity.describe()["fields"]}
    wanted = {"name", "type", "length", "nillable", "createable", "updateable", "externalId", "unique",
              "picklistValues", "referenceTo", "relationshipName", "label", "restrictedPicklist"}
    assert all(wanted <= set(f) for f in fields.values())
    key = fields["Jira_Key__c"]
    assert (key["type"], key["length"], key["externalId"], key["unique"], key["nillable"]) == (
        "string", 20, True, True, True)
    assert (fields["AccountId"]["referenceTo"], fields["AccountId"]["relationshipName"]) == (["Account"], "Account")
    assert (fields["OwnerId"]["referenceTo"], fields["OwnerId"]["relationshipName"]) == (["User"], "Owner")
    assert fields["Name"]["nillable"] is False and fields["Amount"]["type"] == "currency"
    assert fields["SystemModstamp"]["createable"] is False and fields["SystemModstamp"]["updateable"] is False
    case = simple_sf.Case.describe()
    assert {"childSObject": "CaseComment", "field": "ParentId", "relationshipName": "CaseComments"}.items() <= \
        next(c for c in case["childRelationships"] if c["childSObject"] == "CaseComment").items()


def test_single_upsert_with_simple_salesforce(sf: Rest, simple_sf: Salesforce) -> None:
    assert simple_sf.Case.upsert("Jira_Key__c/SUP-100", {"Subject": "New from Jira", "Status": "Working"}) == 201
    assert simple_sf.Case.upsert("Jira_Key__c/SUP-100", {"Subject": "Edited in Jira"}) == 200
    record = simple_sf.Case.get_by_custom_id("Jira_Key__c", "SUP-100")
    assert (record["Subject"], record["Status"]) == ("Edited in Jira", "Working")


def collection(simple_sf: Salesforce, method: str, path: str, records: list[dict[str, Any]],
               all_or_none: bool = False) -> list[dict[str, Any]]:
    return simple_sf.restful(path, method=method, json={"allOrNone": all_or_none, "records": records})  # type: ignore[return-value]


def test_collections_create_update_upsert_with_partial_failure(sf: Rest, simple_sf: Salesforce) -> None:
    created = collection(simple_sf, "POST", "composite/sobjects", [
        {"attributes": {"type": "Case"}, "Subject": "one", "Jira_Key__c": "SUP-1"},
        {"attributes": {"type": "Case"}, "Subject": "two", "Priority": "Urgent"},
        {"attributes": {"type": "Case"}, "Subject": "three"},
    ])
    assert [r["success"] for r in created] == [True, False, True]
    assert created[1] == {"id": None, "success": False, "errors": [{
        "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "message": "Priority: bad value for restricted picklist field: Urgent", "fields": ["Priority"]}]}
    one, three = created[0]["id"], created[2]["id"]

    updated = collection(simple_sf, "PATCH", "composite/sobjects", [
        {"attributes": {"type": "Case"}, "id": one, "Status": "Escalated"},
        {"attributes": {"type": "Case"}, "id": three, "Jira_Key__c": "SUP-1"},  # duplicate external id
    ])
    assert updated[0] == {"id": one, "success": True, "errors": []}
    assert updated[1]["id"] == three and updated[1]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert simple_sf.Case.get(one)["Status"] == "Escalated"

    upserted = collection(simple_sf, "PATCH", "composite/sobjects/Case/Jira_Key__c", [
        {"attributes": {"type": "Case"}, "Jira_Key__c": "SUP-1", "Subject": "one (edited)"},
        {"attributes": {"type": "Case"}, "Jira_Key__c": "SUP-2", "Subject": "brand new"},
        {"attributes": {"type": "Case"}, "Jira_Key__c": "SUP-3", "Status": "Done"},
    ])
    assert upserted[0] == {"id": one, "success": True, "errors": [], "created": False}
    assert upserted[1]["success"] and upserted[1]["created"] is True
    assert upserted[2]["success"] is False and upserted[2]["errors"][0]["fields"] == ["Status"]
    assert simple_sf.query("SELECT COUNT() FROM Case")["totalSize"] == 3


def test_collections_all_or_none_rolls_everything_back(sf: Rest, simple_sf: Salesforce) -> None:
    rolled = "Record rolled back because not all records were valid and the request was using AllOrNone header"
    results = collection(simple_sf, "POST", "composite/sobjects", [
        {"attributes": {"type": "Account"}, "Name": "Kept? no"},
        {"attributes": {"type": "Contact"}, "FirstName": "No last name"},
    ], all_or_none=True)
    assert results == [
        {"id": None, "success": False, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                                   "message": rolled, "fields": []}]},
        {"id": None, "success": False, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING",
                                                   "message": "Required fields are missing: [LastName]",
                                                   "fields": ["LastName"]}]},
    ]
    assert simple_sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0

    keep = sf.create("Case", Subject="keep", Jira_Key__c="SUP-9")
    upserted = collection(simple_sf, "PATCH", "composite/sobjects/Case/Jira_Key__c", [
        {"attributes": {"type": "Case"}, "Jira_Key__c": "SUP-9", "Subject": "changed"},
        {"attributes": {"type": "Case"}, "Jira_Key__c": "SUP-10", "Priority": "Whenever"},
    ], all_or_none=True)
    assert upserted[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert simple_sf.Case.get(keep)["Subject"] == "keep"
    deleted = simple_sf.restful("composite/sobjects", method="DELETE",
                                params={"ids": f"{keep},001bad", "allOrNone": "true"})
    assert [e["statusCode"] for r in deleted for e in r["errors"]] == ["ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                                                       "MALFORMED_ID"]
    assert simple_sf.Case.get(keep)["IsDeleted"] is False


def test_collections_reject_more_than_200_records(sf: Rest, simple_sf: Salesforce) -> None:
    response = sf("POST", "/composite/sobjects", json={"records": [
        {"attributes": {"type": "Account"}, "Name": f"A{n}"} for n in range(201)]})
    assert response.status_code == 400
    assert response.json() == [{"message": "record limit reached. cannot submit more than 200 records into this call",
                                "errorCode": "EXCEEDED_ID_LIMIT", "fields": []}]
    ok = collection(simple_sf, "POST", "composite/sobjects",
                    [{"attributes": {"type": "Account"}, "Name": f"A{n}"} for n in range(200)])
    assert len(ok) == 200 and all(r["success"] for r in ok)
    ids = [r["id"] for r in ok[:3]]
    fetched = simple_sf.restful("composite/sobjects/Account", params={"ids": ",".join(ids), "fields": "Name"})
    assert [r["Name"] for r in fetched] == ["A0", "A1", "A2"]


def test_updated_and_deleted_feeds(sf: Rest, sf_emulator: EmulatorProcess, simple_sf: Salesforce) -> None:
    now = utc_now()
    kept, gone = sf.create("Case", Subject="kept"), sf.create("Case", Subject="gone")
    assert sf("DELETE", f"/sobjects/Case/{gone}").status_code == 204
    # move both writes a few minutes back, so the minute-granular window surely covers them
    kept_stamp = (now - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    gone_stamp = (now - dt.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    sf_emulator.admin("POST", "backdate", {"id": kept, "SystemModstamp": kept_stamp})
    deleted_date = sf_emulator.admin("POST", "backdate", {"id": gone, "SystemModstamp": gone_stamp})["SystemModstamp"]

    updated = simple_sf.Case.updated(now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))
    assert kept in updated["ids"] and gone not in updated["ids"]
    covered = dt.datetime.strptime(updated["latestDateCovered"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert covered <= utc_now() and covered.second == 0

    feed = simple_sf.Case.deleted(now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))
    assert feed["deletedRecords"] == [{"id": gone, "deletedDate": deleted_date}]
    earliest = dt.datetime.strptime(feed["earliestDateAvailable"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert dt.timedelta(days=14, hours=23) < utc_now() - earliest < dt.timedelta(days=15, minutes=2)
    narrow = simple_sf.Case.deleted(now - dt.timedelta(minutes=25), now - dt.timedelta(minutes=21))
    assert narrow["deletedRecords"] == []


def test_deleted_feed_has_a_15_day_reach(sf: Rest, sf_emulator: EmulatorProcess, simple_sf: Salesforce) -> None:
    start = utc_now() - dt.timedelta(hours=1)
    assert simple_sf.Case.deleted(start, utc_now())["deletedRecords"] == []
    sf_emulator.admin("POST", "time_travel", {"advance_s": 16 * 86400})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        simple_sf.Case.deleted(start, utc_now() + dt.timedelta(days=16))
    assert caught.value.content == [{"message": "startDate cannot be more than 15 days ago",
                                     "errorCode": "INVALID_REPLICATION_DATE", "fields": []}]
    later = utc_now() + dt.timedelta(days=2)
    assert simple_sf.Case.deleted(later, later + dt.timedelta(days=1))["deletedRecords"] == []
    with pytest.raises(SalesforceMalformedRequest) as caught:
        simple_sf.Case.updated(later, later)
    assert caught.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"
