"""The webhook receiver's memory of deliveries (sfjira.webhooks): which delivery ids it already accepted.

`claim` inserts the ids with ON CONFLICT DO NOTHING and returns those it inserted, in one transaction: of
two requests racing with the same id (a retry overlapping a slow first attempt) exactly one gets it. The
receiver releases its claim when it then fails to record the asset event, so the sender's retry is not
taken for a duplicate. Rows older than the retention go as new ones come (senders retry for at most a day:
Salesforce drops a message 24 hours old, Jira retries for about half an hour).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from sfjira.state.schema import webhook_deliveries
from sfjira.state.upsert import insert_for

KEEP = dt.timedelta(days=7)


def claim(conn: sa.Connection, source: str, mapping: str, deliveries: Sequence[str], now: dt.datetime,
          keep: dt.timedelta = KEEP) -> list[str]:
    """The ids of `deliveries` not seen before (now recorded), in the order given."""
    table = webhook_deliveries
    conn.execute(sa.delete(table).where(table.c.received_at < now - keep))
    stmt = insert_for(conn, table).on_conflict_do_nothing(index_elements=["source", "delivery"])
    fresh = []
    for delivery in dict.fromkeys(deliveries):  # a repeated id within one request counts once
        row = {"source": source, "delivery": delivery, "mapping": mapping, "received_at": now}
        if conn.execute(stmt, row).rowcount:
            fresh.append(delivery)
    return fresh


def release(conn: sa.Connection, source: str, deliveries: Sequence[str]) -> int:
    table = webhook_deliveries
    if not deliveries:
        return 0
    result = conn.execute(sa.delete(table).where(table.c.source == source, table.c.delivery.in_(list(deliveries))))
    return int(result.rowcount)
