"""The committed cursor: per mapping and side, the end of the last window whose loads all completed.

Stored in the state store's watermarks table. Everything a side changed before its cursor has been read
by a run whose Jira and Salesforce loads both finished, so a run must read from the cursor on, whatever
its own data interval says: a run that failed for good, a paused DAG or a stopped scheduler (with
`catchup=False` Airflow then schedules only the latest interval) leave the cursor behind, and the next
run reads everything since.

- a scheduled or manual run reads [min(interval start, cursor) - overlap, interval end)
- a run with `reach_back_hours` N reads from N hours before its interval start on (or from the cursor,
  if that is earlier): the safe way to re-sync "the last N hours" while the DAG is scheduled -- a manual
  run has a `manual__` run id and a logical date of its trigger time, so it never takes the logical date
  of an interval the scheduler is yet to create, which a backfill reaching the latest interval does
  (README, "Re-syncing the last N hours")
- an event-triggered run (`asset_triggered`: the webhook receiver recorded a change) reads from the cursor
  to when it started, [cursor - overlap, start): whatever the events said, everything since the last
  commit (an event may be lost or late; the cursor is not). Before the first commit it reads like a
  manual run
- a backfill of a past window reads exactly that window (plus the overlap); it refuses `reach_back_hours`
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

from sfjira.exceptions import ConfigError
from sfjira.sync.run import Window

if TYPE_CHECKING:
    from sfjira.state import StateStore
    from sfjira.sync.run import SyncRun

log = logging.getLogger(__name__)

SIDES = ("salesforce", "jira")
BACKFILL = "backfill"  # Airflow's DagRunType.BACKFILL_JOB
EVENT = "asset_triggered"  # Airflow's DagRunType.ASSET_TRIGGERED
REACH_BACK = "reach_back"
# A week: further back than that, a full resync or a reconciliation (scope YYYY-MM-DD) is the tool, and a
# slip of the finger (hours typed as minutes) cannot turn a manual run into a months-long read.
MAX_REACH_BACK_HOURS = 168
# A window this much longer than its interval is read in full (losing nothing comes first), but said.
WIDE = dt.timedelta(days=1)


def committed(state: StateStore, mapping: str) -> dt.datetime | None:
    """The cursor both sides have reached: the earlier of the two (None before the first commit)."""
    marks = state.watermarks(mapping)
    return min((marks[side] for side in SIDES if side in marks), default=None)


def bad_reach_back(message: str) -> ConfigError:
    """A `reach_back_hours` the sync cannot use: terminal, a retry sees the same conf."""
    return ConfigError(message, code="SYNC_REACH_BACK_INVALID",
                       fix=f"trigger a manual run (not a backfill) with reach_back_hours a whole number from 0 to "
                           f"{MAX_REACH_BACK_HOURS}; for more, use full_resync or a reconciliation with a scope date")


def parse_reach_back(value: object, *, backfill: bool = False) -> dt.timedelta:
    """The `reach_back_hours` param as a duration (0 when unset). The DAG's Param schema checks it on
    trigger already; this check also covers a backfill's conf and a DAG embedding the sync's task group
    with params of its own."""
    if value is None or value == "" or value == 0:
        return dt.timedelta(0)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise bad_reach_back(f"reach_back_hours must be a whole number of hours, got {value!r}")
    hours = int(value)
    if hours > MAX_REACH_BACK_HOURS:
        raise bad_reach_back(f"reach_back_hours is {hours}, more than the {MAX_REACH_BACK_HOURS} allowed")
    if backfill and hours:
        raise bad_reach_back(f"reach_back_hours ({hours}) was given to a backfill run: a backfill reads exactly "
                             "its own intervals, and a backfill reaching the latest interval collides with the "
                             "scheduler's run for it")
    return dt.timedelta(hours=hours)


def is_event_run(context: Any) -> bool:
    """A run Airflow created for events on the mapping's events asset (the webhook receiver's)."""
    return getattr(context.get("dag_run"), "run_type", None) == EVENT


def choose_window(start: dt.datetime, end: dt.datetime, overlap: dt.timedelta, *, cursor: dt.datetime | None,
                  backfill: bool = False, full: bool = False, now: dt.datetime | None = None,
                  reach_back: dt.timedelta = dt.timedelta(0), event: bool = False) -> Window:
    """The window a run reads for its data interval [start, end), and why."""
    if full:
        return Window.for_interval(start, end, overlap, full=True, now=now)
    if backfill:
        return Window.for_interval(start, end, overlap, reason=BACKFILL)
    if event and cursor is not None and not reach_back:
        # From the cursor, not the cron interval's start: event runs come seconds apart, and each would
        # otherwise read (and plan) every change of the interval so far again.
        return Window(min(cursor, end) - overlap, end, reason=f"{EVENT} (from the cursor, last committed "
                                                              f"{cursor.isoformat()})")
    if reach_back and (cursor is None or cursor > start - reach_back):  # reaches past the cursor too
        last = f"; last committed {cursor.isoformat()}" if cursor else ""
        return Window(start - reach_back - overlap, end,
                      reason=f"{REACH_BACK} ({_hours(reach_back)} before the interval start {start.isoformat()}{last})")
    if cursor is None or cursor >= start:
        return Window.for_interval(start, end, overlap)
    return Window(cursor - overlap, end, reason=f"cursor (last committed {cursor.isoformat()})")


def _hours(span: dt.timedelta) -> str:
    hours = span / dt.timedelta(hours=1)
    return f"{hours:g} h"


def with_note(window: Window, start: dt.datetime, overlap: dt.timedelta) -> Window:
    """The window, with a warning for the summary when it reaches far behind its interval."""
    behind = (start - overlap) - window.since
    if window.full or behind <= WIDE or window.reason.startswith(REACH_BACK):  # asked for: nothing to explain
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
    between them, or one extract of an event run cleared and run again later), the earlier start and the
    earlier end are the ones both loads and the report stand on."""
    params = context["params"]
    start, end = context["data_interval_start"], context["data_interval_end"]
    full = bool(params.get("full_resync"))
    windows = [Window.from_dict(w) for w in read or () if w]
    if windows:
        # The earliest start, and the earliest end: the cursor may move only as far as both sides read.
        return replace(min(windows, key=lambda w: w.since), until=min(w.until for w in windows))
    backfill = getattr(context.get("dag_run"), "run_type", None) == BACKFILL
    reach_back = parse_reach_back(params.get("reach_back_hours"), backfill=backfill)
    window = choose_window(start, end, overlap, cursor=None if full else committed(run.state, run.name),
                           backfill=backfill, full=full, reach_back=reach_back, event=is_event_run(context))
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
