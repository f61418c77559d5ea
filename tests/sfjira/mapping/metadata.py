"""Metadata as the APIs return it (trimmed to the keys the live checks read), for the test world in
/tmp/sfjira-catalog.md: Salesforce sObject describe, Jira GET /field and createmeta field pages.
Plain input data, not mocks: tests copy and edit it to break one thing at a time."""

from __future__ import annotations

import copy


def _f(name: str, kind: str, length: int = 0, *, updateable: bool = True, external: bool = False,
       picklist: list[str] | None = None, restricted: bool = False, relationship: str | None = None,
       to: list[str] | None = None) -> dict:
    return {"name": name, "type": kind, "length": length, "updateable": updateable, "createable": updateable,
            "externalId": external, "unique": external, "restrictedPicklist": restricted,
            "picklistValues": [{"value": v, "label": v, "active": True} for v in picklist or []],
            "relationshipName": relationship, "referenceTo": to or []}


STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
          "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"]
_IDENTITY = [_f("Jira_Key__c", "string", 20, external=True), _f("Jira_Status__c", "string", 80),
             _f("Jira_Url__c", "url", 255)]
_BASE = [_f("Id", "id", 18, updateable=False), _f("SystemModstamp", "datetime", updateable=False),
         _f("OwnerId", "reference", 18, relationship="Owner", to=["User"]),
         _f("AccountId", "reference", 18, relationship="Account", to=["Account"])]

DESCRIBE = {
    "Account": {"name": "Account", "fields": [_f("Id", "id", 18, updateable=False), _f("Name", "string", 255),
                                              _f("Industry", "picklist", 255, picklist=["Energy", "Retail"])]},
    "Contact": {"name": "Contact", "fields": [_f("Id", "id", 18, updateable=False), _f("FirstName", "string", 40),
                                              _f("LastName", "string", 80), _f("Email", "email", 80)]},
    "User": {"name": "User", "fields": [_f("Id", "id", 18, updateable=False), _f("Email", "email", 128)]},
    "Opportunity": {"name": "Opportunity", "fields": [
        *_BASE, *_IDENTITY, _f("Name", "string", 120), _f("Amount", "currency", 18), _f("CloseDate", "date"),
        _f("StageName", "picklist", 255, picklist=STAGES, restricted=True), _f("Description", "textarea", 32000)]},
    "Case": {"name": "Case", "fields": [
        *_BASE, *_IDENTITY, _f("Subject", "string", 255), _f("Description", "textarea", 32000),
        _f("Priority", "picklist", 255, picklist=["High", "Medium", "Low"], restricted=True),
        _f("Status", "picklist", 255, picklist=["New", "Working", "Escalated", "Closed"], restricted=True),
        _f("Origin", "picklist", 255, picklist=["Phone", "Email", "Web"]),
        _f("ContactId", "reference", 18, relationship="Contact", to=["Contact"]),
        _f("Fix_Version__c", "string", 255)]},
    "CaseComment": {"name": "CaseComment", "fields": [
        _f("Id", "id", 18, updateable=False), _f("ParentId", "reference", 18, relationship="Parent", to=["Case"]),
        _f("CommentBody", "textarea", 4000), _f("IsPublished", "boolean")]},
}


def _jf(fid: str, name: str, kind: str, items: str | None = None) -> dict:
    schema = {"type": kind, **({"items": items} if items else {}),
              **({"custom": "x", "customId": int(fid.split("_")[1])} if fid.startswith("customfield_") else
                 {"system": fid})}
    return {"id": fid, "key": fid, "name": name, "custom": fid.startswith("customfield_"), "schema": schema}


JIRA_FIELDS = [
    _jf("summary", "Summary", "string"), _jf("description", "Description", "string"),
    _jf("priority", "Priority", "priority"), _jf("status", "Status", "status"),
    _jf("fixVersions", "Fix versions", "array", "version"), _jf("labels", "Labels", "array", "string"),
    _jf("customfield_10050", "Salesforce ID", "string"), _jf("customfield_10051", "Account Name", "string"),
    _jf("customfield_10052", "Deal Amount", "number"), _jf("customfield_10053", "Close Date", "date"),
    _jf("customfield_10054", "Customer Email", "string"), _jf("customfield_10055", "Salesforce Stage", "option"),
    _jf("customfield_10056", "Salesforce URL", "string"),
]


def _meta(fid: str, required: bool = False, allowed: list[dict] | None = None) -> dict:
    field = next(f for f in JIRA_FIELDS if f["id"] == fid) if fid not in ("project", "issuetype") else \
        {"name": fid.title(), "schema": {"type": fid}}
    out = {"fieldId": fid, "key": fid, "name": field["name"], "required": required, "hasDefaultValue": False,
           "operations": ["set"], "schema": field["schema"]}
    if allowed is not None:
        out["allowedValues"] = allowed
    return out


PRIORITIES = [{"name": n, "id": str(i)} for i, n in enumerate(["Highest", "High", "Medium", "Low", "Lowest"], 1)]
CREATEMETA = {
    ("SUP", "Bug"): {"startAt": 0, "maxResults": 50, "total": 8, "fields": [
        _meta("project", True), _meta("issuetype", True), _meta("summary", True), _meta("description"),
        _meta("priority", allowed=PRIORITIES), _meta("fixVersions"), _meta("customfield_10050"),
        _meta("customfield_10054")]},
    ("DEL", "Epic"): {"startAt": 0, "maxResults": 50, "total": 9, "fields": [
        _meta("project", True), _meta("issuetype", True), _meta("summary", True), _meta("description"),
        _meta("customfield_10050"), _meta("customfield_10051"), _meta("customfield_10052"), _meta("customfield_10053"),
        _meta("customfield_10055", allowed=[{"value": s, "id": str(i)} for i, s in enumerate(STAGES)])]},
}


def describe() -> dict:
    return copy.deepcopy(DESCRIBE)


def jira_fields() -> list[dict]:
    return copy.deepcopy(JIRA_FIELDS)


def createmeta(project: str, issue_type: str) -> dict:
    return copy.deepcopy(CREATEMETA[(project, issue_type)])


def sf_field(describe_data: dict, obj: str, name: str) -> dict:
    return next(f for f in describe_data[obj]["fields"] if f["name"] == name)
