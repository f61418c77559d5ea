"""Issue resources over real HTTPS: create (single, bulk), read, edit, delete, validation, workflow,
comments, worklogs, links, epics, entity properties and the v2/v3 text conversion."""

from __future__ import annotations

import re
from typing import Any

import pytest

from emulators.jira.testing import JiraRest

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
CANNOT_SET = "Field '{0}' cannot be set. It is not on the appropriate screen, or unknown."


def adf(*paragraphs: str) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": p}]} for p in paragraphs]}


def fields_of(rest: JiraRest, key: str, fields: str = "*all", **params: Any) -> dict[str, Any]:
    return dict(rest.issue(key, fields=fields, **params)["fields"])


def errors(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"errorMessages", "errors"}
    return dict(body)


def test_create_returns_a_reference_and_the_server_keeps_the_timestamps(rest: JiraRest) -> None:
    response = rest("POST", "/issue", json={"fields": {
        "project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": "Printer on fire",
        "description": adf("Smoke ✓"), "priority": {"name": "High"}, "labels": ["hardware"],
        "fixVersions": [{"name": "1.1"}], "customfield_10054": "ops@example.com"}})
    assert response.status_code == 201, response.text
    ref = response.json()
    assert set(ref) == {"id", "key", "self"} and ref["key"] == "SUP-1"
    assert ref["self"].endswith(f"/rest/api/3/issue/{ref['id']}")
    fields = fields_of(rest, "SUP-1")
    assert fields["summary"] == "Printer on fire" and fields["priority"]["name"] == "High"
    assert fields["status"]["name"] == "To Do" and fields["issuetype"]["name"] == "Bug"
    assert fields["fixVersions"][0]["name"] == "1.1" and fields["labels"] == ["hardware"]
    assert fields["reporter"]["accountId"] == "5b10ac8d82e05b22cc7d4ef5"
    assert TIMESTAMP.match(fields["created"]) and fields["created"] == fields["updated"]
    assert fields["customfield_10054"] == "ops@example.com" and fields["customfield_10050"] is None


@pytest.mark.parametrize(("fields", "expected"), [
    ({"summary": ""}, {"summary": "You must specify a summary of the issue."}),
    ({"summary": "x" * 256}, {"summary": "Summary must be less than 255 characters."}),
    ({"flavour": "vanilla"}, {"flavour": CANNOT_SET.format("flavour")}),
    ({"status": {"name": "Done"}}, {"status": CANNOT_SET.format("status")}),
    ({"created": "2020-01-01T00:00:00.000+0000"}, {"created": CANNOT_SET.format("created")}),
    ({"priority": {"name": "Urgent"}}, {"priority": "The priority selected is invalid."}),
    ({"project": {"key": "NOPE"}}, {"project": "valid project is required"}),
    ({"issuetype": {"name": "Epic"}}, {"issuetype": "The issue type selected is invalid."}),
    ({"customfield_10055": {"value": "Won"}}, {"customfield_10055": "Option value 'Won' is not valid"}),
    ({"customfield_10052": "lots"}, {"customfield_10052": "Operation value must be a number"}),
    ({"customfield_10053": "31.01.2027"}, {"customfield_10053": "Error parsing date string: 31.01.2027"}),
    ({"customfield_10050": "x" * 256}, {"customfield_10050": "The entered text is too long. It exceeds the "
                                                             "allowed limit of 255 characters."}),
    ({"description": "plain text in v3"}, {"description": "Operation value must be an Atlassian Document (see "
                                                          "the Atlassian Document Format)"}),
    ({"description": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": ""}]}]}},
     {"description": "Operation value must be an Atlassian Document (see the Atlassian Document Format)"}),
    ({"fixVersions": [{"name": "9.9"}]}, {"fixVersions": "Version name '9.9' is not valid"}),
    ({"assignee": {"accountId": "nobody"}}, {"assignee": "Specified user does not exist or you do not have "
                                                         "required permissions"}),
    ({"labels": ["two words"]}, {"labels": "The label 'two words' contains spaces which is invalid."}),
])
def test_create_validation_answers_like_jira(rest: JiraRest, fields: dict[str, Any],
                                              expected: dict[str, str]) -> None:
    body = {"project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": "ok", **fields}
    assert errors(rest("POST", "/issue", json={"fields": body})) == {"errorMessages": [], "errors": expected}


def test_required_custom_fields_follow_createmeta(rest: JiraRest, jira: Any) -> None:
    meta = rest.ok("GET", "/issue/createmeta/DEL/issuetypes/10000", params={"maxResults": 100})
    required = {f["fieldId"] for f in meta["fields"] if f["required"]}
    assert required == {"issuetype", "project", "summary", "customfield_10055"}
    missing = rest("POST", "/issue", json={"fields": {"project": {"key": "DEL"}, "issuetype": {"name": "Epic"},
                                                      "summary": "Deal"}})
    assert errors(missing)["errors"] == {"customfield_10055": "Salesforce Stage is required."}
    jira.configure(required_fields={"DEL/Epic": ["customfield_10052"]})
    meta = rest.ok("GET", "/issue/createmeta/DEL/issuetypes/10000", params={"maxResults": 100})
    assert {f["fieldId"] for f in meta["fields"] if f["required"]} == {"issuetype", "project", "summary",
                                                                        "customfield_10052"}
    assert rest.create("DEL", "Epic", "Deal", customfield_10052=1200)["key"] == "DEL-1"


def test_bulk_create_lands_the_good_elements_and_reports_the_bad_one(rest: JiraRest) -> None:
    good = {"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Task"}, "summary": "fine"}}
    bad = {"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Task"}, "summary": "fine",
                      "customfield_10055": {"value": "Nope"}}}
    response = rest("POST", "/issue/bulk", json={"issueUpdates": [good, bad, good]})
    assert response.status_code == 201, response.text
    body = response.json()
    assert [i["key"] for i in body["issues"]] == ["SUP-1", "SUP-2"]
    assert body["errors"] == [{"status": 400, "failedElementNumber": 1, "elementErrors": {
        "errorMessages": [], "errors": {"customfield_10055": "Option value 'Nope' is not valid"}}}]
    all_bad = rest("POST", "/issue/bulk", json={"issueUpdates": [bad, bad]})
    assert all_bad.status_code == 400 and all_bad.json()["issues"] == []
    assert [e["failedElementNumber"] for e in all_bad.json()["errors"]] == [0, 1]
    too_many = rest("POST", "/issue/bulk", json={"issueUpdates": [good] * 51})
    assert too_many.status_code == 400 and "at most 50" in too_many.json()["errorMessages"][0]
    assert rest.search_keys("project = SUP") == ["SUP-2", "SUP-1"]


