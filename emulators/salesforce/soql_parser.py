"""SOQL: a tokenizer and a recursive-descent parser producing a small syntax tree (no eval anywhere).

Grammar (the subset the emulator serves):

    query      := SELECT select FROM name [WHERE condition] [ORDER BY order (, order)*]
                  [LIMIT integer] [OFFSET integer]
    select     := COUNT ( [path] ) | item (, item)*
    item       := path | ( query )                             -- a parent-to-child subquery
    condition  := unary (AND unary)* | unary (OR unary)*      -- mixing AND/OR needs parentheses
    unary      := NOT unary | ( condition ) | comparison
    comparison := path op value | path [NOT] IN ( value (, value)* ) | path LIKE string
    op         := = | != | <> | < | <= | > | >=
    value      := string | number | date | datetime | TRUE | FALSE | NULL | TODAY | YESTERDAY | TOMORROW
                  | LAST_N_DAYS:n | NEXT_N_DAYS:n
    order      := path [ASC | DESC] [NULLS FIRST | NULLS LAST]

Syntax errors raise MALFORMED_QUERY in Salesforce's format (the line, a caret, `ERROR at Row:R:Column:C`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from emulators.common.tokens import TokenCursor
from emulators.salesforce.errors import SfError, soql_error

KEYWORDS = frozenset({"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC",
                      "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "TRUE", "FALSE", "NULL"})
DATE_LITERALS = frozenset({"TODAY", "YESTERDAY", "TOMORROW"})
DATE_N_LITERALS = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS"})
COMPARISON_OPS = frozenset({"=", "!=", "<>", "<", "<=", ">", ">="})

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),:])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


@dataclass(frozen=True)
class Token:
    kind: str  # ident string number date datetime op punct eof
    text: str
    pos: int
    value: Any = None

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""


@dataclass(frozen=True)
class Path:
    parts: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Literal:
    kind: str  # string number boolean null date datetime date_literal
    value: Any
    pos: int
    like_pattern: str | None = None  # strings: the text with LIKE escapes (\% \_) kept


@dataclass(frozen=True)
class Comparison:
    path: Path
    op: str  # = != < <= > >= IN NOT IN LIKE
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND | OR
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Comparison | BoolOp | Not


@dataclass(frozen=True)
class OrderItem:
    path: Path
    descending: bool
    nulls_last: bool


@dataclass(frozen=True)
class Query:
    text: str
    fields: tuple[Path, ...]
    subqueries: tuple[Query, ...]
    count: bool
    count_path: Path | None
    sobject: str
    sobject_pos: int
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None


def malformed(query: str, pos: int, detail: str) -> SfError:
    return soql_error("MALFORMED_QUERY", query, pos, detail)


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(query):
        if query[pos] == "'":
            token, pos = _string(query, pos)
            tokens.append(token)
            continue
        match = _TOKEN_RE.match(query, pos)
        if not match:
            raise malformed(query, pos, f"line 1:{pos} no viable alternative at character '{query[pos]}'")
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "number" and text[0] in "+-" and tokens and tokens[-1].kind in ("ident", "number", "string"):
            raise malformed(query, pos, f"unexpected token: '{text[0]}'")
        if kind != "ws":
            tokens.append(Token(kind, text, pos))
        pos = match.end()
    tokens.append(Token("eof", "<EOF>", len(query)))
    return tokens


def _string(query: str, start: int) -> tuple[Token, int]:
    value: list[str] = []
    pos = start + 1
    while pos < len(query):
        char = query[pos]
        if char == "'":
            return Token("string", query[start:pos + 1], start, "".join(value)), pos + 1
        if char == "\\":
            if pos + 1 >= len(query):
                break
            nxt = query[pos + 1]
            if nxt in "%_" or nxt in _ESCAPES:
                value.append(_ESCAPES.get(nxt, nxt))
            else:
                raise malformed(query, pos, f"Invalid string literal '{query[start:pos + 2]}'. Illegal character "
                                            "sequence '\\" + nxt + "' in string literal.")
            pos += 2
            continue
        value.append(char)
        pos += 1
    raise malformed(query, start, f"line 1:{len(query)} mismatched character '<EOF>' expecting '''")


class Parser(TokenCursor[Token]):
    def __init__(self, query: str) -> None:
        super().__init__(tokenize(query))
        self.text = query

    # -- token helpers ---------------------------------------------------------------------------
    def at_keyword(self, *words: str) -> bool:
        return self.tok.upper in words

    def unexpected(self, token: Token | None = None) -> SfError:
        token = token or self.tok
        shown = "<EOF>" if token.kind == "eof" else f"'{token.text}'"
        if token.kind == "punct" and token.text == ":":
            return malformed(self.text, token.pos, "Bind variables only allowed in Apex code")
        return malformed(self.text, token.pos, f"unexpected token: {shown}")

    def expect_keyword(self, word: str) -> Token:
        if not self.at_keyword(word):
            raise self.unexpected()
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        if self.tok.kind != "punct" or self.tok.text != char:
            raise self.unexpected()
        return self.advance()

    def path(self) -> Path:
        token = self.tok
        if token.kind != "ident" or token.upper in KEYWORDS:
            raise self.unexpected()
        self.advance()
        return Path(tuple(token.text.split(".")), token.pos)

    # -- grammar ---------------------------------------------------------------------------------
    def parse(self) -> Query:
        query = self.query(nested=False)
        if self.tok.kind != "eof":
            raise self.unexpected()
        return query

    def query(self, nested: bool) -> Query:
        self.expect_keyword("SELECT")
        count, count_path = False, None
        fields: list[Path] = []
        subqueries: list[Query] = []
        if self.at_keyword("COUNT"):
            self.advance()
            self.expect_punct("(")
            count = True
            if not (self.tok.kind == "punct" and self.tok.text == ")"):
                count_path = self.path()
            self.expect_punct(")")
        else:
            self.select_item(fields, subqueries, nested)
            while self.tok.kind == "punct" and self.tok.text == ",":
                self.advance()
                self.select_item(fields, subqueries, nested)
        self.expect_keyword("FROM")
        sobject = self.tok
        if sobject.kind != "ident" or "." in sobject.text or sobject.upper in KEYWORDS:
            raise self.unexpected()
        self.advance()
        where = None
        if self.at_keyword("WHERE"):
            self.advance()
            where = self.condition()
        order_by = self.order_by()
        limit = self.integer_clause("LIMIT")
        offset = None if nested else self.integer_clause("OFFSET")
        return Query(self.text, tuple(fields), tuple(subqueries), count, count_path, sobject.text, sobject.pos,
                     where, tuple(order_by), limit, offset)

    def select_item(self, fields: list[Path], subqueries: list[Query], nested: bool) -> None:
        if self.tok.kind == "punct" and self.tok.text == "(" and not nested:
            self.advance()
            subqueries.append(self.query(nested=True))
            self.expect_punct(")")
        else:
            fields.append(self.path())

    def condition(self) -> Condition:
        items = [self.unary()]
        connector = None
        while self.at_keyword("AND", "OR"):
            word = self.tok.upper
            if connector is not None and word != connector:
                raise self.unexpected()  # Salesforce requires parentheses when AND and OR mix
            connector = word
            self.advance()
            items.append(self.unary())
        return items[0] if connector is None else BoolOp(connector, tuple(items))

    def unary(self) -> Condition:
        if self.at_keyword("NOT"):
            self.advance()
            return Not(self.unary())
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        path = self.path()
        token = self.tok
        if token.kind == "op":
            self.advance()
            return Comparison(path, "!=" if token.text == "<>" else token.text, self.value())
        if self.at_keyword("LIKE"):
            self.advance()
            return Comparison(path, "LIKE", self.value())
        negate = self.at_keyword("NOT")
        if negate:
            self.advance()
        if not self.at_keyword("IN"):
            raise self.unexpected()
        self.advance()
        self.expect_punct("(")
        values = [self.value()]
        while self.tok.kind == "punct" and self.tok.text == ",":
            self.advance()
            values.append(self.value())
        self.expect_punct(")")
        return Comparison(path, "NOT IN" if negate else "IN", tuple(values))

    def value(self) -> Literal:
        token = self.advance()
        if token.kind == "string":
            raw = token.text[1:-1]
            return Literal("string", token.value, token.pos, like_pattern=_like_source(raw))
        if token.kind == "number":
            number = float(token.text)
            return Literal("number", int(number) if number.is_integer() and "." not in token.text else number,
                           token.pos)
        if token.kind in ("date", "datetime"):
            return Literal(token.kind, token.text, token.pos)
        word = token.upper
        if word in ("TRUE", "FALSE"):
            return Literal("boolean", word == "TRUE", token.pos)
        if word == "NULL":
            return Literal("null", None, token.pos)
        if word in DATE_LITERALS:
            return Literal("date_literal", (word, 0), token.pos)
        if word in DATE_N_LITERALS:
            self.expect_punct(":")
            n = self.advance()
            if n.kind != "number" or not n.text.isdigit():
                raise self.unexpected(n)
            return Literal("date_literal", (word, int(n.text)), token.pos)
        raise self.unexpected(token)

    def order_by(self) -> list[OrderItem]:
        if not self.at_keyword("ORDER"):
            return []
        self.advance()
        self.expect_keyword("BY")
        items = [self.order_item()]
        while self.tok.kind == "punct" and self.tok.text == ",":
            self.advance()
            items.append(self.order_item())
        return items

    def order_item(self) -> OrderItem:
        path = self.path()
        descending = False
        if self.at_keyword("ASC", "DESC"):
            descending = self.advance().upper == "DESC"
        nulls_last = descending  # Salesforce: ASC puts nulls first, DESC puts them last
        if self.at_keyword("NULLS"):
            self.advance()
            if not self.at_keyword("FIRST", "LAST"):
                raise self.unexpected()
            nulls_last = self.advance().upper == "LAST"
        return OrderItem(path, descending, nulls_last)

    def integer_clause(self, word: str) -> int | None:
        if not self.at_keyword(word):
            return None
        self.advance()
        token = self.advance()
        if token.kind != "number" or not token.text.isdigit():
            raise self.unexpected(token)
        return int(token.text)


def _like_source(raw: str) -> str:
    """The string's text with ordinary escapes resolved but \\% and \\_ kept for the LIKE matcher."""
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            out.append("\\" + nxt if nxt in "%_" else _ESCAPES.get(nxt, nxt))
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def parse(query: str) -> Query:
    return Parser(query).parse()
