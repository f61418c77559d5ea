"""The committed cursor: which window a run reads, and when the cursor moves (state store on SQLite)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfjira.exceptions import ConfigError
from sfjira.state import StateStore
from sfjira.sync import cursor
from sfjira.sync.run import EPOCH, SyncRun, Window

UTC = dt.UTC
START = dt.datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
END = START + dt.timedelta(minutes=10)
OVERLAP = dt.timedelta(minutes=10)
MAPPING = Path(__file__).resolve().parents[3] / "include" / "mappings" / "case_to_bug.yaml"


def test_without_a_cursor_a_run_reads_its_interval() -> None:
    window = cursor.choose_window(START, END, OVERLAP, cursor=None)
    assert (window.since, window.until, window.reason) == (START - OVERLAP, END, "interval")


def test_a_cursor_at_or_past_the_interval_start_changes_nothing() -> None:
    for mark in (START, END, END + dt.timedelta(days=3)):
        assert cursor.choose_window(START, END, OVERLAP, cursor=mark) == Window(START - OVERLAP, END)


def test_a_cursor_left_behind_widens_the_window_back_to_it() -> None:
    mark = START - dt.timedelta(hours=2)
    window = cursor.choose_window(START, END, OVERLAP, cursor=mark)
    assert (window.since, window.until) == (mark - OVERLAP, END)
    assert window.reason == f"cursor (last committed {mark.isoformat()})"
    assert cursor.with_note(window, START, OVERLAP).note is None  # two hours behind: nothing to warn about


def test_a_backfill_reads_its_own_window_whatever_the_cursor() -> None:
    for mark in (None, START - dt.timedelta(days=2), END + dt.timedelta(days=2)):
        window = cursor.choose_window(START, END, OVERLAP, cursor=mark, backfill=True)
        assert (window.since, window.until, window.reason) == (START - OVERLAP, END, "backfill")


def test_a_full_resync_reads_everything() -> None:
    now = START + dt.timedelta(days=30)
    window = cursor.choose_window(START, END, OVERLAP, cursor=START - dt.timedelta(days=1), full=True, now=now)
    assert (window.since, window.full, window.reason) == (EPOCH, True, "full_resync")
    assert window.until > now


def test_a_window_far_behind_its_interval_is_read_whole_and_said() -> None:
    mark = START - dt.timedelta(days=40)
    window = cursor.with_note(cursor.choose_window(START, END, OVERLAP, cursor=mark), START, OVERLAP)
    assert window.since == mark - OVERLAP  # correctness first: nothing is cut off
    assert window.note and "40 days" in window.note
    assert Window.from_dict(window.as_dict()) == window


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as opened:
        yield opened


def sync_run(store: StateStore, window: Window, *, dry_run: bool = False) -> SyncRun:
    run = SyncRun(mapping_file=str(MAPPING), dag_id="sfjira_sync__case_to_bug",
                  airflow_run_id=f"manual__{window.until.isoformat()}", window=window, dry_run=dry_run)
    run.__dict__["state"] = store  # the real store, opened on a file instead of an Airflow connection
    return run


def test_commit_moves_both_sides_forward_and_never_back(store: StateStore) -> None:
    name = sync_run(store, Window(START, END)).name
    assert cursor.committed(store, name) is None
    assert cursor.commit(sync_run(store, Window(START - OVERLAP, END))) == dict.fromkeys(cursor.SIDES, END.isoformat())
    older = Window(START - dt.timedelta(hours=5), START - dt.timedelta(hours=4))
    assert cursor.commit(sync_run(store, older)) == dict.fromkeys(cursor.SIDES, END.isoformat())
    assert cursor.committed(store, name) == END


def test_dry_runs_and_full_resyncs_never_move_it(store: StateStore) -> None:
    assert cursor.commit(sync_run(store, Window(START, END), dry_run=True)) == {}
    full = cursor.choose_window(START, END, OVERLAP, cursor=None, full=True)
    assert cursor.commit(sync_run(store, full)) == {}
    assert cursor.committed(store, sync_run(store, full).name) is None


def test_a_backfill_moves_it_only_when_nothing_is_left_unread_before_it(store: StateStore) -> None:
    name = sync_run(store, Window(START, END)).name
    later = Window(END + dt.timedelta(hours=1), END + dt.timedelta(hours=2), reason="backfill")
    assert cursor.commit(sync_run(store, later)) == {}  # no cursor yet: what came before is unknown
    cursor.commit(sync_run(store, Window(START, END)))
    assert cursor.commit(sync_run(store, later)) == {}  # a gap [END, later.since) is still unread
    assert cursor.committed(store, name) == END
    old = Window(START - dt.timedelta(days=3), START - dt.timedelta(days=2), reason="backfill")
    assert cursor.commit(sync_run(store, old)) == dict.fromkeys(cursor.SIDES, END.isoformat())
    adjoining = Window(END - OVERLAP, END + dt.timedelta(minutes=10), reason="backfill")
    moved = (END + dt.timedelta(minutes=10)).isoformat()
    assert cursor.commit(sync_run(store, adjoining)) == dict.fromkeys(cursor.SIDES, moved)


# -- reach_back_hours: re-syncing "the last N hours" with a manual run -------------------------------------------


def test_reach_back_widens_the_window_n_hours_before_the_interval_and_says_so() -> None:
    four = dt.timedelta(hours=4)
    window = cursor.choose_window(START, END, OVERLAP, cursor=START, reach_back=four)
    assert (window.since, window.until) == (START - four - OVERLAP, END)
    assert window.reason == f"reach_back (4 h before the interval start {START.isoformat()}; " \
                            f"last committed {START.isoformat()})"
    # asked for, so the summary carries no "cursor left behind" warning however far it reaches
    week = cursor.choose_window(START, END, OVERLAP, cursor=START, reach_back=dt.timedelta(hours=168))
    assert cursor.with_note(week, START, OVERLAP).note is None
    assert Window.from_dict(window.as_dict()) == window


def test_reach_back_never_narrows_a_window_the_cursor_already_widened() -> None:
    mark = START - dt.timedelta(hours=6)  # failed runs left the cursor six hours behind
    window = cursor.choose_window(START, END, OVERLAP, cursor=mark, reach_back=dt.timedelta(hours=4))
    assert (window.since, window.reason) == (mark - OVERLAP, f"cursor (last committed {mark.isoformat()})")
    first = cursor.choose_window(START, END, OVERLAP, cursor=None, reach_back=dt.timedelta(hours=2))
    assert (first.since, first.reason.startswith("reach_back")) == (START - dt.timedelta(hours=2) - OVERLAP, True)


def test_a_full_resync_or_a_zero_reach_back_is_unchanged_by_it() -> None:
    assert cursor.choose_window(START, END, OVERLAP, cursor=START, reach_back=dt.timedelta(0)) == \
        Window(START - OVERLAP, END)
    full = cursor.choose_window(START, END, OVERLAP, cursor=START, full=True, reach_back=dt.timedelta(hours=3))
    assert (full.since, full.reason) == (EPOCH, "full_resync")


def test_a_reach_back_run_moves_the_cursor_to_its_end(store: StateStore) -> None:
    cursor.commit(sync_run(store, Window(START - OVERLAP, END)))
    later = END + dt.timedelta(minutes=15)
    window = cursor.choose_window(END, later, OVERLAP, cursor=END, reach_back=dt.timedelta(hours=4))
    assert cursor.commit(sync_run(store, window)) == dict.fromkeys(cursor.SIDES, later.isoformat())


@pytest.mark.parametrize("value", [None, "", 0, "0"])
def test_reach_back_unset_is_zero(value: object) -> None:
    assert cursor.parse_reach_back(value) == dt.timedelta(0)
    assert cursor.parse_reach_back(value, backfill=True) == dt.timedelta(0)


@pytest.mark.parametrize("value", [4, "4", " 12 ", 168])
def test_reach_back_takes_whole_hours_up_to_a_week(value: object) -> None:
    assert cursor.parse_reach_back(value) == dt.timedelta(hours=int(str(value)))


@pytest.mark.parametrize(("value", "said"), [(-1, "whole number"), ("-3", "whole number"), (2.5, "whole number"),
                                             (True, "whole number"), ("4h", "whole number"),
                                             (169, "more than the 168"), ("1000", "more than the 168")])
def test_an_unusable_reach_back_fails_with_its_code_and_fix(value: object, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        cursor.parse_reach_back(value)
    assert caught.value.code == "SYNC_REACH_BACK_INVALID"
    assert said in str(caught.value) and "manual run" in caught.value.fix
    assert not caught.value.transient


def test_a_backfill_refuses_reach_back() -> None:
    with pytest.raises(ConfigError, match="given to a backfill run") as caught:
        cursor.parse_reach_back(4, backfill=True)
    assert caught.value.code == "SYNC_REACH_BACK_INVALID"


def test_the_sync_dags_param_schema_refuses_what_the_code_refuses() -> None:
    from airflow.sdk.exceptions import ParamValidationError

    from sfjira.dag_factory import sync_params

    def resolve(*value: object) -> object:
        return sync_params()["reach_back_hours"].resolve(*value)

    assert (resolve(), resolve(4), resolve(168)) == (0, 4, 168)
    for bad in (-1, 169, "4h", 2.5):
        with pytest.raises(ParamValidationError):
            resolve(bad)


# -- event-triggered runs (the webhook receiver's events: issue 15.5) --------------------------------------------


def test_an_event_run_reads_from_the_cursor_to_its_start() -> None:
    started = END + dt.timedelta(minutes=3, seconds=12)  # a cron tick of 10 min: mid-interval
    mark = END + dt.timedelta(minutes=1)  # an earlier event run committed a minute ago
    window = cursor.choose_window(END, started, OVERLAP, cursor=mark, event=True)
    assert (window.since, window.until) == (mark - OVERLAP, started)
    assert window.reason == f"asset_triggered (from the cursor, last committed {mark.isoformat()})"
    # a cursor left behind by failed runs: still from the cursor, however far (nothing is lost)
    behind = START - dt.timedelta(hours=3)
    assert cursor.choose_window(END, started, OVERLAP, cursor=behind, event=True).since == behind - OVERLAP


def test_an_event_run_before_the_first_commit_reads_its_interval() -> None:
    window = cursor.choose_window(START, END, OVERLAP, cursor=None, event=True)
    assert (window.since, window.until, window.reason) == (START - OVERLAP, END, "interval")


def test_an_event_run_moves_the_cursor_forward_and_a_later_cron_run_never_moves_it_back(store: StateStore) -> None:
    name = sync_run(store, Window(START, END)).name
    cursor.commit(sync_run(store, Window(START - OVERLAP, END)))  # the cron run of [START, END)
    started = END + dt.timedelta(minutes=4)
    event = cursor.choose_window(END, started, OVERLAP, cursor=cursor.committed(store, name), event=True)
    assert cursor.commit(sync_run(store, event)) == dict.fromkeys(cursor.SIDES, started.isoformat())
    # the next cron run, for [END, END + 10 min): reads its interval (the cursor is past its start) ...
    tick = END + dt.timedelta(minutes=10)
    cron = cursor.choose_window(END, tick, OVERLAP, cursor=started)
    assert (cron.since, cron.until) == (END - OVERLAP, tick)
    cursor.commit(sync_run(store, cron))
    # ... and an event run queued behind it whose start came first never takes the cursor back
    assert cursor.commit(sync_run(store, Window(END, started - dt.timedelta(minutes=1)))) == \
        dict.fromkeys(cursor.SIDES, tick.isoformat())


def test_later_steps_stand_on_the_earliest_start_and_the_earliest_end_the_extracts_read() -> None:
    """Each extract of an event run ends its window at the run's start; one extract cleared and run again
    later reads further: the cursor may only move as far as both read."""
    context = {"params": {}, "data_interval_start": START, "data_interval_end": END}
    read = [Window(START - OVERLAP, END + dt.timedelta(minutes=5)).as_dict(), Window(START, END).as_dict()]
    window = cursor.for_step(None, context, OVERLAP, read=read)  # type: ignore[arg-type]  # the run is not read
    assert (window.since, window.until) == (START - OVERLAP, END)