def test_get_honours_fields_expand_and_properties(rest: JiraRest) -> None:
    rest.create("SUP", "Bug", "Shape", customfield_10052=3.5)
    rest.ok("PUT", "/issue/SUP-1/properties/sfjira", json={"sfid": "500000000000001AAA"})
    body = rest.issue("SUP-1", fields="summary,customfield_10052", expand="names,schema",
                      properties="sfjira")
    assert body["fields"] == {"summary": "Shape", "customfield_10052": 3.5}
    assert body["names"] == {"summary": "Summary", "customfield_10052": "Deal Amount"}
    assert body["schema"]["customfield_10052"] == {
        "type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float", "customId": 10052}
    assert body["properties"] == {"sfjira": {"sfid": "500000000000001AAA"}}
    assert "description" not in rest.issue("SUP-1", fields="*all,-description")["fields"]
    assert rest("GET", "/issue/SUP-99").json() == {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}


def test_edits_bump_updated_strictly_and_write_one_changelog_entry_each(rest: JiraRest) -> None:
    rest.create("SUP", "Bug", "Before")
    stamps = [rest.issue("SUP-1", fields="updated")["fields"]["updated"]]
    for n in range(8):
        response = rest("PUT", "/issue/SUP-1", json={"fields": {"summary": f"After {n}"},
                                                      "update": {"labels": [{"add": f"l{n}"}]}})
        assert response.status_code == 204, response.text
        stamps.append(rest.issue("SUP-1", fields="updated")["fields"]["updated"])
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # same zone, so text order is time order
    histories = rest.issue("SUP-1", fields="summary", expand="changelog")["changelog"]["histories"]
    assert len(histories) == 8
    assert {"field": "summary", "fieldtype": "jira", "fieldId": "summary", "fromString": "Before",
            "toString": "After 0"} in histories[0]["items"]
    unchanged = rest("PUT", "/issue/SUP-1", json={"fields": {"summary": "After 7"}})
    assert unchanged.status_code == 204
    assert rest.issue("SUP-1", fields="updated")["fields"]["updated"] == stamps[-1]


def test_status_cannot_be_set_by_edit_and_delete_removes_the_issue(rest: JiraRest) -> None:
    rest.create("SUP", "Bug", "Stuck")
    assert errors(rest("PUT", "/issue/SUP-1", json={"fields": {"status": {"name": "Done"}}}))["errors"] == {
        "status": CANNOT_SET.format("status")}
    assert rest("DELETE", "/issue/SUP-1").status_code == 204
    assert rest("GET", "/issue/SUP-1").status_code == 404
    assert rest.create("SUP", "Bug", "Next")["key"] == "SUP-2"  # keys are never reused


