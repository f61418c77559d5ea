"""Last-synced values: per record and direction, the hashes of what the sync itself wrote.

A change whose hash equals the stored one is the sync's own echo; a field whose hash differs on
both sides since this point is a conflict."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from sfjira.state.frames import check_vocab, equals, last_of_each, prepare, read_frame, records
from sfjira.state.schema import synced_state
from sfjira.state.types import utcnow
from sfjira.state.upsert import upsert
from sfjira.state.vocab import DIRECTIONS

SYNCED_COLUMNS = ("sf_id", "direction", "hash", "field_hashes", "run_id", "synced_at")
_WHAT = "synced state"


def read(conn: sa.Connection, mapping: str, *, direction: str | None) -> pd.DataFrame:
    return read_frame(conn, synced_state, SYNCED_COLUMNS, mapping,
                      where=equals(synced_state, "direction", direction, DIRECTIONS), order_by=("sf_id", "direction"),
                      datetimes=("synced_at",))


def save(conn: sa.Connection, mapping: str, df: pd.DataFrame, run_id: str | None) -> int:
    frame = prepare(df, _WHAT, required=("sf_id", "direction", "hash"), optional={"field_hashes": None})
    check_vocab(frame, "direction", DIRECTIONS, _WHAT)
    # The last row for a record and direction is the latest write in the chunk.
    frame = last_of_each(frame, ["sf_id", "direction"])
    rows = records(frame, mapping=mapping, run_id=run_id, synced_at=utcnow())
    return upsert(conn, synced_state, rows, keys=("mapping", "sf_id", "direction"),
                  update=("hash", "field_hashes", "run_id", "synced_at"))
