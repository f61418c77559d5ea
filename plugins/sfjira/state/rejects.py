"""Dead letters: records a side refused, upserted by (mapping, side, record id, code).

A record that keeps failing the same way keeps one row whose `attempts` grows; failing again
re-opens a resolved row. Payloads pass through `scrub` so credential-like keys are never stored, and
a protected mapping's PII is sealed (sfjira.state.sealing)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import sqlalchemy as sa

from sfjira import error_catalog
from sfjira.batching import batches
from sfjira.rejects import REJECT_COLUMNS
from sfjira.state.frames import check_value, check_vocab, equals, prepare, read_frame, records
from sfjira.state.schema import rejects
from sfjira.state.scrub import scrub
from sfjira.state.sealing import Guards, seal_rejects
from sfjira.state.types import utcnow
from sfjira.state.upsert import upsert
from sfjira.state.vocab import SIDES

# The stored row: the one reject shape (sfjira.rejects) plus the bookkeeping of its attempts.
STORED_COLUMNS = ("id", *REJECT_COLUMNS, "first_run", "last_run", "first_seen", "last_seen", "attempts", "resolved",
                  "resolved_at")
_KEY = ["mapping", "side", "record_id", "code"]
_WHAT = "rejects"


def save(conn: sa.Connection, df: pd.DataFrame, *, run_id: str | None, mapping: str | None,
         pii: Guards | None = None) -> int:
    frame = prepare(df, _WHAT, required=("mapping", "side", "record_id", "code"),
                    optional={"run_id": None, **{c: None for c in REJECT_COLUMNS if c not in _KEY}},
                    fill={"run_id": run_id, "mapping": mapping}, not_null=("mapping", "side", "record_id", "code"))
    check_vocab(frame, "side", SIDES, _WHAT)
    frame["fix"] = _with_catalog_fix(frame["code"], frame["fix"])
    frame["payload"] = [scrub(p) for p in frame["payload"]]
    seal_rejects(frame, pii)
    # One statement may not touch a row twice (PostgreSQL refuses), so repeats in the frame are folded:
    # the last one's text wins and every repeat counts as an attempt.
    frame["attempts"] = frame.groupby(_KEY, sort=False)["code"].transform("size").astype(int)
    frame = frame.drop_duplicates(subset=_KEY, keep="last")
    now = utcnow()
    frame = frame.assign(first_run=frame["run_id"]).rename(columns={"run_id": "last_run"})
    rows = records(frame, first_seen=now, last_seen=now, resolved=False, resolved_at=None)
    return upsert(conn, rejects, rows, keys=_KEY,
                  update=("field", "message", "fix", "payload", "last_run", "last_seen", "resolved", "resolved_at"),
                  extra=lambda stmt: {"attempts": rejects.c.attempts + stmt.excluded.attempts})


def _with_catalog_fix(codes: pd.Series, fixes: pd.Series) -> pd.Series:
    """A row without its own fix gets the error catalog's fix for its code, so every reject says what to do."""
    missing = fixes.isna() | (fixes.astype(str).str.strip() == "")
    if not missing.any():
        return fixes
    known = {code: error_catalog.fix_for(code) or None for code in codes[missing].unique()}
    filled = fixes.astype(object).where(~missing, codes.map(known))
    return filled.where(filled.notna(), None)  # NULL, never NaN (PostgreSQL would store the text 'NaN')


def read(conn: sa.Connection, mapping: str, *, side: str | None, include_resolved: bool) -> pd.DataFrame:
    where = equals(rejects, "side", side, SIDES)
    if not include_resolved:
        where.append(rejects.c.resolved.is_(False))
    return read_frame(conn, rejects, STORED_COLUMNS, mapping, where=where, order_by=("id",),
                      datetimes=("first_seen", "last_seen", "resolved_at"))


def resolve(conn: sa.Connection, mapping: str, side: str, record_ids: Iterable[str], *, code: str | None) -> int:
    check_value(side, SIDES, "side")
    resolved = 0
    for batch in batches(list(dict.fromkeys(record_ids)), 500):
        query = rejects.update().where(rejects.c.mapping == mapping, rejects.c.side == side,
                                       rejects.c.record_id.in_(batch), rejects.c.resolved.is_(False))
        if code is not None:
            query = query.where(rejects.c.code == code)
        resolved += conn.execute(query.values(resolved=True, resolved_at=utcnow())).rowcount
    return resolved


def resolve_rows(conn: sa.Connection, mapping: str, ids: Iterable[int]) -> int:
    """Close the open rejects with these row ids (as `read` returns them) of `mapping`."""
    resolved = 0
    for batch in batches(sorted({int(i) for i in ids}), 500):
        query = rejects.update().where(rejects.c.mapping == mapping, rejects.c.id.in_(batch),
                                       rejects.c.resolved.is_(False))
        resolved += conn.execute(query.values(resolved=True, resolved_at=utcnow())).rowcount
    return resolved
