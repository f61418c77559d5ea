"""Recursive-descent JQL parser producing a small AST:

    query    := [or_expr] [ORDER BY sort (',' sort)*] EOF
    or_expr  := and_expr (OR and_expr)*
    and_expr := not_expr (AND not_expr)*
    not_expr := NOT not_expr | '(' or_expr ')' | clause
    clause   := field operator operand
    field    := WORD | STRING, optionally followed by '[' name ']' and a '.path' (cf[10050],
                issue.property[sfjira].sfid)
    operand  := value | function | '(' value (',' value)* ')' | EMPTY | NULL
"""

from __future__ import annotations

from dataclasses import dataclass

from emulators.common.tokens import TokenCursor
from emulators.jira.jql.lexer import Token, syntax_error, tokenize

VALID_OPERATORS = ("The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' "
                   "and 'IS NOT'.")


@dataclass(frozen=True)
class FieldRef:
    name: str
    property_key: str | None = None
    property_path: str | None = None

    def display(self) -> str:
        if self.property_key is None:
            return self.name
        return f"{self.name}[{self.property_key}]" + (f".{self.property_path}" if self.property_path else "")


@dataclass(frozen=True)
class Value:
    text: str
    quoted: bool


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Empty:
    pass


Operand = Value | Function | Empty | tuple[Value | Function, ...]


@dataclass(frozen=True)
class Clause:
    field: FieldRef
    op: str  # lower case: =, !=, ~, !~, <, >, <=, >=, in, not in, is, is not
    operand: Operand


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Clause | And | Or | Not


@dataclass(frozen=True)
class Sort:
    field: FieldRef
    descending: bool


@dataclass(frozen=True)
class Query:
    where: Node | None
    order: tuple[Sort, ...]


def parse(jql: str) -> Query:
    return _Parser(tokenize(jql)).query()


class _Parser(TokenCursor[Token]):
    def is_kw(self, word: str) -> bool:
        return self.tok.keyword == word or self.tok.kind == word

    # -- grammar --------------------------------------------------------------------------------------

    def query(self) -> Query:
        where = None if self.tok.kind == "EOF" or self.is_kw("ORDER") else self.or_expr()
        order: tuple[Sort, ...] = ()
        if self.is_kw("ORDER"):
            self.advance()
            if not self.is_kw("BY"):
                raise self.unexpected("Expecting 'by'")
            self.advance()
            order = self.sorts()
        if self.tok.kind != "EOF":
            raise self.unexpected("Expecting either 'OR' or 'AND'")
        return Query(where, order)

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.is_kw("OR"):
            self.advance()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.is_kw("AND"):
            self.advance()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_expr(self) -> Node:
        if self.is_kw("NOT"):
            self.advance()
            return Not(self.not_expr())
        if self.tok.kind == "(":
            self.advance()
            inner = self.or_expr()
            self.expect(")")
            return inner
        return self.clause()

    def clause(self) -> Clause:
        ref = self.field()
        op = self.operator()
        return Clause(ref, op, self.operand(op))

    def field(self) -> FieldRef:
        token = self.tok
        if token.kind not in ("WORD", "STRING") or token.keyword:
            if token.kind == "EOF":
                raise syntax_error("Expecting a field name at the end of the query.")
            raise syntax_error(f"Expecting a field name but got '{token.text}'. You must surround '{token.text}' in "
                               "quotation marks to use it as a field name.", token)
        self.advance()
        if self.tok.kind != "[":
            return FieldRef(token.text)
        self.advance()
        key = self.advance()
        if key.kind not in ("WORD", "STRING"):
            raise syntax_error(f"Expecting a property key but got '{key.text}'.", key)
        self.expect("]")
        if token.text.lower() == "cf":
            return FieldRef(f"cf[{key.text}]")
        path = None
        if self.tok.kind == "WORD" and self.tok.text.startswith("."):
            path = self.advance().text[1:]
        return FieldRef(token.text, key.text, path)

    def operator(self) -> str:
        token = self.tok
        if token.kind == "OP":
            self.advance()
            return token.text
        if token.keyword == "IN":
            self.advance()
            return "in"
        if token.keyword == "NOT" and self.peek().keyword == "IN":
            self.index += 2
            return "not in"
        if token.keyword == "IS":
            self.advance()
            if self.is_kw("NOT"):
                self.advance()
                return "is not"
            return "is"
        if token.kind == "EOF":
            raise syntax_error(f"Expecting operator before the end of the query. {VALID_OPERATORS}")
        raise syntax_error(f"Expecting operator but got '{token.text}'. {VALID_OPERATORS}", token)

    def operand(self, op: str) -> Operand:
        if op in ("is", "is not"):
            if self.tok.keyword in ("EMPTY", "NULL"):
                self.advance()
                return Empty()
            raise self.unexpected("Expecting 'EMPTY' or 'NULL'")
        if self.tok.kind == "(" and op in ("in", "not in"):
            self.advance()
            items = [self.value()]
            while self.tok.kind == ",":
                self.advance()
                items.append(self.value())
            self.expect(")")
            return tuple(items)
        if self.tok.keyword in ("EMPTY", "NULL"):
            self.advance()
            return Empty()
        return self.value()

    def value(self) -> Value | Function:
        token = self.tok
        if token.kind == "STRING" or (token.kind == "WORD" and not token.keyword):
            self.advance()
            if token.kind == "WORD" and self.tok.kind == "(":
                return self.function(token)
            return Value(token.text, token.kind == "STRING")
        if token.kind == "EOF":
            raise syntax_error("Expecting either a value, list or function before the end of the query.")
        raise syntax_error(f"Expecting either a value, list or function but got '{token.text}'. You must surround "
                           f"'{token.text}' in quotation marks to use it as a value.", token)

    def function(self, name: Token) -> Function:
        self.expect("(")
        args: list[str] = []
        while self.tok.kind in ("WORD", "STRING"):
            args.append(self.advance().text)
            if self.tok.kind != ",":
                break
            self.advance()
        self.expect(")")
        return Function(name.text, tuple(args))

    def sorts(self) -> tuple[Sort, ...]:
        sorts = [self.sort()]
        while self.tok.kind == ",":
            self.advance()
            sorts.append(self.sort())
        return tuple(sorts)

    def sort(self) -> Sort:
        ref = self.field()
        descending = False
        if self.tok.keyword in ("ASC", "DESC"):
            descending = self.advance().keyword == "DESC"
        return Sort(ref, descending)

    # -- errors ---------------------------------------------------------------------------------------

    def expect(self, kind: str) -> Token:
        if self.tok.kind != kind:
            if self.tok.kind == "EOF":
                raise syntax_error(f"Expecting '{kind}' before the end of the query.")
            raise syntax_error(f"Expecting '{kind}' but got '{self.tok.text}'.", self.tok)
        return self.advance()

    def unexpected(self, expecting: str) -> Exception:
        if self.tok.kind == "EOF":
            return syntax_error(f"{expecting} before the end of the query.")
        return syntax_error(f"{expecting} but got '{self.tok.text}'.", self.tok)