def test_entity_properties(rest: JiraRest) -> None:
    rest.create("SUP", "Bug", "Props")
    value = {"sfid": "500000000000001AAA", "mapping": "case_to_bug"}
    assert rest("PUT", "/issue/SUP-1/properties/sfjira", json=value).status_code == 201
    assert rest("PUT", "/issue/SUP-1/properties/sfjira", json=value).status_code == 200
    assert rest.ok("GET", "/issue/SUP-1/properties/sfjira") == {"key": "sfjira", "value": value}
    assert [k["key"] for k in rest.ok("GET", "/issue/SUP-1/properties")["keys"]] == ["sfjira"]
    at_limit = {"v": "x" * (32768 - len('{"v":""}'))}
    assert rest("PUT", "/issue/SUP-1/properties/big", json=at_limit).status_code == 201
    over = rest("PUT", "/issue/SUP-1/properties/big", json={"v": at_limit["v"] + "x"})
    assert errors(over)["errorMessages"] == ["The property value cannot be longer than 32768 characters."]
    assert rest("DELETE", "/issue/SUP-1/properties/sfjira").status_code == 204
    missing = rest("GET", "/issue/SUP-1/properties/sfjira")
    assert missing.status_code == 404 and missing.json()["errorMessages"] == [
        "The property with key 'sfjira' does not exist."]


def test_properties_on_create_are_searchable(rest: JiraRest) -> None:
    body = {"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": "Linked"},
            "properties": [{"key": "sfjira", "value": {"sfid": "500000000000002AAA", "mapping": "case_to_bug"}}]}
    assert rest("POST", "/issue", json=body).status_code == 201
    assert rest.search_keys('issue.property[sfjira].sfid = "500000000000002AAA"') == ["SUP-1"]


def test_transitions_walk_the_workflow_and_set_the_resolution(rest: JiraRest) -> None:
    rest.create("SUP", "Bug", "Flow")
    names = [t["name"] for t in rest.ok("GET", "/issue/SUP-1/transitions")["transitions"]]
    assert names == ["Start Progress"]
    jump = rest("POST", "/issue/SUP-1/transitions", json={"transition": {"id": "41"}})
    assert errors(jump)["errorMessages"] == ["Transition id '41' is not valid for this issue."]
    for transition, status in (("11", "In Progress"), ("21", "In Review"), ("41", "Done")):
        assert rest("POST", "/issue/SUP-1/transitions", json={"transition": {"id": transition}}).status_code == 204
        assert fields_of(rest, "SUP-1", "status")["status"]["name"] == status
    done = fields_of(rest, "SUP-1", "resolution,resolutiondate")
    assert done["resolution"]["name"] == "Done" and TIMESTAMP.match(done["resolutiondate"])
    rest.ok("POST", "/issue/SUP-1/transitions", json={"transition": {"id": "61"},
                                                       "update": {"comment": [{"add": {"body": adf("again")}}]}})
    reopened = fields_of(rest, "SUP-1", "status,resolution,comment")
    assert reopened["status"]["name"] == "To Do" and reopened["resolution"] is None
    assert reopened["comment"]["total"] == 1
    items = [i for h in rest.issue("SUP-1", expand="changelog")["changelog"]["histories"] for i in h["items"]
             if i["field"] == "status"]
    assert [(i["fromString"], i["toString"]) for i in items] == [
        ("To Do", "In Progress"), ("In Progress", "In Review"), ("In Review", "Done"), ("Done", "To Do")]
    started = rest.ok("POST", "/issue", json={"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Task"},
                                                         "summary": "Born busy"}, "transition": {"id": "11"}})
    assert fields_of(rest, started["key"], "status")["status"]["name"] == "In Progress"
    returned = rest.ok("PUT", f"/issue/{started['key']}", params={"returnIssue": "true"},
                       json={"fields": {"summary": "Renamed"}})
    assert returned["fields"]["summary"] == "Renamed"


