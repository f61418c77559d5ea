"""Must-show 11.1: the committed cursor. A run reads from the earlier of its interval start and the cursor
(minus the overlap), so changes made while runs failed for good, or while the DAG was paused with
catchup off, still arrive -- each run here is a real `dag.test()` run of a past interval, and each change
is dated (SystemModstamp) inside the time nobody synced."""

from __future__ import annotations

import datetime as dt

from tests.e2e.world import World, make_cases

MAPPING = "case_to_bug"  # every 10 minutes, overlap 10 minutes
TICK = dt.timedelta(minutes=10)


def _origin() -> dt.datetime:
    """A schedule tick four hours ago: every run and change below lies between it and now."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(hours=4)
    return now.replace(minute=now.minute - now.minute % 10, second=0, microsecond=0)


def _dated(world: World, case_id: str, when: dt.datetime, **fields: str) -> None:
    """An edit made at `when`, as Salesforce would have stamped it."""
    if fields:
        world.sf.update("Case", case_id, **fields)
    world.sf_emulator.admin("POST", "backdate", {"id": case_id, "SystemModstamp": when.isoformat()})


def _linked(world: World, ids: list[str], t0: dt.datetime) -> list[str]:
    for case_id in ids:
        _dated(world, case_id, t0 + dt.timedelta(minutes=2))
    first = world.run(MAPPING, at=t0 + dt.timedelta(minutes=5))
    assert first.summary["summary"]["window"]["reason"] == "interval"
    assert world.store.watermarks(MAPPING) == {"salesforce": t0 + TICK, "jira": t0 + TICK}
    keys = {r["Id"]: r["Jira_Key__c"] for r in world.sf.query("SELECT Id, Jira_Key__c FROM Case")}
    return [keys[i] for i in ids]


def _summary_of(world: World, key: str) -> str:
    return world.issue(key)["fields"]["summary"]


def test_a_run_that_failed_for_good_leaves_the_cursor_and_the_next_run_reads_its_changes(world: World) -> None:
    t0 = _origin()
    ids = make_cases(world.sf, 2, Status="New", Priority="Medium")
    keys = _linked(world, ids, t0)

    # Made during the window of a run that fails for good: Jira is down for the whole run (no task retries).
    _dated(world, ids[0], t0 + dt.timedelta(minutes=25), Subject="Edited while the sync failed")
    world.jira_emulator.set_faults([{"fault": "503"}])
    failed = world.run(MAPPING, at=t0 + dt.timedelta(minutes=25), expect="failed")
    assert failed.task_states["extract_jira"] == "failed", failed.task_states
    assert failed.task_states["load_salesforce"] == "upstream_failed"
    assert world.store.watermarks(MAPPING) == {"salesforce": t0 + TICK, "jira": t0 + TICK}, "cursor must stay"
    world.jira_emulator.clear_faults()
    # Made after it, and not touched again: an hour later the next run's own interval holds neither edit.
    _dated(world, ids[1], t0 + dt.timedelta(minutes=45), Subject="Edited after the failed run")

    later = world.run(MAPPING, at=t0 + dt.timedelta(minutes=65))

    assert [_summary_of(world, k) for k in keys] == ["Edited while the sync failed", "Edited after the failed run"]
    window = later.summary["summary"]["window"]
    assert window == {"since": t0.isoformat(), "until": (t0 + 7 * TICK).isoformat(),
                      "reason": f"cursor (last committed {(t0 + TICK).isoformat()})"}
    assert world.store.watermarks(MAPPING) == {"salesforce": t0 + 7 * TICK, "jira": t0 + 7 * TICK}


def test_after_two_paused_hours_the_first_run_carries_every_change_made_meanwhile(world: World) -> None:
    t0 = _origin()
    ids = make_cases(world.sf, 3, Status="New", Priority="Medium")
    keys = _linked(world, ids, t0)

    # The DAG is paused (catchup off): no run for two hours of intervals, edits keep coming.
    _dated(world, ids[0], t0 + dt.timedelta(minutes=30), Subject="Edited half an hour in")
    _dated(world, ids[1], t0 + dt.timedelta(minutes=80), Status="Closed")
    _dated(world, ids[2], t0 + dt.timedelta(minutes=125), Subject="Edited just before the next run")

    # Unpaused: Airflow schedules only the latest interval, [t0 + 2h10m, t0 + 2h20m).
    resumed = world.run(MAPPING, at=t0 + dt.timedelta(minutes=135))

    assert _summary_of(world, keys[0]) == "Edited half an hour in"
    assert world.issue(keys[1])["fields"]["status"]["name"] == "Done"
    assert _summary_of(world, keys[2]) == "Edited just before the next run"
    summary = resumed.summary["summary"]
    assert summary["window"]["since"] == t0.isoformat()  # the cursor (t0 + 10m) minus the overlap
    assert summary["window"]["reason"].startswith("cursor (last committed")
    assert summary["sf_to_jira"]["read"] == 3
    assert world.store.watermarks(MAPPING) == {"salesforce": t0 + 14 * TICK, "jira": t0 + 14 * TICK}

    # The next ordinary run is back to its own interval.
    world.clear_calls()
    after = world.run(MAPPING, at=t0 + dt.timedelta(minutes=145))
    assert after.summary["summary"]["window"]["reason"] == "interval"
    assert world.writes() == {"salesforce": {}, "jira": {}}


def test_a_manual_run_without_a_logical_date_syncs_from_the_cursor(world: World) -> None:
    """Airflow 3 lets a manual run have no logical date (and so no data interval): the steps then take the
    schedule's interval ending when the run was asked for, and read from the committed cursor on."""
    first = make_cases(world.sf, 2)
    world.run(MAPPING)
    later = make_cases(world.sf, 1, prefix="Later")
    dag_run = world.dag(MAPPING).test(logical_date=None, run_conf={"full_resync": False, "dry_run": False})
    assert str(dag_run.state) == "success", {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert all(world.sf.get("Case", i)["Jira_Key__c"] for i in first + later)
