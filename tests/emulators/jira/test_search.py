"""Search over HTTPS: Cloud's /search/jql (token paging, fields, caps, expand), Data Center's /search
(startAt, total), the 410 on Cloud's removed /search, and JQL errors as Jira reports them."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.common.process import EmulatorProcess
from emulators.jira.search_api import REMOVED
from emulators.jira.testing import DC_BASIC, JiraRest


@pytest.fixture
def seeded(jira: EmulatorProcess) -> EmulatorProcess:
    jira.seed(seed=3, issues_per_project=120, comments_per_issue=2)
    return jira


def pages(rest: JiraRest, method: str = "GET", **query: Any) -> list[dict[str, Any]]:
    out, token = [], None
    for _ in range(100):
        params = {**query, **({"nextPageToken": token} if token else {})}
        body = rest.ok(method, "/search/jql", **({"params": params} if method == "GET" else {"json": params}))
        out.append(body)
        assert "total" not in body and "startAt" not in body
        if body["isLast"]:
            assert "nextPageToken" not in body
            return out
        token = body["nextPageToken"]
    raise AssertionError("paging did not end")


def test_cloud_pages_with_next_page_token_until_is_last(seeded: EmulatorProcess, rest: JiraRest) -> None:
    got = pages(rest, jql="project = SUP ORDER BY key", maxResults=50)
    assert [len(p["issues"]) for p in got] == [50, 50, 20]
    assert [set(i) for p in got for i in p["issues"]] == [{"id"}] * 120  # ids only unless fields are asked for
    keys = [i["key"] for p in pages(rest, "POST", jql="project = SUP ORDER BY key", maxResults=50,
                                    fields=["key"]) for i in p["issues"]]
    assert keys == [f"SUP-{n}" for n in range(1, 121)]


def test_field_selection_and_page_caps(seeded: EmulatorProcess, rest: JiraRest) -> None:
    body = rest.ok("GET", "/search/jql", params={"jql": "project in (SUP, DEL)", "maxResults": 500,
                                                 "fields": "summary,comment"})
    assert len(body["issues"]) == 100  # fields requested: at most 100 per page
    assert set(body["issues"][0]["fields"]) == {"summary", "comment"}
    ids = rest.ok("GET", "/search/jql", params={"jql": "project in (SUP, DEL)", "maxResults": 500})
    assert len(ids["issues"]) == 240 and ids["isLast"]
    navigable = rest.ok("GET", "/search/jql", params={"jql": "key = SUP-1", "fields": "*navigable"})["issues"][0]
    assert "summary" in navigable["fields"] and "comment" not in navigable["fields"]
    everything = rest.ok("GET", "/search/jql", params={"jql": "key = SUP-1", "fields": "*all,-description",
                                                       "expand": "names,schema"})
    fields = everything["issues"][0]["fields"]
    assert "comment" in fields and "description" not in fields and "customfield_10055" in fields
    assert everything["names"]["customfield_10050"] == "Salesforce ID"
    assert everything["schema"]["customfield_10055"]["type"] == "option"


def test_v2_search_jql_speaks_plain_text(seeded: EmulatorProcess, rest2: JiraRest) -> None:
    issue = rest2.ok("POST", "/search/jql", json={"jql": "key = SUP-1", "fields": ["description", "comment"]})[
        "issues"][0]
    assert isinstance(issue["fields"]["description"], str) and "\n" in issue["fields"]["description"]
    assert all(isinstance(c["body"], str) for c in issue["fields"]["comment"]["comments"])


def test_removed_search_answers_410_gone_in_cloud(jira: EmulatorProcess, rest: JiraRest, rest2: JiraRest) -> None:
    for client in (rest, rest2):
        for response in (client("GET", "/search", params={"jql": "project = SUP"}),
                         client("POST", "/search", json={"jql": "project = SUP"})):
            assert response.status_code == 410
            assert response.json() == {"errorMessages": [REMOVED], "errors": {}}
    assert REMOVED.startswith("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.")


def test_jql_problems_are_400s_with_jiras_messages(jira: EmulatorProcess, rest: JiraRest) -> None:
    def message(jql: str, **extra: Any) -> list[str]:
        response = rest("GET", "/search/jql", params={"jql": jql, **extra})
        assert response.status_code == 400, response.text
        return list(response.json()["errorMessages"])

    assert message("project = SUP AND (status = Done") == [
        "Error in the JQL Query: Expecting ')' before the end of the query."]
    assert message("ORDER BY key") == [
        "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."]
    assert message("") == message("ORDER BY key")
    assert message("project = SUP", nextPageToken="garbage") == [
        "The provided next page token is invalid or expired."]


def test_data_center_search_pages_with_start_at_and_total(seeded: EmulatorProcess) -> None:
    seeded.configure(mode="datacenter")
    dc = JiraRest(seeded.url, seeded.ca_bundle, version=2, auth=DC_BASIC)
    with dc.session:
        first = dc.ok("GET", "/search", params={"jql": "project = DEL ORDER BY key", "maxResults": 50})
        assert (first["startAt"], first["maxResults"], first["total"], len(first["issues"])) == (0, 50, 120, 50)
        assert "comment" not in first["issues"][0]["fields"] and "summary" in first["issues"][0]["fields"]
        last = dc.ok("POST", "/search", json={"jql": "project = DEL ORDER BY key", "startAt": 100,
                                              "maxResults": 50, "fields": ["summary"]})
        assert [i["key"] for i in last["issues"]] == [f"DEL-{n}" for n in range(101, 121)]
        capped = dc.ok("GET", "/search", params={"jql": "project in (SUP, DEL)", "maxResults": 5000})
        assert capped["maxResults"] == 1000 and capped["total"] == 240
        assert dc.search_keys("project = SUP", cloud=False) == [f"SUP-{n}" for n in range(120, 0, -1)]
        assert dc("GET", "/search/jql", params={"jql": "project = SUP"}).status_code == 404