def test_comments_in_adf_and_plain_text(rest: JiraRest, rest2: JiraRest) -> None:
    rest.create("SUP", "Bug", "Talk")
    before = fields_of(rest, "SUP-1", "updated")["updated"]
    posted = rest("POST", "/issue/SUP-1/comment", json={"body": adf("Grüße", "second")})
    assert posted.status_code == 201
    comment_id = posted.json()["id"]
    assert fields_of(rest, "SUP-1", "updated")["updated"] > before
    assert rest2.ok("POST", "/issue/SUP-1/comment", json={"body": "plain\nline"})["body"] == "plain\nline"
    listed = rest2.ok("GET", "/issue/SUP-1/comment")
    assert [c["body"] for c in listed["comments"]] == ["Grüße\n\nsecond", "plain\nline"] and listed["total"] == 2
    assert rest.ok("GET", "/issue/SUP-1/comment")["comments"][1]["body"] == {
        "type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "plain"}, {"type": "hardBreak"}, {"type": "text", "text": "line"}]}]}
    edited = rest.ok("PUT", f"/issue/SUP-1/comment/{comment_id}", json={"body": adf("edited")})
    assert edited["body"] == adf("edited")
    assert errors(rest("POST", "/issue/SUP-1/comment", json={"body": "plain in v3"}))["errors"] == {
        "comment": "Operation value must be an Atlassian Document (see the Atlassian Document Format)"}
    assert errors(rest2("POST", "/issue/SUP-1/comment", json={"body": ""}))["errors"] == {
        "comment": "Comment body can not be empty!"}
    assert rest("DELETE", f"/issue/SUP-1/comment/{comment_id}").status_code == 204
    assert rest("GET", f"/issue/SUP-1/comment/{comment_id}").status_code == 404


def test_worklogs_and_links(rest: JiraRest) -> None:
    rest.create("SUP", "Bug", "Blocker")
    rest.create("SUP", "Bug", "Blocked")
    logged = rest("POST", "/issue/SUP-1/worklog", json={"timeSpent": "1h 30m", "comment": adf("pairing"),
                                                        "started": "2026-11-27T09:00:00.000+0100"})
    assert logged.status_code == 201 and logged.json()["timeSpentSeconds"] == 5400
    assert rest.ok("GET", "/issue/SUP-1/worklog")["worklogs"][0]["timeSpent"] == "1h 30m"
    assert errors(rest("POST", "/issue/SUP-1/worklog", json={"timeSpent": "soon"}))["errors"] == {
        "timeLogged": "You must indicate the time spent working."}
    link = {"type": {"name": "Blocks"}, "inwardIssue": {"key": "SUP-1"}, "outwardIssue": {"key": "SUP-2"}}
    assert rest("POST", "/issueLink", json=link).status_code == 201
    outward = fields_of(rest, "SUP-1", "issuelinks")["issuelinks"][0]
    inward = fields_of(rest, "SUP-2", "issuelinks")["issuelinks"][0]
    assert outward["outwardIssue"]["key"] == "SUP-2" and inward["inwardIssue"]["key"] == "SUP-1"
    fetched = rest.ok("GET", f"/issueLink/{outward['id']}")
    assert (fetched["inwardIssue"]["key"], fetched["outwardIssue"]["key"]) == ("SUP-1", "SUP-2")
    assert rest("DELETE", f"/issueLink/{outward['id']}").status_code == 204
    assert fields_of(rest, "SUP-2", "issuelinks")["issuelinks"] == []
    unknown = rest("POST", "/issueLink", json={**link, "type": {"name": "Haunts"}})
    assert unknown.status_code == 404


def test_epics_and_children(rest: JiraRest) -> None:
    epic = rest.create("DEL", "Epic", "Rollout", customfield_10055={"value": "Closed Won"})["key"]
    story = rest.create("DEL", "Story", "Part 1", parent={"key": epic})["key"]
    assert fields_of(rest, story, "parent")["parent"]["key"] == epic
    assert rest.search_keys(f"parent = {epic}") == [story]
    nested = rest("POST", "/issue", json={"fields": {"project": {"key": "DEL"}, "issuetype": {"name": "Task"},
                                                     "summary": "x", "parent": {"key": story}}})
    assert errors(nested)["errors"] == {"parent": "Given parent work item does not belong to appropriate hierarchy."}
    on_epic = rest("POST", "/issue", json={"fields": {"project": {"key": "DEL"}, "issuetype": {"name": "Epic"},
                                                      "summary": "x", "parent": {"key": epic},
                                                      "customfield_10055": {"value": "Closed Won"}}})
    assert errors(on_epic)["errors"] == {"parent": CANNOT_SET.format("parent")}


def test_text_converts_consistently_between_v2_and_v3(rest: JiraRest, rest2: JiraRest) -> None:
    plain = "first line\nsecond line\n\nnext paragraph — ünïcödé"
    key = rest2.create("SUP", "Bug", "v2", description=plain, customfield_10057="notes\n\nmore")["key"]
    v3 = fields_of(rest, key, "description,customfield_10057")
    assert [p["type"] for p in v3["description"]["content"]] == ["paragraph", "paragraph"]
    assert v3["description"]["content"][0]["content"][1] == {"type": "hardBreak"}
    assert v3["customfield_10057"] == adf("notes", "more")
    assert fields_of(rest2, key, "description")["description"] == plain
    rich = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "bold", "marks": [{"type": "strong"}]}, {"type": "hardBreak"},
        {"type": "text", "text": "end"}]}]}
    key3 = rest.create("SUP", "Bug", "v3", description=rich)["key"]
    assert fields_of(rest2, key3, "description")["description"] == "bold\nend"
    assert errors(rest2("POST", "/issue", json={"fields": {
        "project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": "x", "description": rich}}))[
        "errors"] == {"description": "Operation value must be a string"}
