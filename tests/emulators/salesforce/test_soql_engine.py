"""SOQL semantics over a small in-process org (no server): filters, relationships, ordering, paging
clauses, literals and Salesforce's error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulators.salesforce.defaults import INTEGRATION_USER_ID
from emulators.salesforce.errors import SOQL_FIELD_HINT, SfError
from emulators.salesforce.org import Org
from emulators.salesforce.soql_engine import Engine
from emulators.salesforce.timefmt import format_date
from emulators.salesforce.writes import Transaction


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Org:
    org = Org(Path(tmp_path_factory.mktemp("soql")), "https://127.0.0.1:1", [])
    txn = Transaction(org, INTEGRATION_USER_ID)
    acme = txn.create(org.schema.objects["Account"], {"Name": "Acme", "Industry": "Technology"})
    zeta = txn.create(org.schema.objects["Account"], {"Name": "zeta GmbH"})
    opp = org.schema.objects["Opportunity"]
    rows = [("Alpha", acme, 100.0, "Prospecting", "2026-01-31", "50% off deal"),
            ("beta", zeta, None, "Closed Won", "2026-03-01", None),
            ("Gamma", None, 300.0, "Closed Lost", "2025-12-24", "plain_text"),
            ("Délta 🚀", acme, 200.0, "Qualification", "2026-02-15", "50 off")]
    for name, account, amount, stage, close, description in rows:
        txn.create(opp, {"Name": name, "AccountId": account, "Amount": amount, "StageName": stage,
                         "CloseDate": close, "Description": description})
    case = txn.create(org.schema.objects["Case"], {"Subject": "Broken"})
    txn.create(org.schema.objects["Task"], {"Subject": "Call", "WhatId": acme})
    txn.create(org.schema.objects["Task"], {"Subject": "Check", "WhatId": case})
    gone = txn.create(opp, {"Name": "Gone", "StageName": "Prospecting", "CloseDate": "2026-01-01"})
    txn.commit()
    txn = Transaction(org, INTEGRATION_USER_ID)
    txn.delete(gone)
    txn.commit()
    return org


def run(org: Org, soql: str, all_rows: bool = False) -> list[dict[str, Any]]:
    return Engine(org.schema, org.store, org.clock.now_ms(), "62.0").run(soql, all_rows).records


def names(org: Org, where: str, order: str = "Name") -> list[str]:
    return [r["Name"] for r in run(org, f"SELECT Name FROM Opportunity WHERE {where} ORDER BY {order}")]


@pytest.mark.parametrize(("where", "expected"), [
    ("Name = 'ALPHA'", ["Alpha"]),                                   # text compares case-insensitively
    ("Amount != 100", ["beta", "Délta 🚀", "Gamma"]),                  # != keeps nulls, as SOQL does
    ("Amount > 100", ["Délta 🚀", "Gamma"]),
    ("Amount <= 200", ["Alpha", "Délta 🚀"]),
    ("Amount = null", ["beta"]),
    ("StageName IN ('Closed Won', 'closed lost')", ["beta", "Gamma"]),
    ("StageName NOT IN ('Closed Won', 'Closed Lost')", ["Alpha", "Délta 🚀"]),
    ("Name LIKE 'd%'", ["Délta 🚀"]),
    ("Name LIKE '_eta'", ["beta"]),
    ("Description LIKE '50\\% off%'", ["Alpha"]),
    ("Description LIKE '%\\_%'", ["Gamma"]),
    ("(Amount > 150 OR Amount = null) AND NOT Name LIKE 'G%'", ["beta", "Délta 🚀"]),
    ("Account.Name = 'acme'", ["Alpha", "Délta 🚀"]),
    ("Account.Name = null", ["Gamma"]),
    ("CloseDate >= 2026-02-01", ["beta", "Délta 🚀"]),
    ("CloseDate < 2026-01-01", ["Gamma"]),
    ("Owner.Email = 'sync@example.com' AND CreatedBy.Username LIKE 'sync%'", ["Alpha", "beta", "Délta 🚀", "Gamma"]),
])
def test_filters(org: Org, where: str, expected: list[str]) -> None:
    assert sorted(names(org, where)) == sorted(expected)


def test_datetime_literals_in_every_accepted_form(org: Org) -> None:
    stamp = run(org, "SELECT SystemModstamp FROM Opportunity WHERE Name = 'Alpha'")[0]["SystemModstamp"]
    plain = stamp.replace(".000+0000", "Z") if stamp.endswith(".000+0000") else None
    forms = [stamp, stamp.replace("+0000", "Z"), stamp.replace("+0000", "+00:00")]
    if plain:
        forms.append(plain)
    for form in forms:
        assert "Alpha" in names(org, f"SystemModstamp = {form}")
    hour = int(stamp[11:13])
    shifted = f"{stamp[:11]}{(hour + 2) % 24:02d}{stamp[13:23]}+0200"
    if hour < 22:  # the same instant written in another zone
        assert "Alpha" in names(org, f"SystemModstamp = {shifted}")


def test_date_literals(org: Org) -> None:
    assert len(names(org, "CreatedDate = TODAY")) == 4
    assert names(org, "CreatedDate = YESTERDAY") == []
    assert len(names(org, "CreatedDate = LAST_N_DAYS:2")) == 4
    today = format_date(org.clock.now_ms())
    assert len(names(org, f"CreatedDate >= {today}T00:00:00Z")) == 4


def test_parent_fields_come_back_nested(org: Org) -> None:
    rows = run(org, "SELECT Name, Account.Name, Account.Industry, Owner.Email FROM Opportunity ORDER BY Name")
    alpha = next(r for r in rows if r["Name"] == "Alpha")
    assert list(alpha) == ["attributes", "Name", "Account", "Owner"]
    assert alpha["attributes"]["type"] == "Opportunity"
    assert alpha["attributes"]["url"].startswith("/services/data/v62.0/sobjects/Opportunity/006")
    assert alpha["Account"]["attributes"]["type"] == "Account"
    assert (alpha["Account"]["Name"], alpha["Account"]["Industry"]) == ("Acme", "Technology")
    assert alpha["Owner"]["Email"] == "sync@example.com"
    assert next(r for r in rows if r["Name"] == "Gamma")["Account"] is None


def test_polymorphic_parent(org: Org) -> None:
    rows = run(org, "SELECT Subject, What.Name FROM Task ORDER BY Subject")
    assert rows[0]["What"]["attributes"]["type"] == "Account" and rows[0]["What"]["Name"] == "Acme"
    assert rows[1]["What"]["attributes"]["type"] == "Case"  # Case has no Name: the type still shows


@pytest.mark.parametrize(("order", "expected"), [
    ("Amount", ["beta", "Alpha", "Délta 🚀", "Gamma"]),                   # ASC: nulls first
    ("Amount DESC", ["Gamma", "Délta 🚀", "Alpha", "beta"]),              # DESC: nulls last
    ("Amount ASC NULLS LAST", ["Alpha", "Délta 🚀", "Gamma", "beta"]),
    ("Amount DESC NULLS FIRST", ["beta", "Gamma", "Délta 🚀", "Alpha"]),
    ("Name", ["Alpha", "beta", "Délta 🚀", "Gamma"]),                      # case-insensitive
    ("Account.Name DESC, Name DESC", ["beta", "Délta 🚀", "Alpha", "Gamma"]),
])
def test_order_by(org: Org, order: str, expected: list[str]) -> None:
    assert names(org, "Name != null", order) == expected


def test_limit_offset_and_count(org: Org) -> None:
    assert names(org, "Name != null", "Name LIMIT 2 OFFSET 1") == ["beta", "Délta 🚀"]
    engine = Engine(org.schema, org.store, org.clock.now_ms(), "62.0")
    count = engine.run("SELECT COUNT() FROM Opportunity WHERE Amount > 0", False)
    assert (count.total_size, count.records) == (3, [])
    aggregate = engine.run("SELECT COUNT(Amount) FROM Opportunity", False)
    assert aggregate.records == [{"attributes": {"type": "AggregateResult"}, "expr0": 3}]
    with pytest.raises(SfError) as caught:
        engine.run("SELECT Id FROM Opportunity OFFSET 2001", False)
    assert caught.value.errors[0].code == "NUMBER_OUTSIDE_VALID_RANGE"


def test_deleted_rows_only_in_query_all(org: Org) -> None:
    assert run(org, "SELECT Id FROM Opportunity WHERE Name = 'Gone'") == []
    rows = run(org, "SELECT Id, IsDeleted FROM Opportunity WHERE Name = 'Gone'", all_rows=True)
    assert [r["IsDeleted"] for r in rows] == [True]


def test_id_literals_accept_15_characters(org: Org) -> None:
    first = run(org, "SELECT Id FROM Account WHERE Name = 'Acme'")[0]["Id"]
    assert [r["Id"] for r in run(org, f"SELECT Id FROM Account WHERE Id = '{first[:15]}'")] == [first]
    assert len(run(org, f"SELECT Id FROM Opportunity WHERE AccountId IN ('{first}')")) == 2


def error_of(org: Org, soql: str) -> tuple[str, str]:
    with pytest.raises(SfError) as caught:
        run(org, soql)
    return caught.value.errors[0].code, caught.value.errors[0].message


def test_unknown_field_message(org: Org) -> None:
    code, message = error_of(org, "SELECT Id, Foo FROM Account")
    assert code == "INVALID_FIELD"
    assert message == ("\nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\n"
                       f"No such column 'Foo' on entity 'Account'. {SOQL_FIELD_HINT}")


@pytest.mark.parametrize(("soql", "code", "text"), [
    ("SELECT Id FROM Acount", "INVALID_TYPE", "sObject type 'Acount' is not supported."),
    ("SELECT Acount.Name FROM Opportunity", "INVALID_FIELD", "Didn't understand relationship 'Acount' in field path."),
    ("SELECT Account.Foo FROM Opportunity", "INVALID_FIELD", "No such column 'Foo' on entity 'Account'."),
    ("SELECT Id FROM Opportunity WHERE Bar = 1", "INVALID_FIELD", "No such column 'Bar' on entity 'Opportunity'."),
    ("SELECT Id FROM Opportunity WHERE CloseDate = '2026-01-01'", "INVALID_FIELD",
     "value of filter criterion for field 'CloseDate' must be of type date and should not be enclosed in quotes"),
    ("SELECT Id FROM Opportunity WHERE CreatedDate > 2026-01-01", "INVALID_FIELD",
     "must be of type dateTime and should not be enclosed in quotes"),
    ("SELECT Id FROM Opportunity WHERE Name = 5", "INVALID_FIELD",
     "must be of type string and should be enclosed in quotes"),
    ("SELECT Id FROM Opportunity WHERE Id = 'nope'", "INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: nope"),
    ("SELECT Id FROM Opportunity WHERE Amount LIKE '1%'", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator"),
    ("SELECT Id FROM Opportunity WHERE IsDeleted > false", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator"),
])
def test_semantic_errors(org: Org, soql: str, code: str, text: str) -> None:
    got_code, message = error_of(org, soql)
    assert got_code == code
    assert text in message and "ERROR at Row:1:Column:" in message


def test_parent_to_child_subquery(org: Org) -> None:
    rows = run(org, "SELECT Name, (SELECT Name, Amount FROM Opportunities WHERE Amount != null ORDER BY Amount DESC "
                    "LIMIT 1) FROM Account ORDER BY Name")
    acme, zeta = rows
    assert acme["Opportunities"]["totalSize"] == 1 and acme["Opportunities"]["done"] is True
    assert [(r["Name"], r["Amount"]) for r in acme["Opportunities"]["records"]] == [("Délta 🚀", 200.0)]
    assert acme["Opportunities"]["records"][0]["attributes"]["type"] == "Opportunity"
    assert zeta["Opportunities"] is None  # its only opportunity has no amount: null, not an empty list
    with pytest.raises(SfError) as caught:
        run(org, "SELECT Id, (SELECT Id FROM Opportunitys) FROM Account")
    assert caught.value.errors[0].code == "INVALID_TYPE"
    assert "Didn't understand relationship 'Opportunitys' in FROM part of query call." in \
        caught.value.errors[0].message


def test_reads_by_id_look_the_ids_up_and_match_what_a_scan_matches(org: Org) -> None:
    """`Id IN (...)` (alone or in an AND) is looked up by Id, not scanned (a client reads 200 ids per
    query: a scan per query made a million-record read quadratic); the rows are those a scan keeps."""
    everything = run(org, "SELECT Id, Name, IsDeleted FROM Opportunity", all_rows=True)
    ids = [r["Id"] for r in everything]
    account = run(org, "SELECT Id FROM Account ORDER BY Name")[0]["Id"]
    listed = ", ".join(f"'{i}'" for i in [ids[0][:15], *ids[1:], account])
    assert sorted(r["Id"] for r in run(org, f"SELECT Id FROM Opportunity WHERE Id IN ({listed})")) == \
        sorted(r["Id"] for r in everything if not r["IsDeleted"])
    assert [r["Name"] for r in run(org, f"SELECT Name FROM Opportunity WHERE Amount > 150 AND Id IN ({listed}) "
                                        "ORDER BY Name")] == ["Délta 🚀", "Gamma"]
    assert len(run(org, f"SELECT Id FROM Opportunity WHERE Id IN ({listed})", all_rows=True)) == len(ids)
    assert len(run(org, f"SELECT Id FROM Opportunity WHERE Id IN ({listed}) OR Name = 'x'")) == len(ids) - 1
