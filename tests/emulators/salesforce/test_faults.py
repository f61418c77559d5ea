"""Injected faults and the daily API limit, with Salesforce's status codes and bodies."""

from __future__ import annotations

import re

import pytest
import requests

from emulators.common.process import EmulatorProcess
from tests.emulators.salesforce.conftest import Rest

QUERY = "/query/"
Q = {"q": "SELECT Id FROM Account"}


@pytest.mark.parametrize(("fault", "status", "code", "message"), [
    ("503", 503, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later."),
    ("500", 500, "UNKNOWN_EXCEPTION", None),
    ("request_limit", 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    ("expired_session", 401, "INVALID_SESSION_ID", "Session expired or invalid"),
])
def test_http_faults(sf: Rest, sf_emulator: EmulatorProcess, fault: str, status: int, code: str,
                     message: str | None) -> None:
    sf_emulator.set_faults([{"fault": fault, "path": "/query", "times": 1}])
    response = sf("GET", QUERY, params=Q)
    assert response.status_code == status
    body = response.json()
    assert [e["errorCode"] for e in body] == [code]
    if message:
        assert body[0]["message"] == message
    assert sf("GET", QUERY, params=Q).status_code == 200  # `times: 1` fired once
    assert sf_emulator.calls()["faults_fired"] == {fault: 1}


def test_fault_rules_match_path_and_method(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    sf_emulator.set_faults([{"fault": "503", "path": "/composite/sobjects", "method": "POST"}])
    assert sf("GET", QUERY, params=Q).status_code == 200
    assert sf("DELETE", "/composite/sobjects", params={"ids": "001Kj0000000001IAA"}).status_code == 200
    assert sf("POST", "/composite/sobjects", json={"records": []}).status_code == 503


def test_reset_fault_drops_the_connection(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    sf_emulator.set_faults([{"fault": "reset", "path": "/query", "times": 1}])
    with pytest.raises(requests.ConnectionError):
        sf("GET", QUERY, params=Q)
    assert sf("GET", QUERY, params=Q).status_code == 200


def test_slow_fault_times_the_client_out(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    sf_emulator.set_faults([{"fault": "slow", "path": "/query", "times": 1, "delay_s": 3}])
    with pytest.raises(requests.Timeout):
        sf("GET", QUERY, params=Q, timeout=0.5)


def test_calls_are_counted_per_route_template(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    case = sf.create("Case", Subject="a")
    sf.get("Case", case)
    sf.get("Case", case[:15])
    sf.query("SELECT Id FROM Case")
    counted = sf_emulator.calls()["by_endpoint"]
    assert counted == {"POST /services/data/{version}/sobjects/{sobject}": 1,
                       "GET /services/data/{version}/sobjects/{sobject}/{record_id}": 2,
                       "GET /services/data/{version}/query": 1}


def test_daily_limit_header_limits_resource_and_exhaustion(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    first = sf("GET", "/limits/")
    match = re.fullmatch(r"api-usage=(\d+)/100000", first.headers["Sforce-Limit-Info"])
    assert match is not None
    used = int(match.group(1))
    limits = first.json()
    assert limits["DailyApiRequests"] == {"Max": 100000, "Remaining": 100000 - used}
    assert {"DailyBulkApiRequests", "DailyBulkV2QueryJobs"} <= set(limits)
    for entry in limits.values():
        assert set(entry) == {"Max", "Remaining"}

    sf_emulator.configure(api_daily_max=used + 2)
    assert sf("GET", QUERY, params=Q).headers["Sforce-Limit-Info"] == f"api-usage={used + 1}/{used + 2}"
    assert sf("GET", QUERY, params=Q).status_code == 200
    refused = sf("GET", QUERY, params=Q)
    assert refused.status_code == 403
    assert refused.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED",
                               "fields": []}]
    sf_emulator.configure(api_daily_max=100000)
    assert sf("GET", QUERY, params=Q).status_code == 200


def test_usage_set_near_the_limit_is_reported_then_refused(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    sf_emulator.configure(api_daily_max=1000)
    try:
        assert sf_emulator.admin("PUT", "usage", {"used": 998}) == {"used": 998, "max": 1000, "remaining": 2}
        assert sf("GET", QUERY, params=Q).headers["Sforce-Limit-Info"] == "api-usage=999/1000"
        limits = sf("GET", "/limits/")
        assert limits.headers["Sforce-Limit-Info"] == "api-usage=1000/1000"
        assert limits.json()["DailyApiRequests"] == {"Max": 1000, "Remaining": 0}
        refused = sf("GET", QUERY, params=Q)
        assert refused.status_code == 403 and refused.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
        assert sf_emulator.admin("PUT", "usage", {}) == {"used": 1000, "max": 1000, "remaining": 0}
        # Not an API call: the versions list is neither counted nor refused.
        assert sf("GET", "/services/data").status_code == 200
    finally:
        sf_emulator.admin("PUT", "usage", {"used": 0})
        sf_emulator.configure(api_daily_max=100000)


@pytest.mark.parametrize("used", [-1, "5", 1.5, True])
def test_usage_refuses_what_is_not_a_count(sf_emulator: EmulatorProcess, used: object) -> None:
    with pytest.raises(requests.HTTPError) as caught:
        sf_emulator.admin("PUT", "usage", {"used": used})
    assert caught.value.response.status_code == 400


def test_request_log_holds_each_call_with_its_fault(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    sf_emulator.clear_calls()
    sf_emulator.set_faults([{"fault": "503", "path": "/query", "times": 1}])
    assert sf("GET", QUERY, params=Q).status_code == 503
    assert sf("GET", QUERY, params=Q).status_code == 200
    logged = sf_emulator.requests()
    assert [(r["method"], r["path"], r["fault"]) for r in logged] == [
        ("GET", "/services/data/v62.0/query/", "503"), ("GET", "/services/data/v62.0/query/", None)]
    assert logged[0]["t"] <= logged[1]["t"]
    sf_emulator.clear_calls()
    assert sf_emulator.requests() == []


def test_config_rejects_unknown_keys(sf_emulator: EmulatorProcess) -> None:
    with pytest.raises(requests.HTTPError) as caught:
        sf_emulator.configure(token_tll_s=5)
    assert "allowed:" in caught.value.response.json()["error"]
