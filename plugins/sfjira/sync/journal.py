"""The intent journal: the write-ahead log both load steps write through, chunk by chunk.

Before a chunk is written its intent is journaled; the API's answer, the links, the synced hashes,
the ledger and the rejects of the chunk are then saved with the intent's completion in one
transaction. A retried task meets its own intents again: completed chunks are skipped, a pending
chunk (the task died between the API call and the commit) has its records looked up on the target
side first (sfjira.sync.resolve) -- the only place idempotency look-ups happen. Pending intents of
another run are finished or superseded here too (`pending_ids`, `close_superseded`).
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from sfjira.batching import batches
from sfjira.rows import each_row
from sfjira.state.intents import Intent
from sfjira.storage import read_frame, rechunk
from sfjira.sync import budget
from sfjira.sync.lanes import Lanes
from sfjira.sync.run import SyncRun
from sfjira.values.hashing import agreed_record_hashes

log = logging.getLogger(__name__)


@dataclass
class ChunkOutcome:
    """What a chunk writer hands back to be saved atomically with its intent.

    `saves`: the chunk's other state-store writes (link states, comment links), made by the thread that
    saves the chunk just before its intent completes -- writers run in worker threads (sfjira.sync.lanes)
    and never touch the store themselves."""

    links: pd.DataFrame | None = None
    state: pd.DataFrame | None = None
    ledger: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    saves: list[Callable[[], object]] = field(default_factory=list)


Writer = Callable[[pd.DataFrame, bool], ChunkOutcome]


@dataclass
class _Flight:
    number: int
    chunk: pd.DataFrame
    intent: Intent
    outcome: Future[ChunkOutcome]


def run_chunks(run: SyncRun, side: str, op: str, rows: pd.DataFrame | Iterable[pd.DataFrame], size: int,
               writer: Writer, ids: str = "sf_id", decisions: pd.DataFrame | None = None,
               on_intent: Callable[[Intent], None] | None = None) -> dict[str, int]:
    """Write `rows` `size` at a time; `writer(chunk, resumed_pending)` performs the API calls.

    `rows` may be a frame or frames one after another (the parts of a plan table, read one at a time): they
    are cut as if they were one frame (a chunk may span two parts; at most a part and a chunk are held), so
    the chunks and their numbers are those of the whole table and a retry meets the same intents again.

    Up to `[sfjira] load_concurrency` writers run at once (sfjira.sync.lanes), in worker threads: intents
    are begun here in chunk order, and each chunk is saved (its intent completed) here, in chunk order, so
    the state store is used by this thread alone. A killed task leaves every chunk in flight pending; its
    retry looks their records up first, as for a single chunk.

    `decisions`: ledger rows the plan made (conflicts), saved with the chunk that writes their record,
    so they are recorded exactly once however often the task is retried. `on_intent` gets each chunk's
    intent before its writer runs (a Bulk API write keeps its job id in it: `SyncStore.note_intent`); the
    writer then writes to the store itself, so such chunks go one at a time."""
    totals: dict[str, int] = {}
    store = run.state
    lanes = Lanes.for_load(getattr(run, side, None), f"{side} {op}", sequential=on_intent is not None)
    flights: deque[_Flight] = deque()
    try:
        for number, chunk in enumerate(_chunks(rows, size)):
            # Room first: an intent is begun only when its writer can start (a pending intent may have written).
            while flights and len(flights) >= lanes.allowed():
                _save(run, flights.popleft(), ids, decisions, totals, lanes)
            # Before the intent: a load stopped by the API budget leaves no pending chunk behind.
            budget.check_salesforce(run, f"{side} {op} chunk {number}")
            intent = store.begin_intent(run.name, run.run_id, side, op, number, chunk[ids].astype(str).tolist())
            if intent.resumed and intent.status != "pending":
                log.info("%s %s chunk %d already %s: skipped", side, op, number, intent.status)
                continue
            if on_intent is not None:
                on_intent(intent)
            flights.append(_Flight(number, chunk, intent, lanes.start(writer, chunk, intent.resumed)))
        while flights:
            _save(run, flights.popleft(), ids, decisions, totals, lanes)
    except Exception:
        _save_landed(run, flights, ids, decisions, totals, lanes)
        raise
    finally:
        lanes.close(wait=not flights)
    return totals


def _chunks(rows: pd.DataFrame | Iterable[pd.DataFrame], size: int) -> Iterator[pd.DataFrame]:
    if isinstance(rows, pd.DataFrame):
        yield from batches(rows, size)
        return
    for chunk in rechunk(rows, size):
        if len(chunk):
            yield chunk


def _save(run: SyncRun, flight: _Flight, ids: str, decisions: pd.DataFrame | None, totals: dict[str, int],
          lanes: Lanes) -> None:
    """A chunk's outcome saved with its intent's completion (its writer's error raised instead)."""
    outcome = flight.outcome.result()
    lanes.completed += 1
    if flight.intent.resumed:
        _flag_resumed(outcome.ledger)
    if decisions is not None and len(decisions):
        mine = decisions[decisions["sf_id"].isin(flight.chunk[ids])].drop(columns=["run_id"], errors="ignore")
        # The ledger's column labels are strings; pandas-stubs can only promise Hashable.
        decided = mine.astype(object).where(mine.notna(), None).to_dict("records")
        outcome.ledger += cast("list[dict[str, Any]]", decided)
    for save in outcome.saves:
        save()
    run.state.complete_intent(flight.intent.intent_id, links=outcome.links, state=outcome.state,
                              ledger=_frame(outcome.ledger, run), rejects=_frame(outcome.rejects, run),
                              result=outcome.counts)
    for key, value in outcome.counts.items():
        totals[key] = totals.get(key, 0) + value
    log.info("%s chunk %d: %s", lanes.label, flight.number, outcome.counts)


def _save_landed(run: SyncRun, flights: deque[_Flight], ids: str, decisions: pd.DataFrame | None,
                 totals: dict[str, int], lanes: Lanes) -> None:
    """After a chunk failed: the chunks still in flight finish, and those that succeeded are saved, so a
    retry skips them instead of looking their records up. Their own errors are logged (the first one raised)."""
    while flights:
        flight = flights.popleft()
        try:
            _save(run, flight, ids, decisions, totals, lanes)
        except Exception as exc:  # noqa: BLE001 - the chunk stays pending: its retry looks its records up
            log.warning("%s chunk %d failed too, left pending: %s", lanes.label, flight.number, exc)


RESUMED = "before-image read after a killed attempt of this chunk: may already show the written value"


def _flag_resumed(rows: list[dict[str, Any]]) -> None:
    """A resumed chunk's first attempt may have written before it died, so the before-images read now
    (sfjira.sync.before) may be the written values: the ledger says so rather than pass them off."""
    for row in rows:
        if row.get("before") is not None or row.get("action") in ("update", "link", "transition"):
            row["reason"] = f"{row['reason']}; {RESUMED}" if row.get("reason") else RESUMED


def pending_ids(run: SyncRun, side: str, op: str) -> set[str]:
    """Records of every pending `op` intent on `side` (a killed attempt of this run or of another): their
    write may have landed, so each is looked up on `side` before it is written again."""
    pending = run.state.pending_intents(run.name, side)
    if not len(pending):
        return set()
    return {str(i) for ids in pending.loc[pending["op"] == op, "record_ids"] for i in ids}


def close_superseded(run: SyncRun, side: str, ops: tuple[str, ...]) -> int:
    """Close the pending `ops` intents other runs left on `side`, once this run's writes of `side` are done.

    The cursor never moves past a run that failed before its loads completed, so this run extracted and
    planned those records again; it wrote them idempotently (field updates and key write-backs are sent
    by Id, transitions read the status first, comments and creates were looked up before being sent)."""
    pending = run.state.pending_intents(run.name, side)
    if not len(pending):
        return 0
    stale = pending[pending["op"].isin(list(ops)) & (pending["run_id"] != run.run_id)]
    for intent in each_row(stale):
        run.state.complete_intent(intent.intent_id, result={"superseded_by": run.run_id}, run_id=run.run_id)
        log.info("%s %s intent %d of run %s: superseded by this run", side, intent.op, intent.intent_id,
                 intent.run_id)
    return len(stale)


def conflicts_written_to(plan: dict[str, str], side: str) -> pd.DataFrame:
    """The plan's conflicts whose winning value is written to `side`."""
    ledger = read_frame(plan["ledger"])
    return ledger[ledger["side"] == side] if len(ledger) else ledger


def _frame(rows: list[dict[str, Any]], run: SyncRun) -> pd.DataFrame | None:
    if not rows:
        return None
    # Object columns, as the store keeps them: inferring text and numbers per column only to undo it costs
    # more than the rows (and would turn an integer image next to a missing one into a float).
    return pd.DataFrame([{**row, "run_id": run.run_id, "mapping": run.name} for row in rows], dtype=object)


def state_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """sj_hashes / js_hashes JSON columns -> synced-state rows (sf_id, direction, hash, field_hashes)."""
    parts = []
    for column, direction in (("sj_hashes", "sf_to_jira"), ("js_hashes", "jira_to_sf")):
        if column not in frame.columns:
            continue
        rows = frame[frame[column].notna()]
        agreed = [json.loads(text) for text in rows[column]]
        parts.append(pd.DataFrame({"sf_id": rows["sf_id"].to_numpy(), "direction": direction,
                                   "hash": agreed_record_hashes(agreed), "field_hashes": agreed}))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["sf_id", "direction", "hash", "field_hashes"])


def ledger_row(side: str, action: str, sf_id: str, jira_key: str | None, *, field: str | None = None,
               before: Any = None, after: Any = None, reason: str | None = None,
               cause: str | None = None) -> dict[str, Any]:
    """One ledger row; the direction follows from the side written (state.vocab.LEDGER_CAUSES for `cause`)."""
    return {"side": side, "action": action, "sf_id": sf_id, "jira_key": jira_key, "field": field,
            "before": before, "after": after, "reason": reason, "cause": cause,
            "direction": "sf_to_jira" if side == "jira" else "jira_to_sf"}
