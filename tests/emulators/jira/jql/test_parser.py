"""The JQL tokenizer and recursive-descent parser: trees and Jira's syntax error messages."""

from __future__ import annotations

import pytest

from emulators.jira.jql import JqlError, parse
from emulators.jira.jql.parser import And, Clause, Empty, FieldRef, Function, Not, Or, Sort, Value


def clause(field: str, op: str, value: str, quoted: bool = False) -> Clause:
    return Clause(FieldRef(field), op, Value(value, quoted))


def test_and_binds_tighter_than_or_and_parentheses_override() -> None:
    assert parse("a = 1 OR b = 2 AND c = 3").where == Or((clause("a", "=", "1"),
                                                          And((clause("b", "=", "2"), clause("c", "=", "3")))))
    assert parse("(a = 1 OR b = 2) AND c = 3").where == And((Or((clause("a", "=", "1"), clause("b", "=", "2"))),
                                                             clause("c", "=", "3")))


def test_not_lists_empty_functions_and_symbol_operators() -> None:
    query = parse('NOT status in ("To Do", Done) && key not in (SUP-1) || assignee = currentUser() '
                  "AND cf[10050] is not EMPTY AND !labels = x")
    assert isinstance(query.where, Or)
    left, right = query.where.parts
    assert left == And((Not(Clause(FieldRef("status"), "in", (Value("To Do", True), Value("Done", False)))),
                        Clause(FieldRef("key"), "not in", (Value("SUP-1", False),))))
    assert right == And((Clause(FieldRef("assignee"), "=", Function("currentUser", ())),
                         Clause(FieldRef("cf[10050]"), "is not", Empty()), Not(clause("labels", "=", "x"))))


def test_entity_property_and_quoted_custom_field_names() -> None:
    query = parse("issue.property[sfjira].sfid = '006000000000001AAA' and \"Salesforce ID\" ~ \"0060\"")
    assert query.where == And((
        Clause(FieldRef("issue.property", "sfjira", "sfid"), "=", Value("006000000000001AAA", True)),
        Clause(FieldRef("Salesforce ID"), "~", Value("0060", True))))


def test_order_by_several_fields() -> None:
    query = parse("project = SUP ORDER BY updated DESC, cf[10052], key asc")
    assert query.order == (Sort(FieldRef("updated"), True), Sort(FieldRef("cf[10052]"), False),
                           Sort(FieldRef("key"), False))
    assert parse("order by key").where is None


def test_quoted_strings_unescape() -> None:
    assert parse(r'summary ~ "say \"hi\" \u00fcber"').where == clause("summary", "~", 'say "hi" über', True)


@pytest.mark.parametrize(("jql", "message"), [
    ("project foo SUP", "Error in the JQL Query: Expecting operator but got 'foo'. The valid operators are '=', "
                        "'!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 1, "
                        "character 9)"),
    ('summary ~ "open', "Error in the JQL Query: The quoted string 'open' has not been completed. (line 1, "
                        "character 11)"),
    ("project = AND", "Error in the JQL Query: Expecting either a value, list or function but got 'AND'. You "
                      "must surround 'AND' in quotation marks to use it as a value. (line 1, character 11)"),
    ("project = SUP status = Done", "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'status'. "
                                    "(line 1, character 15)"),
    ("project = SUP AND", "Error in the JQL Query: Expecting a field name at the end of the query."),
    ("(project = SUP", "Error in the JQL Query: Expecting ')' before the end of the query."),
    ("project = SUP ORDER key", "Error in the JQL Query: Expecting 'by' but got 'key'. (line 1, character 21)"),
    ("project = SUP%", "Error in the JQL Query: The character '%' is a reserved JQL character. You must enclose "
                       "it in a string or use the escape '\\u0025' instead. (line 1, character 14)"),
    ("project =", "Error in the JQL Query: Expecting either a value, list or function before the end of the "
                  "query."),
    ("project\n= SUP\nAND = 1", "Error in the JQL Query: Expecting a field name but got '='. You must surround "
                                "'=' in quotation marks to use it as a field name. (line 3, character 5)"),
    ("cf[10050] is open", "Error in the JQL Query: Expecting 'EMPTY' or 'NULL' but got 'open'. (line 1, "
                          "character 14)"),
])
def test_syntax_errors_use_jiras_messages(jql: str, message: str) -> None:
    with pytest.raises(JqlError) as caught:
        parse(jql)
    assert str(caught.value) == message
