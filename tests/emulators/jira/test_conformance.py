"""Conformance with Atlassian's official Jira Cloud OpenAPI document: every operation the emulator
implements that the spec defines is exercised over real HTTPS, and each request and response (success
and error) is validated against the spec. `pytest -s` prints the coverage report; it is also written
to jira-openapi-conformance.txt in pytest's base temp directory and shown in the terminal summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from emulators.common.process import EmulatorProcess
from emulators.jira import app
from emulators.jira.testing import CLOUD_BASIC, DC_BASIC, JiraRest
from tests.emulators.jira.openapi_check import REPORTS, Outcome, SpecChecker, spec_path

DOC = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "ok"}]}]}
BUG = {"project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": "Conformance"}


def implemented_operations() -> set[str]:
    return {f"{m} /rest/api/3/{path}" for methods, path, _, _ in app.API for m in methods}


@pytest.fixture(scope="session")
def spec() -> SpecChecker:
    # Never a skip: the spec is vendored, so a missing file is a broken checkout or a wrong override.
    path = spec_path()
    assert path.is_file(), f"Jira OpenAPI spec not found at {path} (vendored in tests/emulators/jira/spec/)"
    return SpecChecker(path)


class Recorded:
    """REST clients whose every response is kept for validation."""

    def __init__(self, jira: EmulatorProcess) -> None:
        self.jira = jira
        self.responses: list[requests.Response] = []
        self.v3 = self.client(3, CLOUD_BASIC)
        self.v2 = self.client(2, CLOUD_BASIC)
        self.anonymous = self.client(3, None)

    def client(self, version: int, auth: tuple[str, str] | None) -> JiraRest:
        client = JiraRest(self.jira.url, self.jira.ca_bundle, version=version, auth=auth)
        client.session.hooks["response"].append(lambda response, *args, **kwargs: self.responses.append(response))
        return client

    def close(self) -> None:
        for client in (self.v3, self.v2, self.anonymous):
            client.session.close()


# -- scenarios: each drives a group of operations through success and error paths -------------------------

def reference_data(r: Recorded) -> None:
    for path in ("/serverInfo", "/myself", "/field", "/project", "/project/search", "/project/SUP", "/issuetype",
                 "/priority", "/status", "/issueLinkType", "/issue/createmeta/SUP/issuetypes",
                 "/issue/createmeta/DEL/issuetypes/10000"):
        r.v3.ok("GET", path)
    r.v3.ok("GET", "/user/search", params={"query": "ada"})
    assert r.v3("GET", "/user/search").status_code == 400
    assert r.v3("GET", "/project/NOPE").status_code == 404
    assert r.v3("GET", "/issue/createmeta/SUP/issuetypes/10000").status_code == 400
    assert r.anonymous("GET", "/myself").status_code == 401
    r.v2.ok("GET", "/myself")


def issue_lifecycle(r: Recorded) -> None:
    key = r.v3.ok("POST", "/issue", json={"fields": {**BUG, "description": DOC, "labels": ["a"]},
                                           "properties": [{"key": "sfjira", "value": {"sfid": "500x"}}]})["key"]
    assert r.v3("POST", "/issue", json={"fields": {**BUG, "summary": ""}}).status_code == 400
    assert r.v3("POST", "/issue", json={"fields": {**BUG, "colour": "red"}}).status_code == 400
    bulk = r.v3("POST", "/issue/bulk", json={"issueUpdates": [{"fields": BUG}, {"fields": {**BUG, "summary": ""}}]})
    assert bulk.status_code == 201
    assert r.v3("POST", "/issue/bulk", json={"issueUpdates": [{"fields": {**BUG, "summary": ""}}]}).status_code == 400
    r.v3.ok("GET", f"/issue/{key}", params={"expand": "names,schema,changelog,transitions", "properties": "sfjira"})
    r.v2.ok("GET", f"/issue/{key}", params={"fields": "summary,description,comment,issuelinks,parent"})
    assert r.v3("GET", "/issue/SUP-999").status_code == 404
    r.v3.ok("PUT", f"/issue/{key}", json={"fields": {"summary": "Edited"}, "update": {"labels": [{"add": "b"}]}})
    r.v2.ok("PUT", f"/issue/{key}", json={"fields": {"description": "plain\n\ntext"}})
    assert r.v3("PUT", f"/issue/{key}", json={"fields": {"status": {"name": "Done"}}}).status_code == 400
    assert r.v3("PUT", "/issue/SUP-999", json={"fields": {"summary": "x"}}).status_code == 404
    r.v3.ok("GET", f"/issue/{key}/changelog")
    assert r.v3("GET", "/issue/SUP-999/changelog").status_code == 404
    r.v3.ok("DELETE", f"/issue/{key}")
    assert r.v3("DELETE", f"/issue/{key}").status_code == 404


def entity_properties(r: Recorded) -> None:
    key = r.v3.ok("POST", "/issue", json={"fields": BUG})["key"]
    assert r.v3("PUT", f"/issue/{key}/properties/sfjira", json={"sfid": "1"}).status_code == 201
    assert r.v3("PUT", f"/issue/{key}/properties/sfjira", json={"sfid": "2"}).status_code == 200
    assert r.v3("PUT", f"/issue/{key}/properties/big", json={"v": "x" * 40000}).status_code == 400
    r.v3.ok("GET", f"/issue/{key}/properties")
    r.v3.ok("GET", f"/issue/{key}/properties/sfjira")
    assert r.v3("GET", f"/issue/{key}/properties/nope").status_code == 404
    assert r.v3("GET", "/issue/SUP-999/properties").status_code == 404
    r.v3.ok("DELETE", f"/issue/{key}/properties/sfjira")
    assert r.v3("DELETE", f"/issue/{key}/properties/sfjira").status_code == 404


def workflow(r: Recorded) -> None:
    key = r.v3.ok("POST", "/issue", json={"fields": BUG})["key"]
    r.v3.ok("GET", f"/issue/{key}/transitions", params={"expand": "transitions.fields"})
    r.v3.ok("POST", f"/issue/{key}/transitions", json={"transition": {"id": "11"}})
    assert r.v3("POST", f"/issue/{key}/transitions", json={"transition": {"id": "61"}}).status_code == 400
    assert r.v3("GET", "/issue/SUP-999/transitions").status_code == 404


def comments_and_worklogs(r: Recorded) -> None:
    key = r.v3.ok("POST", "/issue", json={"fields": BUG})["key"]
    comment = r.v3.ok("POST", f"/issue/{key}/comment", json={"body": DOC})["id"]
    r.v2.ok("POST", f"/issue/{key}/comment", json={"body": "plain ✓"})
    assert r.v3("POST", f"/issue/{key}/comment", json={"body": "not adf"}).status_code == 400
    r.v3.ok("GET", f"/issue/{key}/comment")
    r.v2.ok("GET", f"/issue/{key}/comment/{comment}")
    r.v3.ok("PUT", f"/issue/{key}/comment/{comment}", json={"body": DOC})
    assert r.v3("GET", f"/issue/{key}/comment/99999").status_code == 404
    r.v3.ok("DELETE", f"/issue/{key}/comment/{comment}")
    assert r.v3("DELETE", f"/issue/{key}/comment/{comment}").status_code == 404
    r.v3.ok("POST", f"/issue/{key}/worklog", json={"timeSpentSeconds": 3600, "comment": DOC,
                                                   "started": "2026-11-28T09:00:00.000+0100"})
    assert r.v3("POST", f"/issue/{key}/worklog", json={"timeSpent": "later"}).status_code == 400
    r.v3.ok("GET", f"/issue/{key}/worklog")


def links(r: Recorded) -> None:
    first = r.v3.ok("POST", "/issue", json={"fields": BUG})["key"]
    second = r.v3.ok("POST", "/issue", json={"fields": BUG})["key"]
    body = {"type": {"name": "Relates"}, "inwardIssue": {"key": first}, "outwardIssue": {"key": second}}
    assert r.v3("POST", "/issueLink", json=body).status_code == 201
    assert r.v3("POST", "/issueLink", json={**body, "outwardIssue": {"key": "SUP-999"}}).status_code == 404
    link_id = r.v3.issue(first, fields="issuelinks")["fields"]["issuelinks"][0]["id"]
    r.v3.ok("GET", f"/issueLink/{link_id}")
    r.v3.ok("DELETE", f"/issueLink/{link_id}")
    assert r.v3("GET", f"/issueLink/{link_id}").status_code == 404


def bulk_operations(r: Recorded) -> None:
    keys = [r.v3.ok("POST", "/issue", json={"fields": BUG})["key"] for _ in range(3)]
    r.jira.configure(bulk_task_running_polls=1)
    edit = {"selectedIssueIdsOrKeys": [*keys, "SUP-999"], "selectedActions": ["summary", "labels", "description"],
            "editedFieldsInput": {"singleLineTextFields": [{"fieldId": "summary", "text": "Bulk"}],
                                  "labelsFields": [{"fieldId": "labels", "bulkEditMultiSelectFieldOption": "ADD",
                                                    "labels": [{"name": "bulk"}]}],
                                  "richTextFields": [{"fieldId": "description", "richText": {"adfValue": DOC}}]},
            "sendBulkNotification": False}
    task = r.v3("POST", "/bulk/issues/fields", json=edit)
    assert task.status_code == 201
    assert r.v3.ok("GET", f"/bulk/queue/{task.json()['taskId']}")["status"] == "RUNNING"
    assert r.v3.ok("GET", f"/bulk/queue/{task.json()['taskId']}")["invalidOrInaccessibleIssueCount"] == 1
    wrong = {**edit, "selectedActions": ["summary"]}
    assert r.v3("POST", "/bulk/issues/fields", json=wrong).status_code == 400
    moves = {"bulkTransitionInputs": [{"selectedIssueIdsOrKeys": keys[:2], "transitionId": "11"},
                                      {"selectedIssueIdsOrKeys": keys[2:], "transitionId": "41"}]}
    task = r.v3("POST", "/bulk/issues/transition", json=moves)
    assert task.status_code == 201
    r.v3.ok("GET", f"/bulk/queue/{task.json()['taskId']}")
    done = r.v3.ok("GET", f"/bulk/queue/{task.json()['taskId']}")
    assert (len(done["processedAccessibleIssues"]), len(done["failedAccessibleIssues"])) == (2, 1)
    assert r.v3("POST", "/bulk/issues/transition", json={"bulkTransitionInputs": []}).status_code == 400
    r.jira.configure(locked_issues=[keys[0]])
    assert r.v3("PUT", f"/issue/{keys[0]}", json={"fields": {"summary": "x"}}).status_code == 400
    assert r.v3("POST", f"/issue/{keys[0]}/transitions", json={"transition": {"id": "21"}}).status_code == 400


def cloud_search(r: Recorded) -> None:
    r.jira.seed(seed=9, issues_per_project=30, comments_per_issue=2)
    r.v3.ok("GET", "/search/jql", params={"jql": "project = SUP ORDER BY key", "maxResults": 10})
    page = r.v3.ok("GET", "/search/jql", params={"jql": "project = DEL", "fields": "*all", "expand": "names,schema",
                                                 "properties": "sfjira", "maxResults": 20})
    r.v3.ok("GET", "/search/jql", params={"jql": "project = DEL", "fields": "*all",
                                          "nextPageToken": page["nextPageToken"]})
    r.v2.ok("POST", "/search/jql", json={"jql": "project = SUP", "fields": ["summary", "description", "comment"],
                                         "expand": "changelog", "maxResults": 5})
    assert r.v3("GET", "/search/jql", params={"jql": "project = "}).status_code == 400
    assert r.v3("POST", "/search/jql", json={"jql": "ORDER BY key"}).status_code == 400
    assert r.anonymous("GET", "/search/jql", params={"jql": "project = SUP"}).status_code == 401
    assert r.v3("GET", "/search", params={"jql": "project = SUP"}).status_code == 410
    assert r.v2("POST", "/search", json={"jql": "project = SUP"}).status_code == 410


def data_center_search(r: Recorded) -> None:
    r.jira.seed(seed=9, issues_per_project=30)
    r.jira.configure(mode="datacenter")
    dc = r.client(2, DC_BASIC)
    dc.ok("GET", "/search", params={"jql": "project = SUP ORDER BY key", "startAt": 10, "maxResults": 10})
    dc.ok("POST", "/search", json={"jql": "project = DEL", "fields": ["*navigable"], "expand": ["names", "schema"]})
    assert dc("GET", "/search", params={"jql": "status = Nope"}).status_code == 400
    dc.ok("GET", "/issue/createmeta/DEL/issuetypes")
    dc.ok("GET", "/myself")


def injected_faults(r: Recorded) -> None:
    r.jira.set_faults([{"fault": "429", "path": "/myself", "times": 1},
                       {"fault": "503", "path": "/serverInfo", "times": 1}])
    assert r.v3("GET", "/myself").status_code == 429
    assert r.v3("GET", "/serverInfo").status_code == 503
    r.jira.configure(rate_limit={"budget": 1, "window_s": 60})
    r.v3.ok("GET", "/priority")
    assert r.v3("GET", "/priority").status_code == 429


SCENARIOS: dict[str, Callable[[Recorded], None]] = {f.__name__: f for f in (
    reference_data, issue_lifecycle, entity_properties, workflow, comments_and_worklogs, links, bulk_operations,
    cloud_search,
    data_center_search, injected_faults)}


@pytest.fixture
def recorded(jira: EmulatorProcess) -> Iterator[Recorded]:
    recorder = Recorded(jira)
    yield recorder
    recorder.close()


def run(name: str, recorder: Recorded, spec: SpecChecker) -> list[Outcome]:
    SCENARIOS[name](recorder)
    return [spec.check(response) for response in recorder.responses]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_exchanges_match_the_official_spec(name: str, recorded: Recorded, spec: SpecChecker) -> None:
    outcomes = run(name, recorded, spec)
    problems = [f"{o.method} {o.path} -> {o.status}: {p}" for o in outcomes for p in o.problems]
    assert not problems, "\n".join(problems)
    assert any(o.operation for o in outcomes)


def test_every_implemented_spec_operation_is_exercised(jira: EmulatorProcess, spec: SpecChecker,
                                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in SCENARIOS:  # on its own as well, so the report is complete under xdist or -k
        jira.reset()
        jira.clear_faults()
        recorder = Recorded(jira)
        try:
            run(name, recorder, spec)
        finally:
            recorder.close()
    implemented = implemented_operations()
    report, not_implemented = spec.report(implemented)
    path = tmp_path_factory.getbasetemp() / "jira-openapi-conformance.txt"
    path.write_text(report + "\n\nNot implemented:\n" + "\n".join(f"  {op}" for op in not_implemented) + "\n")
    REPORTS.append(f"{report}\n(full list: {path})")
    print("\n" + REPORTS[-1])
    exercised = {o.operation for o in spec.outcomes if o.operation and not o.problems}
    assert implemented & spec.operations() <= exercised, sorted(implemented & spec.operations() - exercised)


def test_the_checker_fails_a_response_that_breaks_the_schema(jira: EmulatorProcess, spec: SpecChecker) -> None:
    response = requests.Response()
    response.status_code = 200
    response._content = b'{"accountId": "5b10ac8d82e05b22cc7d4ef5", "favouriteColour": "teal"}'
    response.headers["Content-Type"] = "application/json;charset=UTF-8"
    response.request = requests.Request("GET", f"{jira.url}/rest/api/3/myself").prepare()
    problems = spec.check(response).problems
    spec.outcomes.pop()
    assert problems and "favouriteColour" in problems[0]
