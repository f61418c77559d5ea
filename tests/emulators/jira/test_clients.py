"""The stock clients, unmodified, against the emulator processes: atlassian-python-api's `Jira` in Cloud
mode, and the Airflow provider's `JiraHook` (connection from an AIRFLOW_CONN_ variable) in Data Center
mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from atlassian import Jira
from requests import HTTPError

from emulators.common.process import EmulatorProcess
from emulators.jira import defaults


@pytest.fixture
def cloud_client(jira: EmulatorProcess, trust_emulator_ca: Path) -> Jira:
    return Jira(url=jira.url, username=defaults.CLOUD_EMAIL, password=defaults.CLOUD_API_TOKEN, cloud=True)


def test_enhanced_jql_pages_over_a_thousand_issues(jira: EmulatorProcess, cloud_client: Jira) -> None:
    jira.seed(seed=2, issues_per_project=550, comments_per_issue=1)
    keys: list[str] = []
    token = None
    pages = 0
    while True:
        page = cloud_client.enhanced_jql("project in (SUP, DEL) ORDER BY key ASC", fields="summary,status,updated",
                                         nextPageToken=token, limit=100)
        pages += 1
        keys += [issue["key"] for issue in page["issues"]]
        token = page.get("nextPageToken")
        if page["isLast"]:
            break
    assert pages == 11 and len(keys) == len(set(keys)) == 1100
    assert keys[:2] == ["DEL-1", "DEL-2"] and keys[-1] == "SUP-550"


def test_bulk_create_with_one_bad_element_lands_the_rest(jira: EmulatorProcess, cloud_client: Jira) -> None:
    def issue(summary: str) -> dict[str, object]:
        return {"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": summary,
                           "description": "From the stock client"}}

    result = cloud_client.create_issues([issue("one"), issue("x" * 300), issue("three")])
    assert [i["key"] for i in result["issues"]] == ["SUP-1", "SUP-2"]
    assert result["errors"][0]["failedElementNumber"] == 1
    assert result["errors"][0]["elementErrors"]["errors"] == {"summary": "Summary must be less than 255 characters."}


def test_walk_a_transition_comment_and_properties(jira: EmulatorProcess, cloud_client: Jira) -> None:
    key = cloud_client.issue_create({"project": {"key": "SUP"}, "issuetype": {"name": "Bug"},
                                     "summary": "Walk me"})["key"]
    with pytest.raises(HTTPError):  # Done is three transitions away from To Do
        cloud_client.set_issue_status(key, "Done")
    for status in ("In Progress", "In Review", "Done"):
        cloud_client.set_issue_status(key, status)
    assert cloud_client.get_issue_status(key) == "Done"
    comment = cloud_client.issue_add_comment(key, "Fixed — danke schön")
    assert comment["body"] == "Fixed — danke schön"
    cloud_client.set_issue_property(key, "sfjira", {"sfid": "500000000000001AAA", "mapping": "case_to_bug"})
    assert cloud_client.get_issue_property(key, "sfjira")["value"]["sfid"] == "500000000000001AAA"
    found = cloud_client.enhanced_jql('issue.property[sfjira].sfid = "500000000000001AAA"', fields="key")
    assert [i["key"] for i in found["issues"]] == [key]


def test_airflow_jira_hook_pages_data_center_search(jira_dc: EmulatorProcess, trust_emulator_ca: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.atlassian.jira.hooks.jira import JiraHook

    jira_dc.seed(seed=4, issues_per_project=130)
    monkeypatch.setenv("AIRFLOW_CONN_JIRA_EMULATOR_DC", json.dumps({
        "conn_type": "jira", "host": jira_dc.url, "login": defaults.DC_USERNAME, "password": defaults.DC_PASSWORD,
        "extra": {"verify": str(trust_emulator_ca)}}))
    client = JiraHook(jira_conn_id="jira_emulator_dc").get_conn()
    assert client.get_server_info()["deploymentType"] == "Server"
    keys: list[str] = []
    while True:
        page = client.jql("project = DEL ORDER BY key", fields="summary,status", start=len(keys), limit=50)
        assert page["total"] == 130 and page["startAt"] == len(keys)
        keys += [issue["key"] for issue in page["issues"]]
        if len(keys) >= page["total"]:
            break
    assert keys == [f"DEL-{n}" for n in range(1, 131)]
