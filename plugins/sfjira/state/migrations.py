"""Versioned schema: ordered steps, applied once each, safe when several processes migrate at once.

A fresh database is created from `schema.metadata` and stamped with the newest version (the steps
exist to bring *older* databases forward). `migrate` serialises concurrent callers before it reads
the version: SQLite through `BEGIN IMMEDIATE` (the write lock, waited for via busy_timeout),
PostgreSQL through a transaction-scoped advisory lock. DDL is transactional on both, so a failed
step leaves the database at its previous version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from sfjira.exceptions import StateStoreError
from sfjira.state import schema
from sfjira.state.types import utcnow

# An arbitrary constant: pg_advisory_xact_lock keys are database-wide integers.
_PG_LOCK_KEY = 0x5F_A11A_57A7E


@dataclass(frozen=True)
class Step:
    version: int
    description: str
    apply: Callable[[sa.Connection], None]


def _baseline(conn: sa.Connection) -> None:
    schema.metadata.create_all(conn)


def _leases(conn: sa.Connection) -> None:
    schema.leases.create(conn, checkfirst=True)


def _ledger_audit_columns(conn: sa.Connection) -> None:
    """Issue 12 (audit): the ledger's `direction` and `cause` columns and its (mapping, at) index.

    Written to depend on no other step: it adds only what is missing, so it can be ordered before or
    after any other new step (e.g. the writer lease's table)."""
    table = schema.ledger
    have = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    for name in ("direction", "cause"):
        if name not in have:
            column = table.c[name]
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))
    for index in table.indexes:
        index.create(conn, checkfirst=True)


def _webhook_deliveries(conn: sa.Connection) -> None:
    """Issue 15 (webhooks): the receiver's delivery ids. Depends on no other step, like the steps above."""
    schema.webhook_deliveries.create(conn, checkfirst=True)


def _jira_deletes(conn: sa.Connection) -> None:
    """Issue 15 (deletes seen at once): Jira deletions reported by webhook, pending until a sync applies them.
    Depends on no other step, like the steps above."""
    schema.jira_deletes.create(conn, checkfirst=True)


STEPS: tuple[Step, ...] = (
    Step(1, "baseline: runs, watermarks, links, synced state, ledger, rejects, intents, comment links, drift",
         _baseline),
    Step(2, "writer leases: one writer per mapping", _leases),
    Step(3, "ledger_audit_columns: ledger direction and cause, index on (mapping, at)", _ledger_audit_columns),
    Step(4, "webhook_deliveries: delivery ids the webhook receiver accepted", _webhook_deliveries),
    Step(5, "jira_deletes: Jira deletions reported by webhook, pending until a sync applies them", _jira_deletes),
)
SCHEMA_VERSION = STEPS[-1].version
"""The newest schema version this code knows."""


def read_version(conn: sa.Connection) -> int:
    """The database's schema version; 0 when the store was never created."""
    if not sa.inspect(conn).has_table(schema.schema_version.name):
        return 0
    version = conn.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar()
    return int(version or 0)


def too_new_error(found: int, known: int, where: str) -> StateStoreError:
    return StateStoreError(
        f"the state store at {where} has schema version {found}, newer than version {known} that this "
        "sfjira knows; running against it could corrupt sync state",
        code="STATE_SCHEMA_TOO_NEW",
        fix="upgrade sfjira on every Airflow worker to the release that wrote this store, or point the "
            "`sfjira_state` connection at a store created by this release",
    )


def migrate(conn: sa.Connection, steps: Sequence[Step] = STEPS, *, where: str = "", pg_schema: str | None = None) -> int:
    """Bring the schema to the newest step inside the caller's transaction; returns the version.

    Call within `engine.transaction(engine, write=True)` so SQLite takes the write lock first; `pg_schema`
    (PostgreSQL) is created when missing."""
    _serialise(conn)
    if pg_schema is not None:
        conn.execute(sa.schema.CreateSchema(pg_schema, if_not_exists=True))
    _check_order(steps)
    current = read_version(conn)
    newest = steps[-1].version
    if current > newest:
        raise too_new_error(current, newest, where)
    if current == newest:
        return current
    if current == 0:
        schema.metadata.create_all(conn)
        _stamp(conn, steps)
        return newest
    pending = [step for step in steps if step.version > current]
    for step in pending:
        step.apply(conn)
    _stamp(conn, pending)
    return newest


def _serialise(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))


def _check_order(steps: Sequence[Step]) -> None:
    versions = [step.version for step in steps]
    if not versions or versions != sorted(set(versions)) or versions[0] != 1:
        raise StateStoreError(f"migration steps must be numbered 1, 2, ... in order, got {versions}",
                              code="STATE_MIGRATIONS_INVALID", fix="fix the STEPS list in sfjira.state.migrations")


def _stamp(conn: sa.Connection, steps: Sequence[Step]) -> None:
    now = utcnow()
    conn.execute(schema.schema_version.insert(),
                 [{"version": s.version, "description": s.description, "applied_at": now} for s in steps])
