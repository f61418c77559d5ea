"""The committed cursor: per mapping and side, the end of the last window whose loads all completed.

Stored in the state store's watermarks table. Everything a side changed before its cursor has been read
by a run whose Jira and Salesforce loads both finished, so a run must read from the cursor on, whatever
its own data interval says: a run that failed for good, a paused DAG or a stopped scheduler (with
`catchup=False` Airflow then schedules only the latest interval) leave the cursor behind, and the next
run reads everything since.

- a scheduled or manual run reads [min(interval start, cursor) - overlap, interval end)
- a backfill of a past window reads exactly that window (plus the overlap)
- a full resync reads everything and never moves the cursor (its window ends in the future)
- the cursor moves to the window's end once both loads completed, never backwards, and never from a dry
  run; a backfill moves it only when its window reaches back to the cursor (nothing left unread between)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sfjira.sync.run import Window

if TYPE_CHECKING:
    from sfjira.state import StateStore
    from sfjira.sync.run import SyncRun

log = logging.getLogger(__name__)

SIDES = ("salesforce", "jira")
BACKFILL = "backfill"  # Airflow's DagRunType.BACKFILL_JOB
# A window this much longer than its interval is read in full (losing nothing comes first), but said.
WIDE = dt.timedelta(days=1)


def committed(state: StateStore, mapping: str) -> dt.datetime | None:
    """The cursor both sides have reached: the earlier of the two (None before the first commit)."""
    marks = state.watermarks(mapping)
    return min((marks[side] for side in SIDES if side in marks), default=None)


def choose_window(start: dt.datetime, end: dt.datetime, overlap: dt.timedelta, *, cursor: dt.datetime | None,
                  backfill: bool = False, full: bool = False, now: dt.datetime | None = None) -> Window:
    """The window a run reads for its data interval [start, end), and why."""
    if full:
        return Window.for_interval(start, end, overlap, full=True, now=now)
    if backfill:
        return Window.for_interval(start, end, overlap, reason=BACKFILL)
    if cursor is None or cursor >= start:
        return Window.for_interval(start, end, overlap)
    return Window(cursor - overlap, end, reason=f"cursor (last committed {cursor.isoformat()})")


def with_note(window: Window, start: dt.datetime, overlap: dt.timedelta) -> Window:
    """The window, with a warning for the summary when it reaches far behind its interval."""
    behind = (start - overlap) - window.since
    if window.full or behind <= WIDE:
        return window
    log.warning("sfjira: window starts %s before its interval (cursor left behind); reading all of it", behind)
    return replace(window, note=f"reading {behind} further back than this interval: the cursor was left behind "
                                "by failed, skipped or paused runs; the whole window is read so no change is lost")


def for_step(run: SyncRun, context: Any, overlap: dt.timedelta, *,
             read: Sequence[dict[str, Any]] | None = None) -> Window:
    """The window of a step of the run. The extracts decide it (`read` None: from the cursor, the run type
    and the params); every later step takes the one they read (`read`: the windows in the extracts'
    outputs, handed on through the plan's), since the cursor may have moved meanwhile (this run's own
    load moves it before the report). Should the two extracts differ (a concurrent backfill committed
    between them), the earlier start is the one both loads and the report stand on."""
    params = context["params"]
    start, end = context["data_interval_start"], context["data_interval_end"]
    full = bool(params.get("full_resync"))
    windows = [Window.from_dict(w) for w in read or () if w]
    if windows:
        return min(windows, key=lambda w: w.since)
    backfill = getattr(context.get("dag_run"), "run_type", None) == BACKFILL
    window = choose_window(start, end, overlap, cursor=None if full else committed(run.state, run.name),
                           backfill=backfill, full=full)
    return with_note(window, start, overlap)


def commit(run: SyncRun) -> dict[str, str]:
    """Move both sides' cursors to the end of the run's window (both loads completed); returns the cursors
    as stored, or {} when this run must not move them."""
    window = run.window
    if run.dry_run or window.full:
        return {}
    marks = run.state.watermarks(run.name)
    moved: dict[str, str] = {}
    for side in SIDES:
        if window.reason == BACKFILL and (side not in marks or window.since > marks[side]):
            continue  # changes between the cursor and this backfill's window are still unread
        stored = run.state.set_watermark(run.name, side, window.until, run_id=run.run_id)
        moved[side] = stored.isoformat()
    log.info("sfjira %s: cursor after this run: %s", run.name, moved or "unchanged (backfill of a past window)")
    return moved
