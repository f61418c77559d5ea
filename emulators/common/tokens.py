"""The token cursor both query parsers (SOQL and JQL) stand on."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class TokenCursor(Generic[T]):
    """Recursive-descent parsers read a token list ending in an EOF token: `tok` is the current one,
    `advance()` consumes it, `peek(n)` looks ahead without consuming."""

    def __init__(self, tokens: list[T]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def tok(self) -> T:
        return self.tokens[self.index]

    def peek(self, ahead: int = 1) -> T:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> T:
        token = self.tokens[self.index]
        self.index += 1
        return token
