"""Dialect-aware batched INSERT ... ON CONFLICT, and readable errors for constraint violations."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from sfjira.exceptions import StateStoreError
from sfjira.state.frames import batches

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


# Constraint (PostgreSQL name / SQLite column list) -> (code, message, fix).
_KNOWN: dict[tuple[str, str], tuple[str, str, str]] = {
    ("uq_sfjira_links_mapping_jira_key", "sfjira_links.jira_key"): (
        "STATE_LINK_CONFLICT", "a Jira issue key is already linked to another Salesforce record",
        "a Jira issue can be linked to one Salesforce record per mapping: find the duplicate Salesforce id "
        "on the Jira issue, or remove the stale link with `python -m sfjira.state unlink`"),
    ("uq_sfjira_links_mapping_jira_id", "sfjira_links.jira_id"): (
        "STATE_LINK_CONFLICT", "a Jira issue id is already linked to another Salesforce record",
        "a Jira issue can be linked to one Salesforce record per mapping: remove the stale link with "
        "`python -m sfjira.state unlink`"),
    ("uq_sfjira_comment_links_mapping_jira_comment_id", "sfjira_comment_links.jira_comment_id"): (
        "STATE_LINK_CONFLICT", "a Jira comment is already linked to another Salesforce comment",
        "a Jira comment mirrors one Salesforce comment per mapping: check the comment loader's idempotency key"),
    ("fk_", "FOREIGN KEY"): (
        "STATE_RUN_UNKNOWN", "a row refers to a run that the store does not know",
        "call StateStore.begin_run(...) before writing ledger, intents or drift for the run"),
}


@contextmanager
def constraint_errors() -> Iterator[None]:
    """Turn IntegrityError into a StateStoreError that says which rule was broken and what to do."""
    try:
        yield
    except sa.exc.IntegrityError as err:
        detail = str(err.orig)
        for (pg_name, sqlite_hint), (code, message, fix) in _KNOWN.items():
            if pg_name in detail or sqlite_hint in detail:
                raise StateStoreError(f"{message}: {detail.strip()}", code=code, fix=fix) from err
        raise StateStoreError(f"state store constraint violated: {detail.strip()}", code="STATE_CONSTRAINT",
                              fix="this is a bug in the caller's input; report it with the message above") \
            from err
