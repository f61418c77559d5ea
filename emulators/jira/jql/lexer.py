"""JQL tokens. Unquoted words may hold letters, digits and `_ - . :`; other JQL reserved characters
must be quoted, and Jira's own error text says so."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "Error in the JQL Query: "
RESERVED = set("+;?*/%^$#@")
DELIMITERS = set("\"'(),=!<>~[]&|") | RESERVED
OPERATORS = ("!=", "!~", "<=", ">=", "=", "~", "<", ">")
KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "EMPTY", "NULL", "ORDER", "BY", "ASC", "DESC"}
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", " ": " "}


class JqlError(ValueError):
    """A JQL problem; the message is Jira's, ready for `errorMessages`."""


@dataclass(frozen=True)
class Token:
    kind: str  # WORD, STRING, OP, AND, OR, NOT, (, ), ",", [, ], EOF
    text: str
    pos: int
    jql: str

    @property
    def keyword(self) -> str | None:
        upper = self.text.upper()
        return upper if self.kind == "WORD" and upper in KEYWORDS else None

    def where(self) -> str:
        before = self.jql[:self.pos]
        line = before.count("\n") + 1
        column = self.pos - (before.rfind("\n") + 1) + 1
        return f"(line {line}, character {column})"


def syntax_error(message: str, token: Token | None = None) -> JqlError:
    suffix = f" {token.where()}" if token is not None else ""
    return JqlError(f"{PREFIX}{message}{suffix}")


def tokenize(jql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(jql):
        char = jql[pos]
        if char.isspace():
            pos += 1
        elif char in "\"'":
            text, pos_after = _quoted(jql, pos)
            tokens.append(Token("STRING", text, pos, jql))
            pos = pos_after
        elif char in "(),[]":
            tokens.append(Token(char, char, pos, jql))
            pos += 1
        elif char in "&|":
            width = 2 if jql[pos:pos + 2] in ("&&", "||") else 1
            tokens.append(Token("AND" if char == "&" else "OR", jql[pos:pos + width], pos, jql))
            pos += width
        elif (op := next((o for o in OPERATORS if jql.startswith(o, pos)), None)) is not None:
            tokens.append(Token("OP", op, pos, jql))
            pos += len(op)
        elif char == "!":
            tokens.append(Token("NOT", "!", pos, jql))
            pos += 1
        elif char in RESERVED:
            raise syntax_error(f"The character '{char}' is a reserved JQL character. You must enclose it in a "
                               f"string or use the escape '\\u{ord(char):04x}' instead.", Token("", char, pos, jql))
        else:
            start = pos
            while pos < len(jql) and not jql[pos].isspace() and jql[pos] not in DELIMITERS:
                pos += 1
            tokens.append(Token("WORD", jql[start:pos], start, jql))
    tokens.append(Token("EOF", "", len(jql), jql))
    return tokens


def _quoted(jql: str, start: int) -> tuple[str, int]:
    quote, pos, out = jql[start], start + 1, []
    while pos < len(jql):
        char = jql[pos]
        if char == quote:
            return "".join(out), pos + 1
        if char == "\\" and pos + 1 < len(jql):
            nxt = jql[pos + 1]
            if nxt == "u" and pos + 5 < len(jql):
                out.append(chr(int(jql[pos + 2:pos + 6], 16)))
                pos += 6
                continue
            out.append(ESCAPES.get(nxt, nxt))
            pos += 2
            continue
        out.append(char)
        pos += 1
    raise syntax_error(f"The quoted string '{''.join(out)}' has not been completed.", Token("", "", start, jql))
