"""The TLS rules of every connection: https only (loopback http when the connection allows it),
certificate checks on (off only when the connection allows it, then loudly), no redirect to http."""

from __future__ import annotations

import json
import logging

import pytest

from sfjira.exceptions import AuthError, InsecureTransport
from sfjira.http import ResilientSession, TransportPolicy, insecure_tls_connections
from sfjira.http.transport import is_loopback, shown


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("LOCALHOST", True), ("10.0.0.1", False), ("128.0.0.1", False), ("localhost.evil.com", False),
    ("jira.acme.com", False), ("", False), (None, False),
])
def test_loopback_hosts(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


ALLOW_HTTP = TransportPolicy("Jira", "jira_test", allow_insecure_http=True)


@pytest.mark.parametrize(("policy", "url", "allowed"), [
    (TransportPolicy("Jira", "jira_test"), "https://jira.acme.com", True),
    (TransportPolicy("Jira", "jira_test"), "http://jira.acme.com", False),
    (TransportPolicy("Jira", "jira_test"), "http://127.0.0.1:8080", False),
    (TransportPolicy("Jira", "jira_test"), "http://localhost:8080", False),
    (ALLOW_HTTP, "http://127.0.0.1:8080", True),
    (ALLOW_HTTP, "http://localhost", True),
    (ALLOW_HTTP, "http://[::1]:9000/rest", True),
    (ALLOW_HTTP, "http://jira.acme.com", False),
    (ALLOW_HTTP, "http://10.1.2.3", False),
    (ALLOW_HTTP, "ftp://127.0.0.1", False),
    (ALLOW_HTTP, "jira.acme.com", False),
])
def test_urls_allowed_only_over_tls_or_allowed_loopback(policy: TransportPolicy, url: str, allowed: bool) -> None:
    if allowed:
        assert policy.check_url(url, "host") == url
        return
    with pytest.raises(InsecureTransport) as err:
        policy.check_url(url, "host")
    assert isinstance(err.value, AuthError) and err.value.code == "INSECURE_HTTP"
    assert "Jira connection `jira_test`" in err.value.message and err.value.fix


def test_refusal_names_the_url_without_credentials() -> None:
    with pytest.raises(InsecureTransport) as err:
        TransportPolicy("Salesforce", "sf").check_url("http://bob:hunter2@sf.acme.com:8080/token?code=abc", "token_url")
    text = str(err.value)
    assert "token_url http://sf.acme.com:8080/token is not https" in text
    assert "hunter2" not in text and "bob" not in text and "abc" not in text
    assert shown("http://u:p@[::1]:81/x?y#z") == "http://[::1]:81/x"


def test_the_fix_says_what_to_do_for_network_and_loopback_hosts() -> None:
    with pytest.raises(InsecureTransport, match="only applies to loopback hosts"):
        ALLOW_HTTP.check_url("http://jira.acme.com", "host")
    with pytest.raises(InsecureTransport, match="allow_insecure_http: true"):
        TransportPolicy("Jira", "j").check_url("http://127.0.0.1", "host")


@pytest.mark.parametrize("extras", [
    {"verify": False}, {"verify": "false"}, {"verify": "False"}, {"verify": "0"},
    {"extra__salesforce__verify": False}, {"verify": False, "allow_insecure_tls": "no"},
    {"verify": False, "allow_insecure_tls": "maybe"},
])
def test_verify_false_is_refused_unless_allowed(extras: dict) -> None:
    with pytest.raises(InsecureTransport) as err:
        TransportPolicy.from_extras("Jira", "jira_test", extras)
    assert err.value.code == "INSECURE_TLS"
    assert "Jira connection `jira_test` sets verify: false" in err.value.message
    assert "allow_insecure_tls: true" in err.value.fix


@pytest.mark.parametrize("allow", [True, "true", "True", "yes", "1"])
def test_verify_false_with_allow_insecure_tls_is_flagged(allow: object) -> None:
    policy = TransportPolicy.from_extras("Jira", "jira_test", {"verify": False, "allow_insecure_tls": allow})
    assert policy.verify is False and policy.insecure_tls


def test_a_ca_bundle_keeps_checks_on_whatever_verify_says(tmp_path) -> None:  # noqa: ANN001
    bundle = tmp_path / "ca.pem"
    bundle.write_text("pem")
    policy = TransportPolicy.from_extras("Jira", "j", {"ca_bundle": str(bundle), "verify": False})
    assert policy.verify == str(bundle) and not policy.insecure_tls
    assert TransportPolicy.from_extras("Jira", "j", {}).verify is True


def test_every_session_without_certificate_checks_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    policy = TransportPolicy.from_extras("Jira", "jira_test", {"verify": False, "allow_insecure_tls": True})
    with caplog.at_level(logging.WARNING, logger="sfjira.http.transport"):
        ResilientSession(system="Jira", transport=policy)
        ResilientSession(system="Jira", transport=policy)
        ResilientSession(system="Jira", transport=TransportPolicy("Jira", "other"))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all("Jira connection `jira_test`" in r.getMessage() and "verification is OFF" in r.getMessage()
               for r in warnings)


def test_a_session_sends_nothing_over_plain_http_by_default(plain_server) -> None:  # noqa: ANN001
    session = ResilientSession(system="Test")
    with pytest.raises(InsecureTransport, match="INSECURE_HTTP"):
        session.post(f"{plain_server.url}/token", data={"client_secret": "s3cr3t"},
                     headers={"Authorization": "Basic eDp5"})
    assert plain_server.received == []


def test_a_session_allowed_loopback_http_sends(plain_server) -> None:  # noqa: ANN001
    session = ResilientSession(system="Test", transport=TransportPolicy("Test", "t", allow_insecure_http=True))
    assert session.get(f"{plain_server.url}/ping").status_code == 200
    assert [(method, path) for method, path, _, _ in plain_server.received] == [("GET", "/ping")]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("allow_http", [False, True])
def test_a_token_endpoint_redirecting_to_http_is_not_followed(scripted_server, plain_server, status: int,  # noqa: ANN001
                                                              allow_http: bool) -> None:
    scripted_server.script.queue({"status": status, "headers": {"Location": f"{plain_server.url}/token"}})
    policy = TransportPolicy("Salesforce", "sf_test", verify=scripted_server.ca_bundle, allow_insecure_http=allow_http)
    session = ResilientSession(system="Salesforce", transport=policy)
    with pytest.raises(InsecureTransport, match="redirected to http://127.0.0.1") as err:
        session.post(f"{scripted_server.url}/services/oauth2/token", data={"client_secret": "s3cr3t"})
    assert err.value.code == "INSECURE_HTTP"
    assert [path for _, path, _ in scripted_server.script.seen] == ["/services/oauth2/token"]
    assert plain_server.received == []  # neither the body nor any header reached the http listener


def test_an_https_to_https_redirect_is_still_followed(scripted_server) -> None:  # noqa: ANN001
    scripted_server.script.queue({"status": 302, "headers": {"Location": f"{scripted_server.url}/there"}},
                                 {"json": {"ok": True}})
    session = ResilientSession(system="Test", verify=scripted_server.ca_bundle)
    assert session.get(f"{scripted_server.url}/here").json() == {"ok": True}


def test_insecure_tls_connections_lists_the_allowed_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TLS_OFF", json.dumps({"conn_type": "jira", "host": "https://j",
                                                           "extra": {"verify": False, "allow_insecure_tls": True}}))
    monkeypatch.setenv("AIRFLOW_CONN_TLS_ON", json.dumps({"conn_type": "jira", "host": "https://j"}))
    monkeypatch.setenv("AIRFLOW_CONN_TLS_REFUSED", json.dumps({"conn_type": "jira", "host": "https://j",
                                                               "extra": {"verify": False}}))
    assert insecure_tls_connections(["tls_on", "tls_off", "tls_refused", "tls_off"]) == ["tls_off"]
