"""Per mapping and side: the committed cursor -- the point up to which changes are fully synced (the
rules of reading and moving it are in sfjira.sync.cursor)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from sfjira.state.frames import bad_input, check_value
from sfjira.state.schema import watermarks
from sfjira.state.types import as_utc, utcnow
from sfjira.state.upsert import insert_for
from sfjira.state.vocab import SIDES


def get(conn: sa.Connection, mapping: str, side: str) -> dt.datetime | None:
    check_value(side, SIDES, "side")
    query = sa.select(watermarks.c.value).where(watermarks.c.mapping == mapping, watermarks.c.side == side)
    return conn.execute(query).scalar()


def get_all(conn: sa.Connection, mapping: str) -> dict[str, dt.datetime]:
    query = sa.select(watermarks.c.side, watermarks.c.value).where(watermarks.c.mapping == mapping)
    return {side: value for side, value in conn.execute(query)}


def set_(conn: sa.Connection, mapping: str, side: str, value: dt.datetime, *, run_id: str | None,
         allow_backwards: bool) -> dt.datetime:
    check_value(side, SIDES, "side")
    stamp = as_utc(value)
    if stamp is None:
        raise bad_input("a watermark needs a datetime", fix="pass the end of the fully synced window")
    stmt = insert_for(conn, watermarks).values(mapping=mapping, side=side, value=stamp, run_id=run_id,
                                                updated_at=utcnow())
    moves = sa.true() if allow_backwards else stmt.excluded.value > watermarks.c.value
    # One statement, so two runs finishing at once cannot move the mark backwards between read and write.
    conn.execute(stmt.on_conflict_do_update(index_elements=["mapping", "side"], set_={
        "value": sa.case((moves, stmt.excluded.value), else_=watermarks.c.value),
        "run_id": sa.case((moves, stmt.excluded.run_id), else_=watermarks.c.run_id),
        "updated_at": sa.case((moves, stmt.excluded.updated_at), else_=watermarks.c.updated_at),
    }))
    return get(conn, mapping, side)  # type: ignore[return-value]  # the upsert above wrote the row
