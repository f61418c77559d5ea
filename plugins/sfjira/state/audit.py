"""The audit trail: the ledger queried by mapping, run, record, field and time, and its retention.

    audit(store, mapping="case_to_bug", record="500...", since=...)   # -> DataFrame, oldest first

`run` matches the state store's run id (`mapping/airflow_run_id`) or the Airflow run id; `record` a
Salesforce id or a Jira key. Each row shows `before` -> `after` of one written field (or a create,
delete, transition, link, comment), the side written, the direction, the cause and, for a
conflict, the side that won and the owner rule (`reason`). PII images are stored sealed; they come
back masked (`MASK`) unless a cipher is given, then opened.

Retention: `[sfjira] ledger_retention_days` (default 400, 0 = keep forever). `prune` removes rows
older than that -- the one exception to the ledger being append-only, applied by the sync's report
step and by `sfjira audit --prune`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from sfjira.exceptions import SfJiraError
from sfjira.pii import PiiCipher, each_value, is_sealed
from sfjira.state.frames import to_frame
from sfjira.state.schema import ledger, runs
from sfjira.state.types import utcnow

if TYPE_CHECKING:
    from sfjira.state.store import StateStore

AUDIT_COLUMNS = ("seq", "at", "mapping", "run_id", "airflow_run_id", "run_kind", "side", "direction", "action",
                 "cause", "sf_id", "jira_key", "field", "before", "after", "winner", "reason")
MASK = "*** (PII)"
_OTHER = {"jira": "salesforce", "salesforce": "jira"}


def query(conn: sa.Connection, *, mapping: str | None = None, run: str | None = None, record: str | None = None,
          field: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
          limit: int | None = None, conflicts: bool = False, newest: bool = False) -> pd.DataFrame:
    """The matching ledger rows with their run's Airflow run id, oldest first (values as stored).

    `conflicts`: only the writes a conflict decided (and conflicts ledgered as such); `newest`: the
    `limit` newest rows rather than the oldest (still returned oldest first)."""
    stmt = (sa.select(ledger.c.seq, ledger.c.at, ledger.c.mapping, ledger.c.run_id,
                      runs.c.airflow_run_id, runs.c.kind.label("run_kind"), ledger.c.side, ledger.c.direction,
                      ledger.c.action, ledger.c.cause, ledger.c.sf_id, ledger.c.jira_key, ledger.c.field,
                      ledger.c.before, ledger.c.after, ledger.c.reason)
            .join(runs, runs.c.run_id == ledger.c.run_id))
    if mapping is not None:
        stmt = stmt.where(ledger.c.mapping == mapping)
    if run is not None:
        stmt = stmt.where(sa.or_(ledger.c.run_id == run, runs.c.airflow_run_id == run))
    if record is not None:
        stmt = stmt.where(sa.or_(ledger.c.sf_id == record, ledger.c.jira_key == record))
    if field is not None:
        stmt = stmt.where(ledger.c.field == field)
    if since is not None:
        stmt = stmt.where(ledger.c.at >= since)
    if until is not None:
        stmt = stmt.where(ledger.c.at < until)
    if conflicts:
        stmt = stmt.where(sa.or_(ledger.c.cause == "conflict", ledger.c.action == "conflict"))
    stmt = stmt.order_by(ledger.c.seq.desc() if newest else ledger.c.seq)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = to_frame(conn.execute(stmt), datetimes=("at",))
    return rows.iloc[::-1].reset_index(drop=True) if newest else rows


def audit(store: StateStore, *, mapping: str | None = None, run: str | None = None, record: str | None = None,
          field: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
          cipher: PiiCipher | None = None, limit: int | None = None, conflicts: bool = False,
          newest: bool = False) -> pd.DataFrame:
    """The audit trail (AUDIT_COLUMNS), oldest first. `winner`: the side whose value a conflict kept
    (the other side was written). PII images masked, or opened with `cipher`. `conflicts` and `newest`
    as in `query`."""
    rows = store.audit_rows(mapping=mapping, run=run, record=record, field=field, since=since, until=until,
                            limit=limit, conflicts=conflicts, newest=newest)
    conflict = (rows["cause"] == "conflict") | (rows["action"] == "conflict")
    rows["winner"] = rows["side"].map(_OTHER).where(conflict, None)
    for column in ("before", "after"):
        rows[column] = pd.Series([_shown(v, cipher) for v in rows[column]], index=rows.index, dtype=object)
    return rows[list(AUDIT_COLUMNS)]


def _shown(value: Any, cipher: PiiCipher | None) -> Any:
    if isinstance(value, float) and math.isnan(value):  # an image the store holds as NULL
        return None
    return each_value(value, cipher.open if cipher is not None else _mask)


def _mask(value: Any) -> Any:
    return MASK if is_sealed(value) else value


def retention_days() -> int:
    from sfjira import settings  # Airflow's configuration: loaded only when retention is applied

    days = settings.get_int("ledger_retention_days")
    if days < 0:
        raise SfJiraError(f"[sfjira] ledger_retention_days must be a number of days >= 0, got {days}",
                          code="SETTING_INVALID",
                          fix="set AIRFLOW__SFJIRA__LEDGER_RETENTION_DAYS (or [sfjira] ledger_retention_days) to "
                              "e.g. 400, or 0 to keep the ledger forever")
    return days


def cutoff(days: int | None = None, now: dt.datetime | None = None) -> dt.datetime | None:
    """Rows older than this go; None when the ledger is kept forever (0 days)."""
    days = retention_days() if days is None else days
    return None if days == 0 else (now or utcnow()) - dt.timedelta(days=days)


def delete_older(conn: sa.Connection, before: dt.datetime, mapping: str | None = None) -> int:
    stmt = ledger.delete().where(ledger.c.at < before)
    if mapping is not None:
        stmt = stmt.where(ledger.c.mapping == mapping)
    return int(conn.execute(stmt).rowcount or 0)


def prune(store: StateStore, mapping: str | None = None, *, days: int | None = None,
          now: dt.datetime | None = None) -> int:
    """Remove ledger rows past the retention period (of `mapping`, or all); returns how many."""
    limit = cutoff(days, now)
    return 0 if limit is None else store.prune_ledger(limit, mapping=mapping)
