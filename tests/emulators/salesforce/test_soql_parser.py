"""The SOQL tokenizer and parser, in-process (no server)."""

from __future__ import annotations

import pytest

from emulators.salesforce.errors import SfError
from emulators.salesforce.soql_parser import BoolOp, Comparison, Literal, Not, parse, tokenize


def test_tokens_cover_literals_and_paths() -> None:
    tokens = tokenize("SELECT Account.Name FROM Opportunity WHERE CloseDate >= 2026-01-31 AND "
                      "SystemModstamp < 2026-11-28T15:04:05.000+0000 AND Amount != -1.5")
    kinds = [(t.kind, t.text) for t in tokens]
    assert ("ident", "Account.Name") in kinds
    assert ("date", "2026-01-31") in kinds
    assert ("datetime", "2026-11-28T15:04:05.000+0000") in kinds
    assert ("number", "-1.5") in kinds
    assert kinds[-1] == ("eof", "<EOF>")


def test_full_query_structure() -> None:
    q = parse("select Id, Name, Owner.Email from Case where (Status = 'New' or Status = 'Working') and "
              "not Subject like '50\\% off%' order by CreatedDate desc nulls first, Id limit 10 offset 20")
    assert [p.text for p in q.fields] == ["Id", "Name", "Owner.Email"]
    assert q.sobject == "Case"
    assert isinstance(q.where, BoolOp) and q.where.op == "AND"
    inner, negated = q.where.items
    assert isinstance(inner, BoolOp) and inner.op == "OR" and len(inner.items) == 2
    assert isinstance(negated, Not) and isinstance(negated.item, Comparison)
    like = negated.item.value
    assert isinstance(like, Literal) and like.value == "50% off%" and like.like_pattern == "50\\% off%"
    assert [(o.path.text, o.descending, o.nulls_last) for o in q.order_by] == [("CreatedDate", True, False),
                                                                               ("Id", False, False)]
    assert (q.limit, q.offset) == (10, 20)


def test_in_not_in_and_literal_kinds() -> None:
    q = parse("SELECT Id FROM Account WHERE Industry NOT IN ('A', 'B') AND IsDeleted = false "
              "AND AnnualRevenue = null AND CreatedDate = LAST_N_DAYS:7 AND Name = 'it\\'s'")
    assert isinstance(q.where, BoolOp)
    not_in, boolean, null, relative, escaped = q.where.items
    assert isinstance(not_in, Comparison) and not_in.op == "NOT IN" and len(not_in.value) == 2
    assert isinstance(boolean, Comparison) and boolean.value == Literal("boolean", False, boolean.value.pos)
    assert isinstance(null, Comparison) and isinstance(null.value, Literal) and null.value.kind == "null"
    assert isinstance(relative, Comparison) and relative.value.value == ("LAST_N_DAYS", 7)
    assert isinstance(escaped, Comparison) and escaped.value.value == "it's"


def test_subquery_in_the_select_list() -> None:
    q = parse("SELECT Id, (SELECT CommentBody FROM CaseComments WHERE IsPublished = true LIMIT 5), Subject FROM Case")
    assert [p.text for p in q.fields] == ["Id", "Subject"]
    (sub,) = q.subqueries
    assert (sub.sobject, [p.text for p in sub.fields], sub.limit) == ("CaseComments", ["CommentBody"], 5)
    with pytest.raises(SfError):
        parse("SELECT Id, (SELECT Id, (SELECT Id FROM Tasks) FROM CaseComments) FROM Case")  # one level only


def test_count_forms() -> None:
    assert parse("SELECT COUNT() FROM Case").count
    q = parse("SELECT COUNT(Id) FROM Case")
    assert q.count and q.count_path is not None and q.count_path.text == "Id"


def test_not_equal_spelled_both_ways() -> None:
    for op in ("!=", "<>"):
        q = parse(f"SELECT Id FROM Case WHERE Status {op} 'New'")
        assert isinstance(q.where, Comparison) and q.where.op == "!="


@pytest.mark.parametrize(("soql", "detail", "column"), [
    ("SELECT Id FROM Account WHERE Name = 'a' AND Id = 'b' OR Id = 'c'", "unexpected token: 'OR'", 54),
    ("SELECT Id FROM", "unexpected token: <EOF>", 15),
    ("SELECT FROM Account", "unexpected token: 'FROM'", 8),
    ("SELECT Id FROM Account WHERE", "unexpected token: <EOF>", 29),
    ("SELECT Id FROM Account LIMIT ten", "unexpected token: 'ten'", 30),
    ("SELECT Id FROM Account WHERE Name = :name", "Bind variables only allowed in Apex code", 37),
    ("SELECT Id FROM Account WHERE Name = 'open", "mismatched character '<EOF>'", 37),
    ("SELECT Id FROM Account WHERE Name = \"x\"", "no viable alternative at character '\"'", 37),
    ("SELECT Id, FROM Account", "unexpected token: 'FROM'", 12),
])
def test_syntax_errors_point_at_the_spot(soql: str, detail: str, column: int) -> None:
    with pytest.raises(SfError) as caught:
        parse(soql)
    error = caught.value.errors[0]
    assert error.code == "MALFORMED_QUERY"
    assert f"ERROR at Row:1:Column:{column}\n" in error.message
    assert detail in error.message
    assert error.message.startswith(f"\n{soql}\n" + " " * (column - 1) + "^\n")
