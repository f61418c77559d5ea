"""Validation errors with Salesforce's exact shape and status: `[{message, errorCode, fields}]` on
single-record endpoints, `{statusCode, message, fields}` per item inside sObject Collections results."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.salesforce.ids import to18
from tests.emulators.salesforce.conftest import Rest

HINT = ("Please check the security settings of this field and verify that it is read/write for your profile or "
        "permission set.")
DEAL = {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"}


def error(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    return dict(body[0])


def test_required_field_missing(sf: Rest) -> None:
    assert error(sf("POST", "/sobjects/Opportunity/", json={"Amount": 5})) == {
        "message": "Required fields are missing: [Name, CloseDate, StageName]",
        "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["Name", "CloseDate", "StageName"]}
    contact = sf.create("Contact", LastName="Lovelace")
    assert error(sf("PATCH", f"/sobjects/Contact/{contact}", json={"LastName": None}))["errorCode"] == \
        "REQUIRED_FIELD_MISSING"


def test_string_too_long(sf: Rest) -> None:
    assert error(sf("POST", "/sobjects/Case/", json={"Jira_Key__c": "SUP-" + "9" * 17})) == {
        "message": f"Jira Key: data value too large: SUP-{'9' * 17} (max length=20)",
        "errorCode": "STRING_TOO_LONG", "fields": ["Jira_Key__c"]}


def test_restricted_picklist(sf: Rest) -> None:
    assert error(sf("POST", "/sobjects/Opportunity/", json={**DEAL, "StageName": "Won"})) == {
        "message": "Stage: bad value for restricted picklist field: Won",
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "fields": ["StageName"]}
    # an unrestricted picklist takes any value, as in a real org
    assert sf("POST", "/sobjects/Case/", json={"Origin": "Carrier pigeon"}).status_code == 201


def test_duplicate_unique_external_id(sf: Rest) -> None:
    first = sf.create("Case", Jira_Key__c="SUP-1")
    assert error(sf("POST", "/sobjects/Case/", json={"Jira_Key__c": "sup-1"})) == {
        "message": f"duplicate value found: Jira_Key__c duplicates value on record with id: {first[:15]}",
        "errorCode": "DUPLICATE_VALUE", "fields": ["Jira_Key__c"]}
    other = sf.create("Case", Jira_Key__c="SUP-2")
    assert error(sf("PATCH", f"/sobjects/Case/{other}", json={"Jira_Key__c": "SUP-1"}))["errorCode"] == \
        "DUPLICATE_VALUE"


@pytest.mark.parametrize(("method", "body", "refused"), [
    ("PATCH", {"CreatedDate": "2020-01-01T00:00:00Z"}, ["CreatedDate"]),
    ("PATCH", {"SystemModstamp": "2020-01-01T00:00:00Z", "IsDeleted": True}, ["SystemModstamp", "IsDeleted"]),
    ("POST", {"CaseNumber": "1"}, ["CaseNumber"]),
])
def test_field_not_writable(sf: Rest, method: str, body: dict[str, Any], refused: list[str]) -> None:
    path = "/sobjects/Case/" if method == "POST" else f"/sobjects/Case/{sf.create('Case', Subject='x')}"
    assert error(sf(method, path, json=body)) == {
        "message": f"Unable to create/update fields: {', '.join(refused)}. {HINT}",
        "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE", "fields": refused}


def test_createable_but_not_updateable(sf: Rest) -> None:
    case = sf.create("Case", Subject="x")
    comment = sf.create("CaseComment", ParentId=case, CommentBody="hi")
    assert error(sf("PATCH", f"/sobjects/CaseComment/{comment}", json={"ParentId": case}))["fields"] == ["ParentId"]


@pytest.mark.parametrize(("body", "message"), [
    ({"Amount": "lots"}, "Cannot deserialize instance of double from VALUE_STRING value lots or request may be "
                         "missing a required field at [line:1, column:"),
    ({"Amount": True}, "Cannot deserialize instance of double from VALUE_TRUE value true"),
    ({"CloseDate": "31.12.2026"}, "Cannot deserialize instance of date from VALUE_STRING value 31.12.2026"),
    ({"Name": {"nested": 1}}, "Cannot deserialize instance of string from START_OBJECT value {"),
])
def test_json_parser_error_for_values_of_the_wrong_kind(sf: Rest, body: dict[str, Any], message: str) -> None:
    got = error(sf("POST", "/sobjects/Opportunity/", json={**DEAL, **body}))
    assert got["errorCode"] == "JSON_PARSER_ERROR" and got["message"].startswith(message)


def test_json_parser_error_for_broken_json(sf: Rest) -> None:
    got = error(sf("POST", "/sobjects/Account/", data=b'{"Name": "x",}', headers={"Content-Type": "application/json"}))
    assert got["errorCode"] == "JSON_PARSER_ERROR" and "[line:1, column:" in got["message"]


def test_numbers_sent_as_numeric_strings_are_accepted(sf: Rest) -> None:
    opp = sf.create("Opportunity", **DEAL, Amount="1234.567")
    assert sf.get("Opportunity", opp)["Amount"] == 1234.57  # currency keeps its scale of 2


@pytest.mark.parametrize(("sobject", "body", "message", "field"), [
    ("CaseComment", {"IsPublished": None}, "Published: value not of required type: null", "IsPublished"),
    ("Account", {"Name": "A", "NumberOfEmployees": 1.5}, "Employees: value not of required type: 1.5",
     "NumberOfEmployees"),
])
def test_invalid_type_on_field_in_record(sf: Rest, sobject: str, body: dict[str, Any], message: str,
                                         field: str) -> None:
    if sobject == "CaseComment":
        body = {**body, "ParentId": sf.create("Case", Subject="x")}
    assert error(sf("POST", f"/sobjects/{sobject}/", json=body)) == {
        "message": message, "errorCode": "INVALID_TYPE_ON_FIELD_IN_RECORD", "fields": [field]}


def test_unknown_field(sf: Rest) -> None:
    assert error(sf("POST", "/sobjects/Account/", json={"Name": "A", "Jira_Key__c": "X"})) == {
        "message": "No such column 'Jira_Key__c' on sobject of type Account", "errorCode": "INVALID_FIELD",
        "fields": []}


def test_id_in_an_insert(sf: Rest) -> None:
    assert error(sf("POST", "/sobjects/Account/", json={"Name": "A", "Id": to18("001Kj0000000009")})) == {
        "message": "cannot specify Id in an insert call", "errorCode": "INVALID_FIELD", "fields": ["Id"]}


def test_malformed_and_mistyped_ids(sf: Rest) -> None:
    contact = sf.create("Contact", LastName="C")
    assert error(sf("PATCH", f"/sobjects/Account/{contact}", json={"Name": "x"})) == {
        "message": f"Account ID: id value of incorrect type: {contact}", "errorCode": "MALFORMED_ID",
        "fields": ["Id"]}
    assert error(sf("DELETE", "/sobjects/Account/001-not-an-id")) == {
        "message": "Account ID: id value of incorrect type: 001-not-an-id", "errorCode": "MALFORMED_ID",
        "fields": ["Id"]}
    assert error(sf("POST", "/sobjects/Opportunity/", json={**DEAL, "AccountId": "garbage"})) == {
        "message": "Account ID: id value of incorrect type: garbage", "errorCode": "MALFORMED_ID",
        "fields": ["AccountId"]}
    assert error(sf("POST", "/sobjects/Opportunity/", json={**DEAL, "AccountId": contact})) == {
        "message": f"Account ID: id value of incorrect type: {contact}", "errorCode": "FIELD_INTEGRITY_EXCEPTION",
        "fields": ["AccountId"]}
    assert error(sf("POST", "/sobjects/Opportunity/", json={**DEAL, "AccountId": to18("001Kj00000zzzzz")})) == {
        "message": "invalid cross reference id", "errorCode": "INVALID_CROSS_REFERENCE_KEY", "fields": ["AccountId"]}


def test_invalid_email(sf: Rest) -> None:
    assert error(sf("POST", "/sobjects/Contact/", json={"LastName": "L", "Email": "not-an-email"})) == {
        "message": "Email: invalid email address: not-an-email", "errorCode": "INVALID_EMAIL_ADDRESS",
        "fields": ["Email"]}


def test_collection_items_carry_status_code_shape(sf: Rest) -> None:
    response = sf("POST", "/composite/sobjects", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Opportunity"}, **DEAL, "StageName": "Won"},
        {"attributes": {"type": "Contact"}},
        {"Name": "no type"},
        {"attributes": {"type": "Account"}, "Name": "ok"},
    ]})
    assert response.status_code == 200
    results = response.json()
    assert results[0] == {"id": None, "success": False, "errors": [{
        "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "message": "Stage: bad value for restricted "
        "picklist field: Won", "fields": ["StageName"]}]}
    assert results[1]["errors"] == [{"statusCode": "REQUIRED_FIELD_MISSING",
                                     "message": "Required fields are missing: [LastName]", "fields": ["LastName"]}]
    assert results[2]["errors"] == [{"statusCode": "INVALID_TYPE", "message": "Must send a concrete entity type.",
                                     "fields": []}]
    assert results[3]["success"] is True and results[3]["errors"] == []


def test_collection_request_level_errors(sf: Rest) -> None:
    bad_value = sf("POST", "/composite/sobjects", json={"records": [
        {"attributes": {"type": "Account"}, "Name": "fine"},
        {"attributes": {"type": "Opportunity"}, **DEAL, "Amount": "lots"}]})
    assert error(bad_value)["errorCode"] == "JSON_PARSER_ERROR"
    unknown = sf("POST", "/composite/sobjects", json={"records": [{"attributes": {"type": "Account"}, "Nmae": "x"}]})
    assert error(unknown)["errorCode"] == "INVALID_FIELD"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0  # nothing landed
