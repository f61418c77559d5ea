"""The id map: Salesforce id <-> Jira issue id and key, per mapping."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from sfjira.batching import batches
from sfjira.state import idmap
from sfjira.state.frames import check_value, check_vocab, equals, prepare, read_frame, records, to_frame
from sfjira.state.schema import links, synced_state
from sfjira.state.types import utcnow
from sfjira.state.upsert import upsert
from sfjira.state.vocab import LINK_STATES

LINK_COLUMNS = ("sf_id", "jira_id", "jira_key", "state", "created_run", "updated_run", "created_at",
                "updated_at")
_WHAT = "links"


def read(conn: sa.Connection, mapping: str, *, state: str | None,
         columns: Sequence[str] = LINK_COLUMNS) -> pd.DataFrame:
    return read_frame(conn, links, columns, mapping, where=equals(links, "state", state, LINK_STATES),
                      order_by=("sf_id",),
                      datetimes=tuple(c for c in ("created_at", "updated_at") if c in columns))


def matching(*, state: str | None, updated_run: str | None) -> list[Any]:
    """Filters for `read_frame`: the links in `state`, last saved by run `updated_run` (each when given)."""
    return [*equals(links, "state", state, LINK_STATES),
            *([links.c.updated_run == updated_run] if updated_run is not None else [])]


def made_in(conn: sa.Connection, mapping: str, run_id: str, *, after: str | None, limit: int) -> pd.DataFrame:
    """Up to `limit` active links run `run_id` last saved, sf_id and jira_key, the next ones after sf_id
    `after` (keyset paging: each page continues down the primary key where the last one stopped, so
    reading all pages walks the mapping's links once, whatever their number)."""
    where = [links.c.mapping == mapping, *matching(state="active", updated_run=run_id),
             *([links.c.sf_id > after] if after is not None else [])]
    query = sa.select(links.c.sf_id, links.c.jira_key).where(*where).order_by(links.c.sf_id).limit(limit)
    return to_frame(conn.execute(query))


def count(conn: sa.Connection, mapping: str, *, state: str | None, updated_run: str | None) -> int:
    query = sa.select(sa.func.count()).select_from(links).where(
        links.c.mapping == mapping, *matching(state=state, updated_run=updated_run))
    return int(conn.execute(query).scalar() or 0)


def save(conn: sa.Connection, mapping: str, df: pd.DataFrame, run_id: str | None) -> int:
    frame = prepare(df, _WHAT, required=("sf_id", "jira_key"), optional={"jira_id": None, "state": "active"})
    check_vocab(frame, "state", LINK_STATES, _WHAT)
    frame = idmap.dedupe(frame, _WHAT, owner="sf_id", keys=("jira_key", "jira_id"))
    idmap.check_taken(conn, links, mapping, frame, _WHAT, owner="sf_id", key="jira_key")
    idmap.check_taken(conn, links, mapping, frame, _WHAT, owner="sf_id", key="jira_id")
    now = utcnow()
    rows = records(frame, mapping=mapping, created_run=run_id, updated_run=run_id, created_at=now, updated_at=now)
    # An incoming row without jira_id keeps the one already known (e.g. a key-only recovery look-up).
    return upsert(conn, links, rows, keys=("mapping", "sf_id"),
                  update=("jira_key", "state", "updated_run", "updated_at"),
                  extra=lambda stmt: {"jira_id": sa.func.coalesce(stmt.excluded.jira_id, links.c.jira_id)})


def set_state(conn: sa.Connection, mapping: str, sf_ids: Iterable[str], state: str, run_id: str | None) -> int:
    check_value(state, LINK_STATES, "link state")
    changed = 0
    for batch in batches(list(dict.fromkeys(sf_ids)), 500):
        result = conn.execute(links.update().where(links.c.mapping == mapping, links.c.sf_id.in_(batch))
                              .values(state=state, updated_run=run_id, updated_at=utcnow()))
        changed += result.rowcount
    return changed


def delete(conn: sa.Connection, mapping: str, sf_ids: Iterable[str]) -> int:
    """Forget links and their synced state (the ledger keeps the history)."""
    removed = 0
    for batch in batches(list(dict.fromkeys(sf_ids)), 500):
        conn.execute(synced_state.delete().where(synced_state.c.mapping == mapping,
                                                 synced_state.c.sf_id.in_(batch)))
        removed += conn.execute(links.delete().where(links.c.mapping == mapping,
                                                     links.c.sf_id.in_(batch))).rowcount
    return removed
