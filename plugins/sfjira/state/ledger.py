"""The ledger: one append-only row per decision or write, with before- and after-images.

Values are stored as the caller passes them (JSON), except PII: the images of a protected mapping's
PII fields are sealed first (sfjira.state.sealing). Rows are
never updated or deleted, and `seq` orders them, so a rollback of a run can replay its rows in
reverse, writing `before` back (a `create` is undone by deleting the record, a `delete` by
re-creating it from `before`, which then holds the whole record as a dict)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

import pandas as pd
import sqlalchemy as sa

from sfjira.batching import batches
from sfjira.exceptions import StateStoreError
from sfjira.state.frames import check_vocab, prepare, records, to_frame
from sfjira.state.schema import ledger, runs
from sfjira.state.sealing import Guards, seal_ledger
from sfjira.state.types import utcnow
from sfjira.state.upsert import insert_rows
from sfjira.state.vocab import DIRECTIONS, LEDGER_ACTIONS, LEDGER_CAUSES, SIDES

LEDGER_COLUMNS = ("seq", "run_id", "mapping", "at", "side", "action", "sf_id", "jira_key", "field", "before",
                  "after", "reason", "direction", "cause")
_OPTIONAL = {"sf_id": None, "jira_key": None, "field": None, "before": None, "after": None, "reason": None,
             "direction": None, "cause": None}
_WHAT = "ledger"


def append(conn: sa.Connection, df: pd.DataFrame, *, run_id: str | None, mapping: str | None,
           pii: Guards | None = None, known_runs: Collection[str] = ()) -> int:
    """Append rows; `known_runs`: run ids the caller has just read in this transaction (an intent's run)."""
    frame = prepare(df, _WHAT, required=("run_id", "mapping", "side", "action"), optional=_OPTIONAL,
                    fill={"run_id": run_id, "mapping": mapping})
    seal_ledger(frame, pii)
    check_vocab(frame, "side", SIDES, _WHAT)
    check_vocab(frame, "action", LEDGER_ACTIONS, _WHAT)
    for column, allowed in (("direction", DIRECTIONS), ("cause", LEDGER_CAUSES)):  # NULL in older rows
        check_vocab(frame, column, allowed, _WHAT, nulls_ok=True)
    no_record = pd.isna(frame["sf_id"].to_numpy(dtype=object)) & pd.isna(frame["jira_key"].to_numpy(dtype=object))
    if no_record.any():
        raise StateStoreError(f"{_WHAT}: {int(no_record.sum())} row(s) name no record",
                              code="STATE_INPUT_INVALID", fix="give each ledger row an sf_id, a jira_key or both",
                              record=frame.loc[no_record].head(5).to_dict("records"))
    require_runs(conn, frame["run_id"].unique(), known=known_runs)
    return insert_rows(conn, ledger, records(frame, at=utcnow()))


def read(conn: sa.Connection, *, run_id: str | None, mapping: str | None, sf_id: str | None,
         jira_key: str | None) -> pd.DataFrame:
    if run_id is None and mapping is None:
        raise StateStoreError("ledger query needs a run_id or a mapping", code="STATE_INPUT_INVALID",
                              fix="pass run_id=... or mapping=...")
    query = sa.select(*(ledger.c[c] for c in LEDGER_COLUMNS))
    for column, value in (("run_id", run_id), ("mapping", mapping), ("sf_id", sf_id), ("jira_key", jira_key)):
        if value is not None:
            query = query.where(ledger.c[column] == value)
    return to_frame(conn.execute(query.order_by(ledger.c.seq)), datetimes=("at",))


def require_runs(conn: sa.Connection, run_ids: Iterable[str], *, known: Collection[str] = ()) -> None:
    """Refuse run ids the store does not hold (`known`: ids the caller has just seen in it)."""
    wanted = set(run_ids) - set(known)
    found: set[str] = set()
    if len(wanted) == 1:  # a chunk's rows name their one run: an equality, cheaper than an expanding IN
        found.update(conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == next(iter(wanted)))).scalars())
    else:
        for batch in batches(sorted(wanted), 500):
            found.update(conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id.in_(batch))).scalars())
    unknown = sorted(wanted - found)
    if unknown:
        raise StateStoreError(f"unknown run(s) {', '.join(unknown[:5])}", code="STATE_RUN_UNKNOWN",
                              fix="call StateStore.begin_run(mapping, airflow_run_id, ...) before writing for a run")
