"""SalesforceSyncHook's Bulk API 2.0 path against the emulator process: query sets paged by locator and
typed like REST pages, ingest results in input order, unprocessed rows sent again, and a job resumed by id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from emulators.common.process import EmulatorProcess
from sfjira.exceptions import ApiError
from sfjira.hooks.salesforce import SalesforceSyncHook, records_to_frame
from sfjira.hooks.salesforce_bulk import BulkSettings, parse_error

JOBS = "/services/data/v62.0/jobs"
FAST = BulkSettings(poll_start=0.01, poll_max=0.05, timeout=30, query_page=400)


@pytest.fixture
def sf(sf_emulator: EmulatorProcess, sf_conn) -> Iterator[SalesforceSyncHook]:  # noqa: ANN001
    sf_emulator.reset()
    sf_emulator.clear_faults()
    sf_emulator.admin("PUT", "bulk_faults", {"clear": True})
    hook = SalesforceSyncHook(sf_conn())
    hook.bulk.settings = FAST
    yield hook
    sf_emulator.configure(bulk_job_polls=0)


def _opportunities(sf: SalesforceSyncHook, count: int, **fields: Any) -> list[str]:
    records = [{"Name": f"Bulk {n}", "StageName": "Prospecting", "CloseDate": "2026-05-01",
                "Jira_Key__c": f"BULK-{n}", **fields} for n in range(count)]
    results = sf.upsert_collection("Opportunity", "Jira_Key__c", records)
    assert all(r.success for r in results)
    return [str(r.id) for r in results]


def _job_creates(emulator: EmulatorProcess, kind: str) -> int:
    return sum(1 for r in emulator.requests() if r["method"] == "POST" and r["path"].endswith(f"/jobs/{kind}"))


def test_bulk_query_pages_by_locator_and_types_values_like_rest(sf: SalesforceSyncHook,
                                                                sf_emulator: EmulatorProcess) -> None:
    account = sf.create_collection("Account", [{"Name": "Typed Inc", "NumberOfEmployees": 12}])[0].id
    _opportunities(sf, 1000, Amount=12.5, AccountId=account)
    soql = ("SELECT Id, SystemModstamp, Name, Amount, IsDeleted, Description, CloseDate, Account.Name, "
            "Account.NumberOfEmployees FROM Opportunity")
    sf_emulator.configure(bulk_job_polls=2)
    parts = list(sf.bulk_query(soql))
    assert [len(p) for p in parts] == [400, 400, 200]
    frame = pd.concat(parts, ignore_index=True)
    assert frame["Id"].is_unique
    # The same query through REST pages gives the same frame: CSV typed back by the describe.
    rest = records_to_frame(sf.query_pages(soql))
    by_id = {"by": "Id", "ignore_index": True}
    pd.testing.assert_frame_equal(frame.sort_values(**by_id), rest.sort_values(**by_id), check_like=True)
    row = frame.iloc[0]
    assert row["Amount"] == 12.5 and not row["IsDeleted"] and row["Description"] is None
    assert row["CloseDate"] == "2026-05-01" and row["Account.Name"] == "Typed Inc"
    assert row["Account.NumberOfEmployees"] == 12
    assert str(frame["SystemModstamp"].dtype).startswith("datetime64") and "UTC" in str(frame["SystemModstamp"].dtype)
    calls = sf.calls
    assert calls[f"POST {JOBS}/query"] == 1
    assert calls[f"GET {JOBS}/query/{{id}}/results"] == 3
    assert calls[f"GET {JOBS}/query/{{id}}"] == 3  # two polls InProgress, the third JobComplete


def test_bulk_query_with_fields_orders_columns_like_the_rest_extract(sf: SalesforceSyncHook) -> None:
    _opportunities(sf, 3)
    [part] = list(sf.bulk_query("SELECT Id, SystemModstamp, Name FROM Opportunity",
                                fields=["Name", "Account.Name"]))
    assert list(part.columns) == ["Id", "SystemModstamp", "Name", "Account.Name"]


def test_the_result_set_size_is_a_parameter_of_the_query_and_of_its_resumption(sf: SalesforceSyncHook) -> None:
    # The sync's extract asks for sets of `[sfjira] part_records` records: one set in memory is one part.
    _opportunities(sf, 5)
    jobs: list[str] = []
    parts = list(sf.bulk_query("SELECT Id, Name FROM Opportunity", page=2, on_job=jobs.append))
    assert [len(p) for p in parts] == [2, 2, 1]
    again = list(sf.bulk.resume_query(jobs[0], "Opportunity", page=3))
    assert [len(p) for p in again] == [3, 2]
    pd.testing.assert_frame_equal(pd.concat(again, ignore_index=True), pd.concat(parts, ignore_index=True))


def test_bulk_update_maps_results_to_input_order_with_error_codes(sf: SalesforceSyncHook) -> None:
    ids = _opportunities(sf, 4, Amount=7)
    results = sf.bulk_update("Opportunity", [
        {"Id": ids[0], "StageName": "Closed Won", "Amount": None},
        {"Id": ids[1], "StageName": "Nope"},
        {"Id": ids[2], "Name": "x" * 200},
        {"Id": None, "Name": "no id"},
        {"Id": ids[3], "Description": "multi\nline, \"quoted\""},
    ])
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert [r.success for r in results] == [True, False, False, False, True]
    assert results[1].errors[0].code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert results[1].errors[0].fields == ("StageName",) and results[1].id == ids[1]
    assert results[2].errors[0].code == "STRING_TOO_LONG"
    assert results[3].errors[0].code == "MISSING_ID"
    assert results[0].id == ids[0] and results[0].created is False
    page = {r["Id"]: r for r in next(sf.query_pages(
        "SELECT Id, StageName, Amount, Description FROM Opportunity"))}
    assert page[ids[0]]["StageName"] == "Closed Won" and page[ids[0]]["Amount"] is None
    assert page[ids[3]]["Description"] == "multi\nline, \"quoted\""
    assert page[ids[1]]["Amount"] == 7


def test_bulk_upsert_creates_and_updates_and_splits_repeated_keys(sf: SalesforceSyncHook,
                                                                  sf_emulator: EmulatorProcess) -> None:
    _opportunities(sf, 1)  # BULK-0 exists
    sf_emulator.admin("DELETE", "requests")
    results = sf.bulk_upsert("Opportunity", "Jira_Key__c", [
        {"Jira_Key__c": "BULK-0", "Name": "updated"},
        {"Jira_Key__c": "BULK-9", "Name": "created", "StageName": "Prospecting", "CloseDate": "2026-06-01"},
        {"Jira_Key__c": "BULK-9", "Name": "created, then renamed"},
        {"Jira_Key__c": "BULK-8", "Name": "no close date", "StageName": "Prospecting"},
    ])
    assert [(r.success, r.created) for r in results[:3]] == [(True, False), (True, True), (True, False)]
    assert results[1].id == results[2].id
    assert results[3].errors[0].code == "REQUIRED_FIELD_MISSING"
    assert _job_creates(sf_emulator, "ingest") == 2  # the repeated key went in a second job
    names = {r["Jira_Key__c"]: r["Name"] for r in next(sf.query_pages("SELECT Jira_Key__c, Name FROM Opportunity"))}
    assert names == {"BULK-0": "updated", "BULK-9": "created, then renamed"}


def test_unprocessed_rows_are_sent_again_in_a_new_job(sf: SalesforceSyncHook, sf_emulator: EmulatorProcess) -> None:
    ids = _opportunities(sf, 6)
    sf_emulator.admin("PUT", "bulk_faults", {"ingest_stop_after": 2, "ingest_times": 1})
    sf_emulator.admin("DELETE", "requests")
    results = sf.bulk_update("Opportunity", [{"Id": i, "Name": f"renamed {n}"} for n, i in enumerate(ids)])
    assert all(r.success for r in results)
    assert _job_creates(sf_emulator, "ingest") == 2
    names = {r["Id"]: r["Name"] for r in next(sf.query_pages("SELECT Id, Name FROM Opportunity"))}
    assert [names[i] for i in ids] == [f"renamed {n}" for n in range(6)]


def test_rows_still_unprocessed_after_the_last_round_become_rejects(sf: SalesforceSyncHook,
                                                                    sf_emulator: EmulatorProcess) -> None:
    ids = _opportunities(sf, 3)
    sf_emulator.admin("PUT", "bulk_faults", {"ingest_stop_after": 0, "ingest_times": 5, "message": "boom"})
    results = sf.bulk_update("Opportunity", [{"Id": i, "Name": "x"} for i in ids])
    assert {r.errors[0].code for r in results} == {"BULK_ROW_UNPROCESSED"}
    assert "boom" in results[0].errors[0].message


def test_resuming_a_job_by_id_collects_it_without_creating_another(sf: SalesforceSyncHook,
                                                                   sf_emulator: EmulatorProcess) -> None:
    ids = _opportunities(sf, 3)
    records = [{"Id": i, "Name": f"resumed {n}"} for n, i in enumerate(ids)]
    sf_emulator.configure(bulk_job_polls=5)  # the job is still running when the task gives up ("dies")
    seen: list[str] = []
    sf.bulk.settings = BulkSettings(poll_start=0.01, poll_max=0.01, timeout=0)
    with pytest.raises(Exception, match="BULK_JOB_TIMEOUT|still"):
        sf.bulk_update("Opportunity", records, on_job=seen.append)
    [job_id] = seen
    sf_emulator.admin("DELETE", "requests")

    task = SalesforceSyncHook(sf.conn_id)  # a new try of the task: a new hook, the job id from its intent
    task.bulk.settings = FAST
    results = task.bulk_update("Opportunity", records, resume=job_id)
    assert all(r.success for r in results)
    assert _job_creates(sf_emulator, "ingest") == 0
    assert all(job_id in r["path"] for r in sf_emulator.requests() if "/jobs/" in r["path"])


def test_resuming_a_job_that_was_never_closed_replaces_it(sf: SalesforceSyncHook,
                                                          sf_emulator: EmulatorProcess) -> None:
    ids = _opportunities(sf, 2)
    client = sf.bulk._client("Opportunity")
    open_job = client.create_job("update")["id"]  # created, then the task died before the upload
    results = sf.bulk_update("Opportunity", [{"Id": i, "Name": "again"} for i in ids], resume=open_job)
    assert all(r.success for r in results)
    assert client.get_job(open_job, False)["state"] == "Aborted"


def test_parse_error_keeps_colons_of_the_message() -> None:
    error = parse_error("MALFORMED_ID:Account ID: id value of incorrect type: 001x:AccountId --")
    assert (error.code, error.message, error.fields) == ("MALFORMED_ID", "Account ID: id value of incorrect "
                                                         "type: 001x", ("AccountId",))
    bare = parse_error("UNKNOWN_EXCEPTION:something broke: badly --")
    assert (bare.code, bare.message, bare.fields) == ("UNKNOWN_EXCEPTION", "something broke: badly", ())


def test_a_passing_fault_on_a_results_set_is_retried_by_the_hook_session(sf: SalesforceSyncHook,
                                                                          sf_emulator: EmulatorProcess) -> None:
    _opportunities(sf, 500)
    sf_emulator.set_faults([{"fault": "503", "path": "/jobs/query/[^/]+/results", "method": "GET", "skip": 1,
                             "times": 1}])
    parts = list(sf.bulk_query("SELECT Id FROM Opportunity"))
    assert sum(len(p) for p in parts) == 500
    assert sf.calls[f"GET {JOBS}/query/{{id}}/results"] == 3  # two sets, the second one asked twice
    assert [r["fault"] for r in sf_emulator.requests() if r["path"].endswith("/results")] == [None, "503", None]


def test_resuming_a_job_salesforce_no_longer_has_is_a_404(sf: SalesforceSyncHook) -> None:
    # The Salesforce load relies on it: a 404 on resume (results kept 7 days) sends the chunk in a new job.
    ids = _opportunities(sf, 1)
    with pytest.raises(ApiError) as gone:
        sf.bulk_update("Opportunity", [{"Id": ids[0], "StageName": "Closed Won"}], resume="7500000000000AAAAA")
    assert gone.value.status == 404
