"""sObject Rows over HTTPS: create, read, update, soft delete, external ids, and server-kept system fields."""

from __future__ import annotations

import re

from emulators.salesforce.defaults import INTEGRATION_USER_ID
from emulators.salesforce.ids import to18
from tests.emulators.salesforce.conftest import Rest

STAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
NOT_FOUND = [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND", "fields": []}]


def test_create_read_update_keeps_system_fields(sf: Rest) -> None:
    response = sf("POST", "/sobjects/Case/", json={"Subject": "Printer on fire 🔥", "Priority": "High"})
    assert response.status_code == 201
    assert response.json() == {"id": response.json()["id"], "success": True, "errors": []}
    case_id = response.json()["id"]
    assert len(case_id) == 18 and case_id.startswith("500") and to18(case_id[:15]) == case_id

    record = sf.get("Case", case_id)
    assert record["attributes"] == {"type": "Case", "url": f"/services/data/v62.0/sobjects/Case/{case_id}"}
    assert (record["Subject"], record["Status"], record["Priority"]) == ("Printer on fire 🔥", "New", "High")
    assert record["CaseNumber"].isdigit() and len(record["CaseNumber"]) == 8
    assert record["IsDeleted"] is False
    assert record["OwnerId"] == record["CreatedById"] == record["LastModifiedById"] == INTEGRATION_USER_ID
    for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        assert STAMP_RE.match(record[name]), record[name]

    update = sf("PATCH", f"/sobjects/Case/{case_id}", json={"Status": "Working"})
    assert (update.status_code, update.content) == (204, b"")
    after = sf.get("Case", case_id)
    assert after["Status"] == "Working" and after["CreatedDate"] == record["CreatedDate"]
    assert after["SystemModstamp"] > record["SystemModstamp"]
    assert after["LastModifiedDate"] == after["SystemModstamp"]


def test_system_modstamp_strictly_increases_per_write(sf: Rest) -> None:
    case_id = sf.create("Case", Subject="tick")
    stamps = []
    for n in range(15):
        assert sf("PATCH", f"/sobjects/Case/{case_id}", json={"Subject": f"tick {n}"}).status_code == 204
        stamps.append(sf.get("Case", case_id)["SystemModstamp"])
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_read_with_fields_and_by_15_character_id(sf: Rest) -> None:
    account = sf.create("Account", Name="Acme", Industry="Technology")
    body = sf("GET", f"/sobjects/Account/{account[:15]}", params={"fields": "Name,industry"}).json()
    assert body == {"attributes": body["attributes"], "Name": "Acme", "Industry": "Technology"}


def test_soft_delete_goes_to_the_recycle_bin(sf: Rest) -> None:
    account = sf.create("Account", Name="Doomed")
    contact = sf.create("Contact", LastName="Child", AccountId=account)
    other = sf.create("Contact", LastName="Stays")
    assert sf("DELETE", f"/sobjects/Account/{account}").status_code == 204

    gone = sf("GET", f"/sobjects/Account/{account}")
    assert (gone.status_code, gone.json()) == (404, [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED",
                                                      "fields": []}])
    assert sf("DELETE", f"/sobjects/Account/{account}").status_code == 404
    assert sf.query(f"SELECT Id FROM Account WHERE Id = '{account}'")["totalSize"] == 0
    recycled = sf.query("SELECT Id, IsDeleted FROM Contact ORDER BY LastName", all_rows=True)["records"]
    # the account's contact was deleted with it (cascade); the unrelated one was not
    assert [(r["Id"], r["IsDeleted"]) for r in recycled] == [(contact, True), (other, False)]


def test_unknown_ids_and_objects(sf: Rest) -> None:
    missing = to18("001Kj0000zzzzzz")
    assert (sf("GET", f"/sobjects/Account/{missing}").status_code, sf("GET", f"/sobjects/Account/{missing}").json()) \
        == (404, NOT_FOUND)
    assert sf("GET", "/sobjects/Acount/describe/").json() == NOT_FOUND
    assert sf("PATCH", f"/sobjects/Account/{missing}", json={"Name": "x"}).status_code == 404
    assert sf("GET", "/sobjects/Account/", headers={}).status_code == 200
    assert sf("GET", "/services/data/v12.0/sobjects/").status_code == 404


def test_upsert_by_external_id_statuses(sf: Rest) -> None:
    path = "/sobjects/Case/Jira_Key__c/SUP-1"
    created = sf("PATCH", path, json={"Subject": "From Jira"})
    assert created.status_code == 201
    case_id = created.json()["id"]
    assert created.json() == {"id": case_id, "success": True, "errors": [], "created": True}
    assert sf.get("Case", case_id)["Jira_Key__c"] == "SUP-1"

    updated = sf("PATCH", "/sobjects/Case/Jira_Key__c/sup-1", json={"Subject": "Changed"})  # case-insensitive
    assert (updated.status_code, updated.json()) == (200, {"id": case_id, "success": True, "errors": [],
                                                           "created": False})
    assert sf.get("Case", case_id)["Subject"] == "Changed"

    by_key = sf("GET", "/sobjects/Case/Jira_Key__c/SUP-1", params={"fields": "Subject"})
    assert by_key.status_code == 200 and by_key.json()["Subject"] == "Changed"
    assert sf("GET", "/sobjects/Case/Jira_Key__c/SUP-404").json() == NOT_FOUND

    unknown = sf("PATCH", "/sobjects/Case/Nope__c/1", json={"Subject": "x"})
    assert (unknown.status_code, unknown.json()) == (404, [{
        "message": "Provided external ID field does not exist or is not accessible: Nope__c",
        "errorCode": "NOT_FOUND", "fields": []}])
    not_external = sf("PATCH", "/sobjects/Case/Subject/x", json={})
    assert not_external.status_code == 404


def test_upsert_after_delete_creates_a_new_record(sf: Rest) -> None:
    first = sf("PATCH", "/sobjects/Opportunity/Jira_Key__c/DEL-7",
               json={"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"}).json()["id"]
    assert sf("DELETE", f"/sobjects/Opportunity/{first}").status_code == 204
    again = sf("PATCH", "/sobjects/Opportunity/Jira_Key__c/DEL-7",
               json={"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"})
    assert again.status_code == 201 and again.json()["id"] != first
