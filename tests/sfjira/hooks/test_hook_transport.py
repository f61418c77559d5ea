"""The TLS rules at the hooks: refusal comes before any credential leaves, proven with a plain-HTTP
listener on loopback that records what reaches it, and with the emulators over real HTTPS."""

from __future__ import annotations

import json
import logging

import pytest

from emulators.common.process import EmulatorProcess
from emulators.jira import defaults as jira_defaults
from emulators.salesforce import defaults as sf_defaults
from sfjira.exceptions import InsecureTransport
from sfjira.hooks.jira import JiraSyncHook
from sfjira.hooks.salesforce import SalesforceSyncHook
from tests.sfjira.conftest import PlainServer

pytestmark = pytest.mark.integration

TOKEN_PATH = "/services/oauth2/token"
ALLOW_HTTP = {"allow_insecure_http": True}
NO_CHECKS = {"ca_bundle": None, "verify": False}


def _jira_on(monkeypatch: pytest.MonkeyPatch, host: str, **extra: object) -> JiraSyncHook:
    body = {"conn_type": "jira", "host": host, "login": "bot@acme.com", "password": "jira-api-token",
            "extra": {"auth": "basic", "deployment": "cloud", **extra}}
    monkeypatch.setenv("AIRFLOW_CONN_JIRA_PLAIN", json.dumps(body))
    return JiraSyncHook("jira_plain")


def _sf_on(monkeypatch: pytest.MonkeyPatch, **extra: object) -> SalesforceSyncHook:
    body = {"conn_type": "salesforce", "extra": {"grant_type": "client_credentials", "client_id": "cid",
                                                 "client_secret": "client-s3cret", "retry_max_attempts": 1, **extra}}
    monkeypatch.setenv("AIRFLOW_CONN_SF_PLAIN", json.dumps(body))
    return SalesforceSyncHook("sf_plain")


# -- plain http ---------------------------------------------------------------------------------------

def test_jira_http_host_is_refused_before_anything_is_sent(plain_server: PlainServer,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    hook = _jira_on(monkeypatch, plain_server.url)
    with pytest.raises(InsecureTransport) as err:
        hook.myself()
    assert err.value.code == "INSECURE_HTTP"
    assert f"Jira connection `jira_plain`: host {plain_server.url} is not https" in err.value.message
    assert "jira-api-token" not in str(err.value) and "allow_insecure_http: true" in err.value.fix
    assert plain_server.received == []


def test_jira_http_on_loopback_is_allowed_when_the_connection_says_so(plain_server: PlainServer,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    plain_server.script.queue({"json": {"accountId": "bot", "timeZone": "UTC"}})
    hook = _jira_on(monkeypatch, plain_server.url, **ALLOW_HTTP)
    assert hook.myself()["accountId"] == "bot"
    (method, path, headers, _), = plain_server.received
    assert (method, path) == ("GET", "/rest/api/3/myself") and headers["Authorization"].startswith("Basic ")


def test_jira_http_on_a_network_host_stays_refused_with_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InsecureTransport, match="only applies to loopback"):
        _jira_on(monkeypatch, "http://jira.acme.com", **ALLOW_HTTP).get_conn()


@pytest.mark.parametrize("where", ["token_url", "instance_url"])
def test_salesforce_http_urls_are_refused_before_the_secret_is_sent(plain_server: PlainServer,
                                                                   monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    # An instance_url also names the default token URL: give that one over https to reach the other check.
    urls = ({"token_url": f"{plain_server.url}{TOKEN_PATH}"} if where == "token_url" else
            {"instance_url": plain_server.url, "token_url": f"https://login.example.com{TOKEN_PATH}"})
    hook = _sf_on(monkeypatch, **urls)
    with pytest.raises(InsecureTransport) as err:
        hook.authenticate()
    assert err.value.code == "INSECURE_HTTP" and f"Salesforce connection `sf_plain`: {where} " in err.value.message
    assert "client-s3cret" not in str(err.value)
    assert plain_server.received == []


def test_salesforce_http_on_loopback_is_allowed_when_the_connection_says_so(plain_server: PlainServer,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    plain_server.script.queue({"json": {"access_token": "at-1", "instance_url": plain_server.url}})
    hook = _sf_on(monkeypatch, instance_url=plain_server.url, **ALLOW_HTTP)
    assert hook.authenticate().instance_url == plain_server.url
    (method, path, _, body), = plain_server.received
    assert (method, path) == ("POST", TOKEN_PATH) and b"client_secret=client-s3cret" in body


def test_an_http_instance_url_in_the_token_answer_gets_no_api_call(plain_server: PlainServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    plain_server.script.queue({"json": {"access_token": "at-1", "instance_url": "http://na1.example.com"}})
    hook = _sf_on(monkeypatch, instance_url=plain_server.url, **ALLOW_HTTP)
    with pytest.raises(InsecureTransport, match="instance_url returned by the token endpoint http://na1.example.com"):
        hook.limits()
    assert [path for _, path, _, _ in plain_server.received] == [TOKEN_PATH]  # the token is never used


# -- certificate checks, over real HTTPS against the emulators ------------------------------------------

def test_jira_verify_false_is_refused_before_any_call(jira_emulator: EmulatorProcess, jira_conn) -> None:  # noqa: ANN001
    hook = JiraSyncHook(jira_conn("cloud", **NO_CHECKS))
    jira_emulator.clear_calls()
    with pytest.raises(InsecureTransport) as err:
        hook.myself()
    assert err.value.code == "INSECURE_TLS" and "Jira connection `jira_test` sets verify: false" in err.value.message
    assert jira_emulator.calls()["total"] == 0


def test_salesforce_verify_false_is_refused_before_any_call(sf_emulator: EmulatorProcess, sf_conn) -> None:  # noqa: ANN001
    hook = SalesforceSyncHook(sf_conn("client_credentials", **NO_CHECKS))
    sf_emulator.clear_calls()
    with pytest.raises(InsecureTransport, match="INSECURE_TLS"):
        hook.authenticate()
    assert sf_emulator.calls()["total"] == 0


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # the point of the test
def test_allowed_insecure_tls_works_and_warns_on_every_connection(
        sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess, sf_conn, jira_conn,  # noqa: ANN001
        caplog: pytest.LogCaptureFixture) -> None:
    # No CA bundle at all: only switching the checks off lets these calls through the emulators' TLS.
    jira_id = jira_conn("cloud", allow_insecure_tls=True, **NO_CHECKS)
    sf_id = sf_conn("client_credentials", allow_insecure_tls="true", **NO_CHECKS)
    with caplog.at_level(logging.WARNING, logger="sfjira.http.transport"):
        for _ in range(2):
            assert JiraSyncHook(jira_id).myself()["emailAddress"] == jira_defaults.CLOUD_EMAIL
            assert SalesforceSyncHook(sf_id).limits()["DailyApiRequests"]["Max"] > 0
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("Jira connection `jira_test`: TLS certificate verification is OFF" in m for m in warned) == 2
    assert sum("Salesforce connection `sf_test`: TLS certificate verification is OFF" in m for m in warned) == 2
    assert sf_defaults.CLIENT_SECRET not in caplog.text
