from __future__ import annotations

import pytest

from sfjira.http.accounting import CallCounter, endpoint_of


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("get", "https://h/rest/api/3/issue/SUP-12/transitions?expand=x", "GET /rest/api/3/issue/{key}/transitions"),
        ("PUT", "https://h/rest/api/2/issue/10023", "PUT /rest/api/2/issue/{id}"),
        ("GET", "https://h/services/data/v62.0/query?q=SELECT+Id", "GET /services/data/v62.0/query"),
        ("GET", "https://h/services/data/v62.0/query/?q=SELECT+Id", "GET /services/data/v62.0/query"),
        ("GET", "https://h/services/data/v62.0/query/01gD0000002HU6KIAW-2000",
         "GET /services/data/v62.0/query/{locator}"),
        ("PATCH", "https://h/services/data/v62.0/sobjects/Case/500000000000001AAA",
         "PATCH /services/data/v62.0/sobjects/Case/{id}"),
        ("PATCH", "https://h/services/data/v62.0/composite/sobjects/Case/Jira_Key__c",
         "PATCH /services/data/v62.0/composite/sobjects/Case/Jira_Key__c"),
        ("GET", "https://h/services/data/v62.0/sobjects/Opportunity/describe",
         "GET /services/data/v62.0/sobjects/Opportunity/describe"),
    ],
)
def test_endpoint_of_groups_records_not_endpoints(method: str, url: str, expected: str) -> None:
    assert endpoint_of(method, url) == expected


def test_counter_counts_attempts_and_retries() -> None:
    counter = CallCounter()
    key = counter.record("GET", "https://h/rest/api/3/issue/SUP-1", 503)
    counter.record_retry(key)
    counter.record("GET", "https://h/rest/api/3/issue/SUP-2", 200)
    counter.record("POST", "https://h/rest/api/3/issue/bulk", None)
    snap = counter.snapshot()
    assert snap["total"] == 3
    assert snap["by_endpoint"] == {"GET /rest/api/3/issue/{key}": 2, "POST /rest/api/3/issue/bulk": 1}
    assert snap["retries"] == {"GET /rest/api/3/issue/{key}": 1}
    assert counter.statuses[0] == 1  # transport error


def test_counter_sums_each_endpoints_seconds_for_its_latency() -> None:
    counter = CallCounter()
    counter.record("GET", "https://h/rest/api/3/issue/SUP-1", 200, 0.25)
    counter.record("GET", "https://h/rest/api/3/issue/SUP-2", 200, 0.75)
    counter.record("POST", "https://h/rest/api/3/issue/bulk", None, 2.0)
    assert counter.latency() == {"GET /rest/api/3/issue/{key}": {"calls": 2, "seconds": 1.0},
                                 "POST /rest/api/3/issue/bulk": {"calls": 1, "seconds": 2.0}}
