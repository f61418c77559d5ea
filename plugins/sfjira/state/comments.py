"""Comment links: a Salesforce comment <-> its Jira copy (or the other way round), with content hash."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from sfjira.state import idmap
from sfjira.state.frames import check_vocab, equals, prepare, read_frame, records
from sfjira.state.schema import comment_links
from sfjira.state.types import utcnow
from sfjira.state.upsert import upsert
from sfjira.state.vocab import ORIGINS

COMMENT_COLUMNS = ("sf_comment_id", "jira_comment_id", "sf_parent_id", "jira_key", "hash", "origin",
                   "created_run", "updated_run", "created_at", "updated_at")
_WHAT = "comment links"


def read(conn: sa.Connection, mapping: str, *, jira_key: str | None, sf_parent_id: str | None) -> pd.DataFrame:
    where = [*equals(comment_links, "jira_key", jira_key), *equals(comment_links, "sf_parent_id", sf_parent_id)]
    return read_frame(conn, comment_links, COMMENT_COLUMNS, mapping, where=where, order_by=("sf_comment_id",),
                      datetimes=("created_at", "updated_at"))


def save(conn: sa.Connection, mapping: str, df: pd.DataFrame, run_id: str | None) -> int:
    frame = prepare(df, _WHAT, required=("sf_comment_id", "jira_comment_id", "sf_parent_id", "jira_key", "origin"),
                    optional={"hash": None})
    check_vocab(frame, "origin", ORIGINS, _WHAT)
    frame = idmap.dedupe(frame, _WHAT, owner="sf_comment_id", keys=("jira_comment_id",))
    idmap.check_taken(conn, comment_links, mapping, frame, _WHAT, owner="sf_comment_id", key="jira_comment_id")
    now = utcnow()
    rows = records(frame, mapping=mapping, created_run=run_id, updated_run=run_id, created_at=now, updated_at=now)
    return upsert(conn, comment_links, rows, keys=("mapping", "sf_comment_id"),
                  update=("jira_comment_id", "sf_parent_id", "jira_key", "hash", "updated_run", "updated_at"))
