"""Injected faults (429, 503, 500, reset, lost_response, slow, late_response), the configurable rate limit, and call counters."""

from __future__ import annotations

import re
import time

import pytest
import requests

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import JiraRest

RESET_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$")


@pytest.mark.parametrize(("fault", "status"), [("429", 429), ("503", 503), ("500", 500)])
def test_http_faults_fire_then_stop(jira: EmulatorProcess, rest: JiraRest, fault: str, status: int) -> None:
    jira.configure(fault_retry_after_s=7)
    jira.set_faults([{"fault": fault, "path": "/myself$", "times": 1}])
    response = rest("GET", "/myself")
    assert response.status_code == status
    assert response.json()["errors"] == {} and response.json()["errorMessages"]
    if status in (429, 503):
        assert response.headers["Retry-After"] == "7"
    if status == 429:
        assert response.headers["RateLimit-Reason"] == "jira-burst-based"
        assert response.headers["X-RateLimit-Remaining"] == "0"
        assert RESET_STAMP.match(response.headers["X-RateLimit-Reset"])
    assert rest("GET", "/myself").status_code == 200
    assert jira.calls()["faults_fired"] == {fault: 1}


def test_reset_drops_the_connection(jira: EmulatorProcess, rest: JiraRest) -> None:
    jira.set_faults([{"fault": "reset", "path": "/serverInfo", "times": 1}])
    with pytest.raises(requests.ConnectionError):
        rest("GET", "/serverInfo")
    assert rest("GET", "/serverInfo").status_code == 200


def test_lost_response_applies_the_write_then_drops_the_connection(jira: EmulatorProcess, rest: JiraRest) -> None:
    # `skip` lets the first matching call through: the second create lands but its answer is lost.
    jira.set_faults([{"fault": "lost_response", "path": "/issue$", "method": "POST", "skip": 1, "times": 1}])
    rest.create("SUP", "Bug", "First")
    with pytest.raises(requests.ConnectionError):
        rest.create("SUP", "Bug", "Second")
    assert rest.issue("SUP-2", fields="summary")["fields"]["summary"] == "Second"
    rest.create("SUP", "Bug", "Third")
    assert jira.calls()["faults_fired"] == {"lost_response": 1}


def test_slow_outlasts_the_client_timeout(jira: EmulatorProcess, rest: JiraRest) -> None:
    jira.set_faults([{"fault": "slow", "path": "/issue/SUP-1$", "method": "GET", "times": 1, "delay_s": 1.5}])
    rest.create("SUP", "Bug", "Slowpoke")
    with pytest.raises(requests.Timeout):
        rest("GET", "/issue/SUP-1", timeout=0.3)
    assert rest("GET", "/issue/SUP-1").status_code == 200


def test_late_response_applies_the_write_then_holds_the_answer(jira: EmulatorProcess, rest: JiraRest) -> None:
    # The write lands at once; its answer comes only after delay_s (a test kills the client meanwhile).
    jira.set_faults([{"fault": "late_response", "path": "/issue$", "method": "POST", "times": 1, "delay_s": 1.5}])
    with pytest.raises(requests.Timeout):
        rest("POST", "/issue", json={"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Bug"},
                                                "summary": "Landed"}}, timeout=0.5)
    assert rest.issue("SUP-1", fields="summary")["fields"]["summary"] == "Landed"
    assert jira.calls()["faults_fired"] == {"late_response": 1}


def test_rate_limit_budget_per_window(jira: EmulatorProcess, rest: JiraRest) -> None:
    jira.configure(rate_limit={"budget": 3, "window_s": 30})
    allowed = [rest("GET", "/myself").headers for _ in range(3)]
    assert [h["X-RateLimit-Remaining"] for h in allowed] == ["2", "1", "0"]
    # Below 20 % of the budget left Cloud flags the response as near the limit.
    assert [h.get("X-RateLimit-NearLimit") for h in allowed] == [None, None, "true"]
    limited = rest("GET", "/myself")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 30
    assert limited.headers["X-RateLimit-Limit"] == "3" and limited.headers["X-RateLimit-Remaining"] == "0"
    assert RESET_STAMP.match(limited.headers["X-RateLimit-Reset"])
    assert limited.headers["RateLimit-Reason"] == "jira-burst-based"
    assert limited.json() == {"errorMessages": ["Rate limit exceeded."], "errors": {}}
    jira.configure(rate_limit=None)
    assert rest("GET", "/myself").status_code == 200


def test_calls_are_counted_per_route_template(jira: EmulatorProcess, rest: JiraRest, rest2: JiraRest) -> None:
    rest.create("SUP", "Bug", "Counted")
    jira.clear_calls()
    for key in ("SUP-1", "10000", "SUP-1"):
        rest("GET", f"/issue/{key}")
    rest2("GET", "/issue/SUP-1")
    counts = jira.calls()["by_endpoint"]
    assert counts == {"GET /rest/api/3/issue/{issueIdOrKey}": 3, "GET /rest/api/2/issue/{issueIdOrKey}": 1}


def test_a_call_held_from_before_a_clear_is_not_counted_at_once_with_later_ones(jira: EmulatorProcess,
                                                                               rest: JiraRest) -> None:
    # An earlier test's held answer (its client killed) must not make this test's one call look like two.
    jira.set_faults([{"fault": "late_response", "path": "/myself$", "times": 1, "delay_s": 1.5}])
    with pytest.raises(requests.Timeout):
        rest("GET", "/myself", timeout=0.5)
    jira.clear_calls()
    assert rest("GET", "/serverInfo").status_code == 200
    assert jira.calls()["max_in_flight"] == 1
    time.sleep(1.5)  # the held answer goes out now: it must not take the count below zero
    assert jira.calls()["in_flight"] == 0
