"""One mapping's state at a glance (CLI `status`, later the dashboard)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sfjira.state import lease, migrations, runs, watermarks
from sfjira.state.schema import intents, links, rejects, synced_state


def _count_by(conn: sa.Connection, table: sa.Table, mapping: str, column: str) -> dict[str, int]:
    query = (sa.select(table.c[column], sa.func.count()).where(table.c.mapping == mapping)
             .group_by(table.c[column]))
    return {str(key): int(n) for key, n in conn.execute(query)}


def _count(conn: sa.Connection, table: sa.Table, mapping: str, *where: Any) -> int:
    query = sa.select(sa.func.count()).select_from(table).where(table.c.mapping == mapping, *where)
    return int(conn.execute(query).scalar() or 0)


def mappings(conn: sa.Connection) -> list[str]:
    return [str(name) for name in conn.execute(sa.select(runs.runs.c.mapping).distinct().order_by(runs.runs.c.mapping))
            .scalars()]


def status(conn: sa.Connection, mapping: str) -> dict[str, Any]:
    recent = runs.listing(conn, mapping, limit=5, status=None)
    return {
        "mapping": mapping,
        "schema_version": migrations.read_version(conn),
        "runs": _count_by(conn, runs.runs, mapping, "status"),
        "recent_runs": recent[["run_id", "status", "started_at", "finished_at", "attempts"]],
        "links": _count_by(conn, links, mapping, "state"),
        "synced_records": _count(conn, synced_state, mapping),
        "pending_intents": _count(conn, intents, mapping, intents.c.status == "pending"),
        "open_rejects": _count(conn, rejects, mapping, rejects.c.resolved.is_(False)),
        "watermarks": watermarks.get_all(conn, mapping),
        "writer_lease": lease.current(conn, mapping),
    }
