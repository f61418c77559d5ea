"""Modes and credentials: Cloud (Basic email:api_token, OAuth bearer) and Data Center (PAT bearer, Basic
username:password), the 401 body, what each mode serves, and settings that survive a restart."""

from __future__ import annotations

import pytest
import requests

from emulators.common.process import EmulatorProcess
from emulators.jira import defaults
from emulators.jira.testing import CLOUD_BASIC, DC_BASIC, JiraRest, bearer

UNAUTHENTICATED = {"errorMessages": ["You are not authenticated. Authentication required to perform this "
                                     "operation."], "errors": {}}


def call(emulator: EmulatorProcess, path: str, auth: tuple[str, str] | None = None,
         headers: dict[str, str] | None = None, version: int = 3) -> requests.Response:
    client = JiraRest(emulator.url, emulator.ca_bundle, version=version, auth=auth, headers=headers)
    with client.session:
        return client("GET", path)


def test_cloud_accepts_api_tokens_and_oauth_and_refuses_the_rest(jira: EmulatorProcess) -> None:
    assert call(jira, "/myself", CLOUD_BASIC).json()["accountId"] == defaults.API_ACCOUNT_ID
    assert call(jira, "/myself", ("SYNC-BOT@example.com", defaults.CLOUD_API_TOKEN)).status_code == 200
    assert call(jira, "/myself", headers=bearer(defaults.CLOUD_OAUTH_TOKEN), version=2).status_code == 200
    for auth, headers in ((None, None), (DC_BASIC, None), ((defaults.CLOUD_EMAIL, "wrong"), None),
                          (None, bearer(defaults.DC_PAT)), (None, {"Authorization": "Basic !!!"})):
        response = call(jira, "/myself", auth, headers)
        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED
        assert response.headers["Content-Type"] == "application/json;charset=UTF-8"


def test_data_center_accepts_pats_and_passwords_and_serves_only_v2(jira: EmulatorProcess) -> None:
    jira.configure(mode="datacenter")
    me = call(jira, "/myself", headers=bearer(defaults.DC_PAT), version=2).json()
    assert (me["name"], me["key"], "accountId" in me) == ("sync-bot", "JIRAUSER10000", False)
    assert call(jira, "/serverInfo", DC_BASIC, version=2).json()["deploymentType"] == "Server"
    assert call(jira, "/myself", CLOUD_BASIC, version=2).status_code == 401
    assert call(jira, "/myself", headers=bearer(defaults.CLOUD_OAUTH_TOKEN), version=2).status_code == 401
    assert call(jira, "/myself", DC_BASIC, version=3).status_code == 404
    jira.configure(mode="cloud")
    assert call(jira, "/serverInfo", CLOUD_BASIC).json()["deploymentType"] == "Cloud"


def test_credentials_and_config_are_validated_and_changeable(jira: EmulatorProcess) -> None:
    config = jira.configure(credentials={"cloud_api_token": "rotated"})
    assert config["credentials"]["cloud_api_token"] == "***"  # the admin surface does not echo secrets
    assert call(jira, "/myself", CLOUD_BASIC).status_code == 401
    assert call(jira, "/myself", (defaults.CLOUD_EMAIL, "rotated")).status_code == 200
    for bad in ({"mode": "server"}, {"time_zone": "Mars/Olympus"}, {"rate_limit": {"budget": 0, "window_s": 1}},
                {"colour": "blue"}, {"required_fields": {"SUP/Epic": []}}):
        with pytest.raises(requests.HTTPError) as caught:
            jira.configure(**bad)
        assert caught.value.response.status_code == 400
        assert caught.value.response.json()["error"]
    assert jira.configure()["mode"] == "cloud"


def test_the_cli_mode_and_the_data_survive_a_restart(jira_dc: EmulatorProcess, rest_dc: JiraRest) -> None:
    rest_dc.create("SUP", "Bug", "Persistent ✓")
    rest_dc.ok("PUT", "/issue/SUP-1/properties/sfjira", json={"sfid": "500000000000001AAA"})
    jira_dc.configure(time_zone="Asia/Tokyo")
    jira_dc.restart()
    client = JiraRest(jira_dc.url, jira_dc.ca_bundle, version=2, headers=bearer(defaults.DC_PAT), auth=None)
    with client.session:
        assert client.ok("GET", "/serverInfo")["deploymentType"] == "Server"
        assert client.issue("SUP-1", fields="summary")["fields"]["summary"] == "Persistent ✓"
        assert client.ok("GET", "/myself")["timeZone"] == "Asia/Tokyo"
        assert client.search_keys('issue.property[sfjira].sfid = "500000000000001AAA"', cloud=False) == ["SUP-1"]
        assert client.create("SUP", "Bug", "After restart")["key"] == "SUP-2"
