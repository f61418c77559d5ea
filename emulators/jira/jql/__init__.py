"""A JQL subset: a real tokenizer and recursive-descent parser (lexer, parser) compiled to SQL (compile)."""

from __future__ import annotations

from emulators.jira.jql.compile import CompileContext, SqlQuery, compile_query
from emulators.jira.jql.lexer import JqlError
from emulators.jira.jql.parser import parse

__all__ = ["CompileContext", "JqlError", "SqlQuery", "compile_query", "parse"]
