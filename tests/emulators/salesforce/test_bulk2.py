"""Bulk API 2.0 in the emulator, driven by the stock simple_salesforce `bulk2` client over verified HTTPS,
plus raw calls where the exact status, headers or CSV matter."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceOperationError

from emulators.common.process import EmulatorProcess
from tests.emulators.salesforce.conftest import Rest

JOBS = "/services/data/{version}/jobs"


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def opportunities(sf: Rest, sf_emulator: EmulatorProcess) -> Rest:
    sf_emulator.seed(seed=5, accounts=20, contacts=0, opportunities=1200, cases=0, users=1)
    sf_emulator.clear_calls()
    return sf


def _ingest(sf: Rest, operation: str, data: str, **extra: Any) -> dict[str, Any]:
    created = sf("POST", "/jobs/ingest", json={"operation": operation, "object": "Opportunity", **extra})
    assert created.status_code == 200, created.text
    job = created.json()
    assert job["state"] == "Open" and job["contentUrl"].endswith(f"/jobs/ingest/{job['id']}/batches")
    upload = sf("PUT", f"/jobs/ingest/{job['id']}/batches", data=data.encode(),
                headers={"Content-Type": "text/csv"})
    assert upload.status_code == 201, upload.text
    closed = sf("PATCH", f"/jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    assert closed.json()["state"] == "UploadComplete"
    return dict(job)


def test_query_pages_by_locator_through_the_stock_client(opportunities: Rest, simple_sf: Salesforce,
                                                         sf_emulator: EmulatorProcess) -> None:
    soql = "SELECT Id, Name, Amount, account.name, CloseDate FROM Opportunity"
    pages = list(simple_sf.bulk2.Opportunity.query(soql, max_records=500, wait=0))
    assert [len(rows(p)) for p in pages] == [500, 500, 200]
    first = rows(pages[0])
    assert list(first[0]) == ["Id", "Name", "Amount", "Account.Name", "CloseDate"]  # API names, SELECT order
    ids = {r["Id"] for p in pages for r in rows(p)}
    assert len(ids) == 1200 and all(i.startswith("006") for i in ids)
    calls = sf_emulator.calls()["by_endpoint"]
    assert calls[f"POST {JOBS}/query"] == 1
    assert calls[f"GET {JOBS}/query/{{job_id}}/results"] == 3


def test_results_headers_locator_and_csv_shape(opportunities: Rest) -> None:
    sf = opportunities
    job = sf("POST", "/jobs/query", json={"operation": "query",
                                          "query": "SELECT Id, Name, IsDeleted, Amount FROM Opportunity"}).json()
    assert job["state"] == "UploadComplete" and job["id"].startswith("750") and len(job["id"]) == 18
    early = sf("GET", f"/jobs/query/{job['id']}/results")
    assert early.status_code == 400 and early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    info = sf("GET", f"/jobs/query/{job['id']}").json()
    assert (info["state"], info["numberRecordsProcessed"], info["jobType"]) == ("JobComplete", 1200, "V2Query")

    page = sf("GET", f"/jobs/query/{job['id']}/results", params={"maxRecords": 1000})
    assert page.headers["Content-Type"].startswith("text/csv")
    assert page.headers["Sforce-NumberOfRecords"] == "1000"
    locator = page.headers["Sforce-Locator"]
    assert locator not in ("", "null")
    assert page.text.splitlines()[0] == '"Id","Name","IsDeleted","Amount"'  # every value quoted
    assert {r["IsDeleted"] for r in rows(page.text)} == {"false"}
    again = sf("GET", f"/jobs/query/{job['id']}/results", params={"maxRecords": 1000, "locator": locator})
    assert again.headers["Sforce-NumberOfRecords"] == "200" and again.headers["Sforce-Locator"] == "null"
    # A locator stays valid as long as the job exists: the same set can be read twice.
    assert sf("GET", f"/jobs/query/{job['id']}/results", params={"locator": locator}).text == \
        sf("GET", f"/jobs/query/{job['id']}/results", params={"locator": locator}).text
    bad = sf("GET", f"/jobs/query/{job['id']}/results", params={"locator": "not-a-locator!"})
    assert bad.status_code == 400


def test_nulls_are_empty_and_datetimes_end_in_z(sf: Rest) -> None:
    account = sf.create("Account", Name="Bulk, \"quoted\" name")
    sf.create("Opportunity", Name="No amount", StageName="Prospecting", CloseDate="2026-01-31", AccountId=account)
    job = sf("POST", "/jobs/query", json={
        "query": "SELECT Name, Amount, CreatedDate, Account.Name FROM Opportunity"}).json()
    sf("GET", f"/jobs/query/{job['id']}")
    record = rows(sf("GET", f"/jobs/query/{job['id']}/results").text)[0]
    assert record["Amount"] == "" and record["Account.Name"] == 'Bulk, "quoted" name'
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["CreatedDate"])


def test_query_jobs_refuse_what_bulk_cannot_run(sf: Rest) -> None:
    for soql in ("SELECT COUNT() FROM Opportunity", "SELECT Id FROM Opportunity OFFSET 5",
                 "SELECT Id, (SELECT Id FROM Opportunities) FROM Account"):
        refused = sf("POST", "/jobs/query", json={"query": soql})
        assert refused.status_code == 400, soql
    unknown = sf("POST", "/jobs/query", json={"query": "SELECT Id FROM Nope__c"})
    assert unknown.status_code == 400 and unknown.json()[0]["errorCode"] == "INVALID_TYPE"


def test_query_jobs_count_against_the_daily_allocation(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    sf_emulator.configure(bulk_v2_query_jobs_max=2)
    for _ in range(2):
        assert sf("POST", "/jobs/query", json={"query": "SELECT Id FROM Account"}).status_code == 200
    assert sf("GET", "/limits").json()["DailyBulkV2QueryJobs"] == {"Max": 2, "Remaining": 0}
    refused = sf("POST", "/jobs/query", json={"query": "SELECT Id FROM Account"})
    assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "LIMIT_EXCEEDED"


def test_asynchronous_jobs_stay_in_progress_for_the_configured_polls(opportunities: Rest,
                                                                     sf_emulator: EmulatorProcess) -> None:
    sf_emulator.configure(bulk_job_polls=2)
    job = opportunities("POST", "/jobs/query", json={"query": "SELECT Id FROM Opportunity"}).json()
    states = [opportunities("GET", f"/jobs/query/{job['id']}").json()["state"] for _ in range(3)]
    assert states == ["InProgress", "InProgress", "JobComplete"]


def test_ingest_update_and_upsert_through_the_stock_client(sf: Rest, simple_sf: Salesforce,
                                                           sf_emulator: EmulatorProcess) -> None:
    first = sf.create("Opportunity", Name="One", StageName="Prospecting", CloseDate="2026-02-01", Amount=10)
    second = sf.create("Opportunity", Name="Two", StageName="Prospecting", CloseDate="2026-02-01", Amount=20,
                       Description="keep me")
    sf_emulator.configure(bulk_job_polls=1)  # the client polls until JobComplete
    [result] = simple_sf.bulk2.Opportunity.update(records=[
        {"Id": first, "StageName": "Closed Won", "Amount": "#N/A"},
        {"Id": second, "StageName": "Nonsense", "Amount": "5"},
    ], wait=0)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (2, 1)
    assert sf.get("Opportunity", first)["StageName"] == "Closed Won"
    assert sf.get("Opportunity", first)["Amount"] is None  # #N/A set it to null
    assert sf.get("Opportunity", second)["Amount"] == 20  # the failed row changed nothing

    records = simple_sf.bulk2.Opportunity.get_all_ingest_records(result["job_id"])
    [ok], [failed] = records["successfulRecords"], records["failedRecords"]
    assert (ok["sf__Id"], ok["sf__Created"]) == (first, "false")
    assert failed["sf__Id"] == second
    assert failed["sf__Error"].startswith("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:")
    assert failed["sf__Error"].endswith(":StageName --") and failed["StageName"] == "Nonsense"
    assert records["unprocessedRecords"] == []

    [upserted] = simple_sf.bulk2.Opportunity.upsert(records=[
        {"Jira_Key__c": "SUP-1", "Name": "New", "StageName": "Prospecting", "CloseDate": "2026-03-01"},
        {"Jira_Key__c": "SUP-2", "Name": "Missing close date", "StageName": "Prospecting"},
    ], external_id_field="Jira_Key__c", wait=0)
    assert (upserted["numberRecordsProcessed"], upserted["numberRecordsFailed"]) == (2, 1)
    made = simple_sf.bulk2.Opportunity.get_all_ingest_records(upserted["job_id"])
    assert made["successfulRecords"][0]["sf__Created"] == "true"
    assert made["failedRecords"][0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:")


def test_faults_fail_jobs_and_leave_rows_unprocessed(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    ids = [sf.create("Opportunity", Name=f"O{n}", StageName="Prospecting", CloseDate="2026-02-01")
           for n in range(5)]
    sf_emulator.admin("PUT", "bulk_faults", {"ingest_stop_after": 2, "ingest_times": 1})
    data = "Id,Name\n" + "".join(f"{i},Renamed {n}\n" for n, i in enumerate(ids))
    job = _ingest(sf, "update", data)
    info = sf("GET", f"/jobs/ingest/{job['id']}").json()
    assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == ("Failed", 2, 0)
    assert info["errorMessage"]
    unprocessed = rows(sf("GET", f"/jobs/ingest/{job['id']}/unprocessedrecords/").text)
    assert [r["Id"] for r in unprocessed] == ids[2:]
    assert len(rows(sf("GET", f"/jobs/ingest/{job['id']}/successfulResults/").text)) == 2
    assert sf.get("Opportunity", ids[3])["Name"] == "O3"

    sf_emulator.admin("PUT", "bulk_faults", {"query_failures": 1})
    query = sf("POST", "/jobs/query", json={"query": "SELECT Id FROM Opportunity"}).json()
    assert sf("GET", f"/jobs/query/{query['id']}").json()["state"] == "Failed"


def test_stock_client_raises_on_a_failed_query_job(sf: Rest, simple_sf: Salesforce,
                                                   sf_emulator: EmulatorProcess) -> None:
    sf_emulator.admin("PUT", "bulk_faults", {"query_failures": 1})
    with pytest.raises(SalesforceOperationError, match="Job failure"):
        list(simple_sf.bulk2.Opportunity.query("SELECT Id FROM Opportunity", wait=0))


def test_job_states_abort_close_and_delete(sf: Rest) -> None:
    job = sf("POST", "/jobs/ingest", json={"operation": "insert", "object": "Opportunity"}).json()
    aborted = sf("PATCH", f"/jobs/ingest/{job['id']}", json={"state": "Aborted"})
    assert aborted.json()["state"] == "Aborted"
    again = sf("PATCH", f"/jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    assert again.status_code == 400 and again.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    late = sf("PUT", f"/jobs/ingest/{job['id']}/batches", data=b"Name\nX\n", headers={"Content-Type": "text/csv"})
    assert late.status_code == 400
    assert sf("DELETE", f"/jobs/ingest/{job['id']}").status_code == 204
    assert sf("GET", f"/jobs/ingest/{job['id']}").status_code == 404


def test_ingest_job_refusals(sf: Rest) -> None:
    no_object = sf("POST", "/jobs/ingest", json={"operation": "insert", "object": "Nope__c"})
    assert no_object.status_code == 400 and no_object.json()[0]["errorCode"] == "INVALIDJOB"
    bad_ext = sf("POST", "/jobs/ingest", json={"operation": "upsert", "object": "Opportunity",
                                               "externalIdFieldName": "Name"})
    assert bad_ext.status_code == 400
    job = _ingest(sf, "insert", "Name,Bogus__c\nX,1\n")
    info = sf("GET", f"/jobs/ingest/{job['id']}").json()
    assert info["state"] == "Failed" and "Bogus__c" in info["errorMessage"]


def test_ingest_spends_batches_of_the_daily_allocation(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    sf_emulator.configure(bulk_daily_max=3)
    job = _ingest(sf, "insert", "Name,StageName,CloseDate\nA,Prospecting,2026-01-01\n")
    assert sf("GET", f"/jobs/ingest/{job['id']}").json()["state"] == "JobComplete"
    assert sf("GET", "/limits").json()["DailyBulkApiRequests"] == {"Max": 3, "Remaining": 2}


def test_bulk_calls_are_counted_logged_and_can_be_faulted(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    sf_emulator.set_faults([{"fault": "503", "path": "/jobs/query$", "method": "POST", "times": 1}])
    assert sf("POST", "/jobs/query", json={"query": "SELECT Id FROM Account"}).status_code == 503
    assert sf("POST", "/jobs/query", json={"query": "SELECT Id FROM Account"}).status_code == 200
    logged = [(r["method"], r["path"].split("/jobs/")[-1], r["fault"]) for r in sf_emulator.requests()]
    assert logged[-2:] == [("POST", "query", "503"), ("POST", "query", None)]
