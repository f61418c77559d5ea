"""Jira deletions the webhook receiver heard of, pending until a sync run applies the jira_deleted policy.

`note` is the receiver's half: it keeps a report only for an issue with an ACTIVE link of the mapping
(found by issue id, which survives a move, else by key), so a report about any other issue -- another
project's, an unlinked one, a made-up one -- leaves nothing behind; the row names the linked record and
the issue as the link knows it.
`pending` and `settle` are the sync's half (sfjira.sync.jira_deleted): a run takes the pending rows,
confirms each by reading the issue, and settles the rows it took once its load committed. A row is
settled only if it was not reported again after the run took it (`received_at` unchanged), so a report
arriving while a run works is left for the next run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa

from sfjira.state.frames import check_value, to_frame
from sfjira.state.schema import jira_deletes, links
from sfjira.state.upsert import upsert
from sfjira.state.vocab import JIRA_DELETE_OUTCOMES

KEEP = dt.timedelta(days=7)
PENDING_COLUMNS = ("sf_id", "jira_key", "jira_id", "delivery", "received_at")


def _linked(conn: sa.Connection, mapping: str, jira_id: str | None, jira_key: str | None) -> sa.Row[Any, Any, Any] | None:
    """The active link of the issue: by id first (a moved issue keeps it), else by key -- unless the link
    knows the issue's id and the report names another (then the key names a different issue)."""
    active = sa.select(links.c.sf_id, links.c.jira_key, links.c.jira_id).where(
        links.c.mapping == mapping, links.c.state == "active")
    if jira_id:
        row = conn.execute(active.where(links.c.jira_id == jira_id)).first()
        if row is not None:
            return row
    if not jira_key:
        return None
    row = conn.execute(active.where(links.c.jira_key == jira_key)).first()
    if row is not None and jira_id and row.jira_id and row.jira_id != jira_id:
        return None
    return row


def note(conn: sa.Connection, mapping: str, *, jira_id: str | None, jira_key: str | None, delivery: str | None,
         now: dt.datetime, keep: dt.timedelta = KEEP) -> str | None:
    """Keep the report as pending for the linked record; its Salesforce id, or None when no active link of the
    mapping has the issue (nothing kept). The row holds the LINK's key and id, never the report's: the run
    confirms the delete by reading the issue the link names, so a report cannot point it at another."""
    conn.execute(sa.delete(jira_deletes).where(jira_deletes.c.settled_at < now - keep))
    link = _linked(conn, mapping, jira_id, jira_key)
    if link is None:
        return None
    row = {"mapping": mapping, "sf_id": link.sf_id, "jira_key": link.jira_key, "jira_id": link.jira_id,
           "delivery": delivery, "received_at": now, "settled_at": None, "outcome": None, "run_id": None}
    upsert(conn, jira_deletes, [row], keys=("mapping", "sf_id"),
           update=("jira_key", "jira_id", "delivery", "received_at", "settled_at", "outcome", "run_id"))
    return str(link.sf_id)


def pending(conn: sa.Connection, mapping: str) -> pd.DataFrame:
    table = jira_deletes
    query = (sa.select(*(table.c[c] for c in PENDING_COLUMNS))
             .where(table.c.mapping == mapping, table.c.settled_at.is_(None)).order_by(table.c.received_at))
    return to_frame(conn.execute(query), datetimes=("received_at",))


def settle(conn: sa.Connection, mapping: str, taken: pd.DataFrame, outcome: str, *, run_id: str | None,
           now: dt.datetime) -> int:
    """Settle the rows of `taken` (sf_id, received_at as `pending` gave them) not reported again since."""
    check_value(outcome, JIRA_DELETE_OUTCOMES, "Jira delete outcome")
    table = jira_deletes
    settled = 0
    for sf_id, received in zip(taken["sf_id"], taken["received_at"], strict=True):
        result = conn.execute(table.update().where(
            table.c.mapping == mapping, table.c.sf_id == str(sf_id), table.c.settled_at.is_(None),
            table.c.received_at <= received).values(settled_at=now, outcome=outcome, run_id=run_id))
        settled += result.rowcount
    return settled


def history(conn: sa.Connection, mapping: str) -> pd.DataFrame:
    """Every row of the mapping, pending and settled (newest report first): for tests and support."""
    query = sa.select(jira_deletes).where(jira_deletes.c.mapping == mapping).order_by(
        jira_deletes.c.received_at.desc())
    return to_frame(conn.execute(query), datetimes=("received_at", "settled_at"))
