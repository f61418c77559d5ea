"""The mapping's `salesforce.where`: exactly one SOQL condition, checked before it meets a query.

The text goes into the WHERE clause next to the window (and, in the reconciliation, next to the
Jira-key scope), so it must not be able to leave its parentheses or add a clause:

- string literals are single-quoted with SOQL's backslash escapes (\\' \\" \\\\ \\n \\r \\t \\b \\f \\_ \\%);
- parentheses balance, and a `)` never closes one the condition did not open;
- no subquery (SELECT), no `;`, no clause keyword (ORDER BY, LIMIT, OFFSET, GROUP BY, HAVING, WITH,
  FOR, UPDATE, ALL ROWS, ...) outside a literal;
- the text parses as one condition: comparisons (`=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`, LIKE, IN,
  NOT IN, INCLUDES, EXCLUDES) joined by AND / OR / NOT and parentheses, with nothing after it; as in
  SOQL, AND and OR on one level need parentheses to say which binds first.

`where_clause` returns the checked condition in parentheses, the only form in which it is ANDed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sfjira.exceptions import SfJiraError

LOGICAL = frozenset({"AND", "OR", "NOT"})
SET_OPERATORS = frozenset({"IN", "INCLUDES", "EXCLUDES"})
# Words that start another clause (or a query) and so can never be part of one condition.
CLAUSE_WORDS = frozenset({"SELECT", "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "WITH",
                          "FOR", "UPDATE", "USING", "TYPEOF", "ALL"})
RESERVED = LOGICAL | SET_OPERATORS | CLAUSE_WORDS | {"LIKE"}
_ESCAPES = frozenset("nNrRtTbBfF\"'\\_%")
_TOKEN = re.compile(r"(?P<space>\s+)|(?P<string>'(?:[^'\\]|\\.)*')|(?P<op><=|>=|!=|<>|=|<|>)|(?P<open>\()"
                    r"|(?P<close>\))|(?P<comma>,)|(?P<word>[A-Za-z0-9_.:+\-]+)", re.S)
_FIX = "write one SOQL condition, e.g. Origin = 'Web' AND (Priority = 'High' OR IsEscalated = true)"


class ConditionError(SfJiraError):
    """`salesforce.where` is not exactly one SOQL condition."""

    code = "WHERE_INVALID"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    at: int  # 1-based column

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def where_clause(where: str | None) -> str | None:
    """`(<condition>)` for a non-blank `where`, None for a blank one; ConditionError if it is not one condition."""
    return f"({check_condition(where)})" if where and where.strip() else None


def check_condition(text: str) -> str:
    """The condition, stripped, when it is exactly one SOQL condition; ConditionError otherwise."""
    tokens = tokenize(text)
    if not tokens:
        raise ConditionError("`where` is blank", fix="remove `where`, or " + _FIX)
    _no_clause_words(tokens)
    parser = _Parser(tokens)
    parser.condition()
    parser.at_end()
    return text.strip()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _bad_character(text, position)
        kind = str(match.lastgroup)
        if kind == "string":
            _check_escapes(match.group(), position)
        if kind != "space":
            tokens.append(Token(kind, match.group(), position + 1))
        position = match.end()
    return tokens


def _bad_character(text: str, position: int) -> ConditionError:
    char = text[position]
    if char == "'":
        return ConditionError(f"the string literal opened at column {position + 1} is never closed",
                              fix="close it with ' and write a quote inside a literal as \\' (O\\'Brien)")
    if char == ";":
        return ConditionError("`where` cannot contain ';'", fix="write a single SOQL condition")
    if char == '"':
        return ConditionError(f'column {position + 1}: SOQL strings take single quotes, not "',
                              fix="quote text as 'Web', and write a quote inside it as \\'")
    return ConditionError(f"column {position + 1}: {char!r} has no place in a SOQL condition", fix=_FIX)


def _check_escapes(literal: str, position: int) -> None:
    for match in re.finditer(r"\\(.)", literal[1:-1], re.S):
        if match.group(1) not in _ESCAPES:
            raise ConditionError(f"column {position + 2 + match.start()}: \\{match.group(1)} is not a SOQL "
                                 "escape sequence", fix="use \\' \\\" \\\\ \\n \\r \\t \\b \\f \\_ or \\%, "
                                 "and \\\\ for a backslash itself")


def _no_clause_words(tokens: list[Token]) -> None:
    for token in tokens:
        if token.keyword == "SELECT":
            raise ConditionError(f"column {token.at}: a subquery (SELECT) is not allowed in `where`",
                                 fix="filter on the object's own fields, or on a parent's through a relationship "
                                     "path such as Account.Industry = 'Energy'")
        if token.keyword == "WHERE" and token is tokens[0]:
            raise ConditionError("`where` holds the condition only", fix="remove the leading WHERE")
        if token.keyword in CLAUSE_WORDS:
            raise ConditionError(f"column {token.at}: `{token.text}` starts another clause; `where` holds one "
                                 "condition and nothing after it",
                                 fix=f"remove `{token.text} ...`: the sync orders, limits and pages the query itself")


class _Parser:
    """Recursive descent over the tokens: condition := term ((AND | OR) term)*."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str, what: str) -> Token:
        token = self.peek()
        if token is None or token.kind != kind:
            raise self.expected(what)
        self.index += 1
        return token

    def expected(self, what: str) -> ConditionError:
        token = self.peek()
        found = f"column {token.at}: expected {what}, found `{token.text}`" if token else f"expected {what} at the end"
        return ConditionError(found, fix=_FIX)

    def at_end(self) -> None:
        token = self.peek()
        if token is not None and token.kind == "close":
            raise ConditionError(f"column {token.at}: this `)` closes no `(` of the condition", fix=_FIX)
        if token is not None:
            raise ConditionError(f"column {token.at}: `{token.text}` after the end of the condition", fix=_FIX)

    def condition(self) -> None:
        self.term()
        joined = ""
        while (token := self.peek()) is not None and token.keyword in ("AND", "OR"):
            if joined and token.keyword != joined:  # SOQL refuses A AND B OR C: the grouping must be written
                raise ConditionError(f"column {token.at}: {joined} and {token.keyword} are mixed without "
                                     "parentheses", fix=f"group them, e.g. A {joined} (B {token.keyword} C)")
            joined = token.keyword
            self.index += 1
            self.term()

    def term(self) -> None:
        token = self.peek()
        if token is not None and token.keyword == "NOT":
            self.index += 1
            self.term()
        elif token is not None and token.kind == "open":
            self.index += 1
            self.condition()
            self.take("close", "`)`")
        else:
            self.comparison()

    def comparison(self) -> None:
        self.operand("a field name")
        token = self.peek()
        if token is not None and token.keyword == "NOT":
            self.index += 1
            token = self.peek()
            if token is None or token.keyword != "IN":
                raise self.expected("IN after NOT")
        if token is not None and token.keyword in SET_OPERATORS:
            self.index += 1
            self.take("open", f"`(` after {token.keyword}")
            self.values(")")
        elif token is not None and (token.kind == "op" or token.keyword == "LIKE"):
            self.index += 1
            self.value()
        else:
            raise self.expected("an operator (=, !=, <, <=, >, >=, LIKE, IN, NOT IN, INCLUDES, EXCLUDES)")

    def operand(self, what: str) -> None:
        token = self.take("word", what)
        if token.keyword in RESERVED:
            raise ConditionError(f"column {token.at}: expected {what}, found the keyword `{token.text}`", fix=_FIX)
        if (following := self.peek()) is not None and following.kind == "open":  # a function: DAY_ONLY(CreatedDate)
            self.index += 1
            self.values(")")

    def value(self) -> None:
        token = self.peek()
        if token is not None and token.kind == "string":
            self.index += 1
        else:
            self.operand("a value")

    def values(self, closing: str) -> None:
        self.value()
        while (token := self.peek()) is not None and token.kind == "comma":
            self.index += 1
            self.value()
        self.take("close", f"`{closing}`")
