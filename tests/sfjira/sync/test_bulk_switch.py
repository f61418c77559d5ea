"""The Bulk API 2.0 switch: the thresholds decide the path, and the protocol minimum counts what each
path needs (the COUNT(); REST pages; a query job's describes, create, status and results; six calls
per ingest job)."""

from __future__ import annotations

import datetime as dt

import pytest

from sfjira.hooks.soql import count_soql, incremental_soql
from sfjira.sync import bulk
from sfjira.sync.report import protocol_minimum

SINCE, UNTIL = dt.datetime(2026, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 3, 1, 0, 15, tzinfo=dt.UTC)


def test_the_count_has_the_extracts_window_condition() -> None:
    count = count_soql("Case", SINCE, UNTIL, "Origin = 'Web'")
    select = incremental_soql("Case", ["Subject"], SINCE, UNTIL, "Origin = 'Web'")
    condition = count.split(" WHERE ", 1)[1]
    assert count.startswith("SELECT COUNT() FROM Case WHERE ")
    assert select.split(" WHERE ", 1)[1] == f"{condition} ORDER BY SystemModstamp, Id"


def test_the_thresholds_default_to_ten_thousand_and_switch_above_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__SFJIRA__BULK_QUERY_THRESHOLD", raising=False)
    monkeypatch.delenv("AIRFLOW__SFJIRA__BULK_WRITE_THRESHOLD", raising=False)
    assert not bulk.use_bulk_query(10_000) and bulk.use_bulk_query(10_001)
    assert not bulk.use_bulk_write(10_000) and bulk.use_bulk_write(10_001)
    monkeypatch.setenv("AIRFLOW__SFJIRA__BULK_QUERY_THRESHOLD", "3")
    monkeypatch.setenv("AIRFLOW__SFJIRA__BULK_WRITE_THRESHOLD", "0")
    assert not bulk.use_bulk_query(3) and bulk.use_bulk_query(4)
    assert not bulk.use_bulk_write(0) and bulk.use_bulk_write(1)


def _salesforce_minimum(extract: dict, load: dict | None = None) -> int:
    return protocol_minimum(extract, {}, {}, load or {})["salesforce"]


def test_the_minimum_counts_the_count_and_the_rest_pages() -> None:
    # The extract step's token and budget read (/limits), COUNT(), three query pages of 2,000 for 4,001 records.
    assert _salesforce_minimum({"changed": 4000, "deleted_count": 1, "read_path": "rest", "window_count": 4001}) == 2 + 1 + 3
    # A report from before the COUNT() existed counts none.
    assert _salesforce_minimum({"changed": 10}) == 2 + 1


def test_the_minimum_of_a_query_job_is_describes_create_status_and_a_read_per_result_set() -> None:
    extract = {"changed": 120_000, "deleted_count": 0, "read_path": "bulk", "window_count": 120_000,
               "bulk_describes": 2}
    # Token and /limits, COUNT(), 2 describes, create, status, 3 result sets of 50,000.
    assert _salesforce_minimum(extract) == 2 + 1 + 2 + 2 + 3
    # The extract asks for result sets of a part (`bulk_page`): 12 sets of 10,000.
    assert _salesforce_minimum({**extract, "bulk_page": 10_000}) == 2 + 1 + 2 + 2 + 12


def test_the_minimum_of_a_bulk_write_is_six_calls_per_job_of_ten_thousand() -> None:
    extract = {"changed": 0, "read_path": "rest", "window_count": 0}
    load = {"sf_updated": 20_000, "sf_rejected": 1, "write_path": "bulk", "before_reads": 101}
    # Token and /limits in the extract and in the load, COUNT(), one empty page, 101 before-image reads, three
    # ingest jobs.
    assert _salesforce_minimum(extract, load) == 2 + 2 + 1 + 1 + 101 + 3 * 6
    rest = {**load, "write_path": "rest"}
    assert _salesforce_minimum(extract, rest) == 2 + 2 + 1 + 1 + 101 + 101
