"""Issue 13.6: re-syncing "the last N hours" safely. A change the sync passed by (here: a record whose
SystemModstamp lands three hours back, after the cursor moved past it -- as a late import with audit
fields, or a run marked successful by hand, leaves it) is not read again by ordinary runs; a manual run
with `reach_back_hours` 4 reads it and syncs it. Each run is a real `dag.test()` run, a MANUAL run with a
`manual__` run id: no backfill, so nothing takes the logical date of an interval the scheduler has yet
to create (the scheduler-side half is tests/dags/test_resync_scheduler.py)."""

from __future__ import annotations

import datetime as dt

from tests.e2e.test_cursor import MAPPING, TICK, _dated, _linked, _origin, _summary_of
from tests.e2e.world import World, make_cases


def test_a_manual_run_with_reach_back_resyncs_a_change_made_three_hours_ago(world: World) -> None:
    t0 = _origin()
    now = dt.datetime.now(dt.UTC)
    ids = make_cases(world.sf, 2, Status="New", Priority="Medium")
    keys = _linked(world, ids, t0)
    caught_up = world.run(MAPPING, at=now - 2 * TICK)  # the cursor reaches the interval before last
    assert caught_up.summary["summary"]["window"]["reason"].startswith("cursor (last committed")

    _dated(world, ids[0], now - dt.timedelta(hours=3), Subject="Changed three hours ago, passed by")
    ordinary = world.run(MAPPING, at=now - TICK)
    assert ordinary.summary["summary"]["window"]["reason"] == "interval"
    assert _summary_of(world, keys[0]) != "Changed three hours ago, passed by"  # the cursor is past it

    world.clear_calls()
    again = world.run(MAPPING, at=now, conf={"reach_back_hours": 4})

    assert _summary_of(world, keys[0]) == "Changed three hours ago, passed by"
    assert (again.dag_run.run_type, again.dag_run.run_id[:8]) == ("manual", "manual__")
    window = again.summary["summary"]["window"]
    start, end = again.dag_run.data_interval_start, again.dag_run.data_interval_end
    committed = dt.datetime.fromisoformat(ordinary.summary["summary"]["window"]["until"])
    assert (window["since"], window["until"]) == ((start - dt.timedelta(hours=4) - TICK).isoformat(), end.isoformat())
    assert window["reason"] == (f"reach_back (4 h before the interval start {start.isoformat()}; "
                                f"last committed {committed.isoformat()})")
    assert "note" not in window  # asked for: no "cursor left behind" warning
    assert again.summary["summary"]["sf_to_jira"]["read"] >= 1
    assert world.writes()["salesforce"] == {}
    assert world.writes()["jira"]  # the passed-by change, written now
    assert world.store.watermarks(MAPPING) == dict.fromkeys(("salesforce", "jira"), end)
