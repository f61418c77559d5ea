"""ResilientSession against a real scripted HTTPS server: retries, limits, auth refresh, CA pinning."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path

import pytest
import requests
import trustme

from sfjira.exceptions import ApiLimitExceeded, SfJiraError
from sfjira.http import ResilientSession, RetryPolicy, resolve_verify


def make_session(server, **policy_kwargs: object) -> tuple[ResilientSession, list[float]]:  # noqa: ANN001
    waits: list[float] = []
    policy = RetryPolicy(rng=random.Random(1), **{"base_delay": 0.01, "max_delay": 0.05, **policy_kwargs})
    session = ResilientSession(system="Test", verify=server.ca_bundle, policy=policy, sleep=waits.append)
    return session, waits


OK = {"status": 200, "json": {"ok": True}}


@pytest.mark.parametrize("fault", [{"status": 429}, {"status": 503}, {"status": 500}, {"reset": True}])
def test_transient_fault_then_success(scripted_server, fault: dict) -> None:  # noqa: ANN001
    scripted_server.script.queue(fault, fault, OK)
    session, waits = make_session(scripted_server)
    response = session.get(f"{scripted_server.url}/rest/api/3/myself")
    assert response.json() == {"ok": True}
    assert len(scripted_server.script.seen) == 3
    assert len(waits) == 2 and waits[1] >= waits[0] / 2
    assert session.counter.calls["GET /rest/api/3/myself"] == 3
    assert session.counter.retries["GET /rest/api/3/myself"] == 2
    # Every attempt's time over the wire is measured for the endpoint's latency.
    latency = session.counter.latency()["GET /rest/api/3/myself"]
    assert latency["calls"] == 3 and latency["seconds"] > 0


def test_retry_after_seconds_is_waited(scripted_server) -> None:  # noqa: ANN001
    scripted_server.script.queue({"status": 429, "headers": {"Retry-After": "3"}}, OK)
    session, waits = make_session(scripted_server)
    assert session.get(f"{scripted_server.url}/x").status_code == 200
    assert waits == [3.0]


def test_waits_are_recorded_by_reason(scripted_server) -> None:  # noqa: ANN001
    scripted_server.script.queue({"status": 429, "headers": {"Retry-After": "3"}}, {"status": 503}, OK)
    session, waits = make_session(scripted_server)
    assert session.get(f"{scripted_server.url}/x").status_code == 200
    waiting = session.counter.waiting()
    assert waiting["retries"] == {"HTTP 429": 1, "HTTP 503": 1}
    assert waiting["waited_s"] == pytest.approx(sum(waits), abs=1e-3) and waits[0] == 3.0
    assert (waiting["paced"], waiting["paced_s"]) == (0, 0.0)


def test_a_spent_rate_window_holds_the_next_call_back(scripted_server) -> None:  # noqa: ANN001
    spent = {"status": 200, "json": {"ok": True}, "headers": {"X-RateLimit-Remaining": "0", "Retry-After": "4"}}
    scripted_server.script.queue(spent, OK)
    session, waits = make_session(scripted_server, max_delay=10.0)
    assert session.get(f"{scripted_server.url}/a").status_code == 200
    assert waits == []  # nothing to wait for while no other call follows
    assert session.get(f"{scripted_server.url}/b").status_code == 200
    assert len(waits) == 1 and 3.0 < waits[0] <= 4.0
    assert session.counter.waiting()["paced"] == 1 and session.counter.retries == {}


def test_post_not_resent_after_500(scripted_server) -> None:  # noqa: ANN001
    scripted_server.script.queue({"status": 500, "json": {"errorMessages": ["boom"]}}, OK)
    session, waits = make_session(scripted_server)
    response = session.post(f"{scripted_server.url}/rest/api/3/issue/bulk", json={"issueUpdates": []})
    assert response.status_code == 500 and waits == []
    assert len(scripted_server.script.seen) == 1


def test_post_not_resent_after_reset(scripted_server) -> None:  # noqa: ANN001
    scripted_server.script.queue({"reset": True}, OK)
    session, _ = make_session(scripted_server)
    with pytest.raises(requests.ConnectionError):
        session.post(f"{scripted_server.url}/rest/api/3/issue/SUP-1/comment", json={"body": "x"})
    assert len(scripted_server.script.seen) == 1


def test_long_retry_after_on_429_stops_with_limit_error(scripted_server) -> None:  # noqa: ANN001
    scripted_server.script.queue({"status": 429, "headers": {"Retry-After": "7200"}}, OK)
    session, waits = make_session(scripted_server, max_total=30.0)
    with pytest.raises(ApiLimitExceeded) as err:
        session.get(f"{scripted_server.url}/rest/api/3/search/jql")
    assert err.value.status == 429 and "Retry-After" in str(err.value) and "fix:" in str(err.value)
    assert waits == [] and len(scripted_server.script.seen) == 1


def test_exhausted_5xx_returns_last_response(scripted_server) -> None:  # noqa: ANN001
    scripted_server.script.queue({"status": 503})
    session, waits = make_session(scripted_server, max_attempts=3)
    assert session.get(f"{scripted_server.url}/x").status_code == 503
    assert len(waits) == 2 and len(scripted_server.script.seen) == 3


def test_limit_detector_stops_without_retry(scripted_server) -> None:  # noqa: ANN001
    scripted_server.script.queue({"status": 403, "json": [{"errorCode": "REQUEST_LIMIT_EXCEEDED"}]}, OK)
    session, _ = make_session(scripted_server)

    def detect(response: requests.Response) -> ApiLimitExceeded | None:
        return ApiLimitExceeded("spent", status=403) if response.status_code == 403 else None

    session.limit_detector = detect
    with pytest.raises(ApiLimitExceeded):
        session.get(f"{scripted_server.url}/q")
    assert len(scripted_server.script.seen) == 1


def test_auth_refresh_resends_once_with_new_header(scripted_server) -> None:  # noqa: ANN001
    expired = {"status": 401, "json": [{"errorCode": "INVALID_SESSION_ID"}]}
    scripted_server.script.queue(expired, expired, expired)
    session, _ = make_session(scripted_server)
    refreshed: list[int] = []

    def refresher(response: requests.Response) -> Mapping[str, str] | None:
        if response.status_code != 401:
            return None
        refreshed.append(1)
        return {"Authorization": "Bearer fresh"}

    session.auth_refresher = refresher
    response = session.get(f"{scripted_server.url}/q", headers={"Authorization": "Bearer stale"})
    assert response.status_code == 401  # a second 401 is the caller's to report, not a loop
    assert refreshed == [1]
    sent = [headers["Authorization"] for _, _, headers in scripted_server.script.seen]
    assert sent == ["Bearer stale", "Bearer fresh"]


def test_pinned_ca_wins_over_requests_ca_bundle_env(scripted_server, monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    scripted_server.script.queue(OK)
    plain = requests.Session()
    plain.verify = scripted_server.ca_bundle
    with pytest.raises(requests.exceptions.SSLError):  # the quirk the adapter exists for
        plain.get(f"{scripted_server.url}/x", timeout=5)
    session, _ = make_session(scripted_server)
    assert session.get(f"{scripted_server.url}/x").status_code == 200


def test_wrong_pinned_ca_fails_without_retry(scripted_server, tmp_path: Path) -> None:  # noqa: ANN001
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    session = ResilientSession(system="Test", verify=str(other), sleep=lambda _: None)
    with pytest.raises(requests.exceptions.SSLError):
        session.get(f"{scripted_server.url}/x")
    assert sum(session.counter.retries.values()) == 0


def test_resolve_verify(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    assert resolve_verify(str(bundle)) == str(bundle)
    assert resolve_verify(None, str(bundle)) == str(bundle)
    assert resolve_verify(None, "false") is False
    assert resolve_verify(None, True) is True
    assert resolve_verify() is True
    with pytest.raises(SfJiraError, match="CA_BUNDLE_MISSING"):
        resolve_verify(str(tmp_path / "missing.pem"))
