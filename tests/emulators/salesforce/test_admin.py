"""The admin surface (seed, config, time travel, backdate), discovery, and schema extension at run time."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
import requests

from emulators.common.process import EmulatorProcess
from tests.emulators.salesforce.conftest import Rest


def snapshot(sf: Rest) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for soql in ("SELECT Id, Name, Industry, OwnerId FROM Account ORDER BY Id",
                 "SELECT Id, FirstName, LastName, Email, AccountId FROM Contact ORDER BY Id",
                 "SELECT Id, Name, StageName, Amount, CloseDate, AccountId FROM Opportunity ORDER BY Id",
                 "SELECT Id, Subject, Status, Priority, ContactId, CaseNumber FROM Case ORDER BY Id",
                 "SELECT Id, ParentId, CommentBody FROM CaseComment ORDER BY Id"):
        out[soql] = sf.query(soql)["records"]
    return out


def test_seed_is_deterministic(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    sf_emulator.seed(seed=5, accounts=8)
    first = snapshot(sf)
    sf_emulator.reset()
    sf_emulator.seed(seed=5, accounts=8)
    assert snapshot(sf) == first
    sf_emulator.reset()
    sf_emulator.seed(seed=6, accounts=8)
    assert snapshot(sf) != first


def has(texts: list[str], test: Any) -> bool:
    return any(test(c) for text in texts for c in text)


def test_seeded_data_is_realistic(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    result = sf_emulator.seed(seed=3, accounts=50, contacts=150, tasks=10, deleted=4, jira_linked=0.5)
    assert result["created"] == {"User": 3, "Account": 50, "Contact": 150, "Opportunity": 50, "Case": 50,
                                 "CaseComment": 50, "Task": 10}
    names = [r["Name"] for q in ("SELECT Name FROM Account", "SELECT Name FROM Contact")
             for r in sf.query(q)["records"]]
    assert has(names, lambda c: ord(c) > 127)                                        # accents and other scripts
    assert has(names, lambda c: unicodedata.bidirectional(c) in ("R", "AL"))         # right-to-left
    assert has(names, lambda c: unicodedata.combining(c) > 0)                        # combining marks
    assert has(names, lambda c: unicodedata.category(c) == "So")                     # emoji
    contacts = sf.query("SELECT Email, AccountId FROM Contact")["records"]
    assert any(c["Email"] is None for c in contacts) and any(c["Email"] for c in contacts)
    opps = sf.query("SELECT StageName, Amount, Jira_Key__c FROM Opportunity", all_rows=True)["records"]
    assert len({o["StageName"] for o in opps}) == 10
    assert any(o["Amount"] is None for o in opps) and any(o["Jira_Key__c"] for o in opps)
    cases = sf.query("SELECT AccountId, Contact.AccountId FROM Case WHERE ContactId != null")["records"]
    assert cases and all(c["Contact"]["AccountId"] == c["AccountId"] for c in cases)
    deleted = sf.query("SELECT COUNT() FROM Opportunity WHERE IsDeleted = true", all_rows=True)["totalSize"] + \
        sf.query("SELECT COUNT() FROM Case WHERE IsDeleted = true", all_rows=True)["totalSize"]
    assert deleted == 4
    stamps = [r["SystemModstamp"] for r in sf.query("SELECT SystemModstamp FROM Contact")["records"]]
    assert len(set(stamps)) == len(stamps)
    # seeded records are already in the past, so a new write is stamped after all of them
    case = sf.create("Case", Subject="after the seed")
    assert sf.get("Case", case)["SystemModstamp"] > max(stamps)


def test_seed_rejects_unknown_parameters(sf_emulator: EmulatorProcess) -> None:
    with pytest.raises(requests.HTTPError) as caught:
        sf_emulator.seed(acounts=3)
    assert "allowed: seed, accounts" in caught.value.response.json()["error"]


def test_discovery(sf: Rest) -> None:
    versions = sf.session.get(f"{sf.emulator.url}/services/data/", verify=sf.emulator.ca_bundle).json()
    assert {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"} in versions
    assert "59.0" in {v["version"] for v in versions}  # simple_salesforce's default
    resources = sf("GET", "/services/data/v62.0/").json()
    assert resources["query"] == "/services/data/v62.0/query" and "sobjects" in resources
    basic = sf("GET", "/sobjects/Case/").json()
    assert basic["objectDescribe"]["keyPrefix"] == "500"


def test_time_travel_and_backdate(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    case = sf.create("Case", Subject="x")
    travelled = sf_emulator.admin("POST", "time_travel", {"advance_s": 3600})
    assert travelled["offset_s"] == 3600
    later = sf.create("Case", Subject="y")
    assert sf.get("Case", later)["CreatedDate"] >= travelled["now"] > sf.get("Case", case)["CreatedDate"]
    back = sf_emulator.admin("POST", "backdate", {"id": case, "CreatedDate": "2026-01-02T03:04:05+01:00"})
    assert back["CreatedDate"] == "2026-01-02T02:04:05.000+0000"
    with pytest.raises(requests.HTTPError):
        sf_emulator.admin("POST", "backdate", {"id": case, "Subject": "nope"})
    sf_emulator.reset()
    assert sf_emulator.admin("POST", "time_travel", {})["offset_s"] == 0


EXTRA = {"objects": {"Account": {"fields": {"Legacy_Id__c": {"type": "string", "length": 40, "externalId": True,
                                                              "label": "Legacy ID"}}}}}


def test_schema_extension_at_run_time(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    sf_emulator.configure(schema_extra=EXTRA)
    field = next(f for f in sf("GET", "/sobjects/Account/describe/").json()["fields"] if f["name"] == "Legacy_Id__c")
    assert (field["externalId"], field["unique"], field["custom"], field["length"]) == (True, False, True, 40)
    first, second = sf.create("Account", Name="A", Legacy_Id__c="L-1"), sf.create("Account", Name="B",
                                                                                     Legacy_Id__c="l-1")
    several = sf("PATCH", "/sobjects/Account/Legacy_Id__c/L-1", json={"Name": "C"})
    assert several.status_code == 300
    assert sorted(several.json()) == sorted(f"/services/data/v62.0/sobjects/Account/{i}" for i in (first, second))
    assert sf("GET", "/sobjects/Account/Legacy_Id__c/L-1").status_code == 300
    upsert = sf("PATCH", "/composite/sobjects/Account/Legacy_Id__c", json={"records": [
        {"attributes": {"type": "Account"}, "Legacy_Id__c": "L-1", "Name": "D"}]}).json()
    assert upsert[0]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"

    with pytest.raises(requests.HTTPError) as caught:
        sf_emulator.configure(schema_extra={"objects": {"Account": {"fields": {"X__c": {"type": "str"}}}}})
    assert "is not one of id, string" in caught.value.response.json()["error"]
    sf_emulator.reset()  # back to the shipped schema
    assert sf("GET", "/sobjects/Account/Legacy_Id__c/L-1").status_code == 404
