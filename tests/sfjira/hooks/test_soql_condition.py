"""`salesforce.where` must be exactly one SOQL condition: what is accepted, what is refused and why."""

from __future__ import annotations

import pytest

from sfjira.hooks.soql_condition import ConditionError, check_condition, tokenize, where_clause

ACCEPTED = [
    "Origin = 'Web'",
    "Origin = 'Web' OR Id != null",
    "Name = 'O\\'Brien'",                                   # an escaped quote inside a literal
    "Name = 'back\\\\slash' AND Subject LIKE '100\\%'",      # escaped backslash, LIKE escapes
    "Name = 'a (b'",                                        # a parenthesis inside a literal
    "Subject = ') OR (Id != null'",                         # the injection, but as a literal
    "Description = 'x; DELETE'",                            # ';' inside a literal
    "Subject = 'SELECT Id FROM Case LIMIT 1'",              # keywords inside a literal
    "NOT (IsClosed = true)",
    "Status NOT IN ('Closed', 'Done') AND Priority IN ('High')",
    "Tags__c INCLUDES ('a;b', 'c') OR Tags__c EXCLUDES ('d')",
    "CreatedDate = LAST_N_DAYS:30 AND CloseDate >= 2024-01-01",
    "SystemModstamp < 2026-01-01T00:00:00Z OR LastModifiedDate > 2025-06-01T10:00:00+02:00",
    "DISTANCE(Location__c, GEOLOCATION(37.77, -122.41), 'mi') < 20",
    "CALENDAR_YEAR(CreatedDate) = 2024 AND Amount > USD5000",
    "Account.Industry = 'Energy' AND (Priority = 'High' OR (IsEscalated = true AND Origin <> 'Phone'))",
    "Order.Name = 'x' AND Update__c = true",                # keywords only as parts of names
    "A = 1 AND B = 2 AND NOT C = 3 AND (D = 4 OR E = 5 OR F = 6)",  # one connector per level
]

REFUSED = [
    # (condition, message fragment)
    ("Name = 'x') OR (Id != null", "this `)` closes no `(`"),
    ("') OR (Id != null", "never closed"),          # alone, its quote opens a literal
    ("Origin = 'Web') OR (Id != null", "closes no `(`"),
    ("(Name = 'x'", "expected `)` at the end"),
    ("Name = 'x' )", "closes no `(`"),
    ("Name = 'x", "never closed"),
    ("Name = 'x\\'", "never closed"),                       # the escape swallows the closing quote
    ("Name = 'a\\qb'", "\\q is not a SOQL escape"),
    ('Name = "x"', "single quotes"),
    ("Name = 'x' LIMIT 1", "`LIMIT` starts another clause"),
    ("IsClosed = false ORDER BY Name", "`ORDER` starts another clause"),
    ("IsClosed = false GROUP BY Status", "`GROUP` starts another clause"),
    ("IsClosed = false OFFSET 10", "`OFFSET` starts another clause"),
    ("IsClosed = false WITH SECURITY_ENFORCED", "`WITH` starts another clause"),
    ("IsClosed = false ALL ROWS", "`ALL` starts another clause"),
    ("IsClosed = false FOR UPDATE", "`FOR` starts another clause"),
    ("Id IN (SELECT CaseId FROM CaseComment)", "subquery (SELECT)"),
    ("Id IN (select CaseId from CaseComment)", "subquery (SELECT)"),
    ("IsClosed = false; DELETE", "cannot contain ';'"),
    ("WHERE IsClosed = false", "holds the condition only"),
    ("Name = 'x' Id = 'y'", "`Id` after the end of the condition"),
    ("Name = 'x' --", "`--` after the end"),
    ("Name = 'x' /* note */", "'/' has no place"),
    ("Name", "expected an operator"),
    ("= 'x'", "expected a field name"),
    ("Name = ", "expected a value at the end"),
    ("Name = 'x' AND", "expected a field name at the end"),
    ("Name IN ()", "expected a value, found `)`"),
    ("Name NOT = 'x'", "expected IN after NOT"),
    ("AND = 1", "found the keyword `AND`"),
    ("Origin = 'Web' AND IsClosed = false OR Id != null", "AND and OR are mixed without parentheses"),
    ("(A = 1 OR B = 2 AND C = 3)", "OR and AND are mixed"),
    ("   ", "blank"),
]


@pytest.mark.parametrize("condition", ACCEPTED)
def test_one_condition_is_accepted_as_written(condition: str) -> None:
    assert check_condition(f"  {condition} ") == condition
    assert where_clause(condition) == f"({condition})"


@pytest.mark.parametrize(("condition", "message"), REFUSED, ids=[c for c, _ in REFUSED])
def test_anything_but_one_condition_is_refused(condition: str, message: str) -> None:
    with pytest.raises(ConditionError) as err:
        check_condition(condition)
    assert err.value.code == "WHERE_INVALID"
    assert message in err.value.message, str(err.value)
    assert err.value.fix


def test_blank_where_means_no_filter() -> None:
    assert where_clause(None) is None and where_clause("  ") is None


def test_literals_are_single_tokens_with_columns() -> None:
    tokens = tokenize("Name = 'O\\'Brien (x)' AND Id != null")
    assert [(t.kind, t.text, t.at) for t in tokens] == [
        ("word", "Name", 1), ("op", "=", 6), ("string", "'O\\'Brien (x)'", 8), ("word", "AND", 23),
        ("word", "Id", 27), ("op", "!=", 30), ("word", "null", 33)]
