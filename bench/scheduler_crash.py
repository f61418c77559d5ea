"""Airflow 3.3.2's scheduler crash when a backfill reaches the latest interval (apache/airflow#59120, open;
README, "Re-syncing the last N hours"), reproduced with a live scheduler, and the recovery the README gives.

    python bench/scheduler_crash.py [--attempts 6] [--keep]

A backfill whose range reaches the latest interval of a scheduled (unpaused) DAG creates the DAG run for
that interval's logical date -- the one the scheduler is about to create itself (`DagModel.next_dagrun`;
a backfill does not move it, airflow/models/backfill.py). When the scheduler's check for an existing run
(airflow/jobs/scheduler_job_runner.py `_create_dag_runs`) runs while the backfill's transaction is still
open, its INSERT fails on the unique (dag_id, logical_date), and the `except Exception` around
`create_dagrun` reads the session the failed flush left needing a rollback: the PendingRollbackError ends
the scheduler loop. On SQLite the backfill may instead be refused (503) and its runs deleted under the
scheduler, which then dies on ObjectDeletedError or StaleDataError.

This is Airflow's behaviour, not sfjira's, and a race: on a quiet or a busy machine it may not happen in
`--attempts` tries (each takes about a minute), hence a benchmark that prints what happened rather than a
test. What is sfjira's own is tested: a backfill's conf with `reach_back_hours` is refused
(tests/sfjira/sync/test_cursor.py), the safe re-sync with a live scheduler (tests/dags/test_resync_scheduler.py),
a dead scheduler restarted by `make airflow`'s supervisor (tests/sfjira/test_supervisor.py), and the first
run after a gap of intervals reading everything since the cursor (tests/e2e/test_cursor.py).

The sync DAG runs every minute against endpoints nobody listens on (no emulator needed; each run fails
within seconds, no task retries), so the scheduler is free to create the next run at each tick. Each
attempt starts a backfill just after a tick, latest interval first, so its transaction is open while the
scheduler comes to create its own run. After a crash: the scheduler started again, nothing else; then the
runs per interval (at most one each: the crashed interval has none when the refused backfill's runs were
deleted and the restart came after the next tick -- catchup=False creates only the latest interval).

Prints each attempt, which error ended the scheduler, and the runs after the recovery. Exit code 1 only
when the recovery fails (the scheduler dies again, or an interval has two runs); a race not reproduced
is exit 0, said so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from sfjira.emulator_env import environment, sqlite_state  # noqa: E402
from tests.dags.resync_world import (  # noqa: E402
    CRASH,
    DAG_ID,
    DELETED,
    STALE,
    runs,
    scheduler,
    scheduler_alive,
    scheduler_log,
    short_schedule_mappings,
)
from tests.live_airflow import Services, airflow_environment, prepare, wait_for  # noqa: E402


def backfill(services: Services, since: dt.datetime, **options: Any) -> str:
    """POST /api/v2/backfills from `since` to now (the UI's Backfill dialog does the same); what Airflow
    answered, in a few words (SQLite's lock makes it answer 503 under concurrent access)."""
    body = {"dag_id": DAG_ID, "from_date": since.isoformat(), "to_date": dt.datetime.now(dt.UTC).isoformat(),
            **options}
    try:
        created = services.api("POST", "/backfills", json=body)
    except AssertionError as err:
        return f"refused: {str(err).splitlines()[0][:200]}"
    return f"created backfill {created['id']}"


def say(line: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {line}", flush=True)


def reproduce(services: Services, attempts: int) -> dt.datetime | None:
    """Race backfills against the scheduler's ticks until it dies; the tick of the fatal attempt (None:
    it survived every attempt)."""
    services.unpause(DAG_ID)
    wait_for("the scheduler's first run", lambda: runs(services))
    for attempt in range(1, attempts + 1):
        for open_backfill in services.api("GET", "/backfills", params={"dag_id": DAG_ID})["backfills"]:
            if not open_backfill["completed_at"]:
                services.api("PUT", f"/backfills/{open_backfill['id']}/cancel")
        # No scheduled run active (max_active_runs=1): the scheduler will create the next one at the tick.
        wait_for("the scheduled runs to end", lambda: not [
            r for r in runs(services) if r["run_type"] == "scheduled" and r["state"] in ("queued", "running")])
        now = dt.datetime.now(dt.UTC)
        tick = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        time.sleep((tick - now).total_seconds() + 0.05)
        # The latest interval first (its run is inserted at once), then the older ones keep the backfill's
        # transaction open while the scheduler comes to create its own run for that interval.
        answer = backfill(services, tick - dt.timedelta(minutes=60), run_backwards=True, max_active_runs=1,
                          reprocess_behavior="failed")
        time.sleep(15)
        alive = scheduler_alive(services)
        say(f"attempt {attempt}/{attempts} at the {tick:%H:%M} tick: {answer}; scheduler "
            f"{'alive' if alive else f'DEAD (exit code {scheduler(services).exit_code()})'}")
        if not alive:
            return tick
    return None


def recover(services: Services, tick: dt.datetime) -> bool:
    """Start the scheduler again, nothing else; whether it schedules on with at most one run per interval."""
    text = scheduler_log(services)
    cause = next((name for marker, name in ((CRASH, "the unique (dag_id, logical_date)"),
                                            (DELETED, "a run the refused backfill deleted (ObjectDeletedError)"),
                                            (STALE, "a run the refused backfill deleted (StaleDataError)"))
                  if marker in text), None)
    say(f"the scheduler died on {cause or 'something else: last lines of its log follow'}")
    if cause is None:
        print("\n".join(text.splitlines()[-40:]))
    scheduler(services).stop()  # what is left of its process group
    scheduler(services).start()
    interval = tick - dt.timedelta(minutes=1)  # the latest interval at the crash
    began = time.monotonic()
    wait_for("a scheduled run of a later interval", lambda: [
        r for r in runs(services) if r["run_type"] == "scheduled"
        and dt.datetime.fromisoformat(r["logical_date"]) > interval])
    say(f"restarted: a scheduled run of a later interval after {time.monotonic() - began:.0f} s")
    found = runs(services)
    logical = [dt.datetime.fromisoformat(r["logical_date"]) for r in found]
    for run in sorted(found, key=lambda r: r["logical_date"]):
        mark = "  <- the crashed interval" if dt.datetime.fromisoformat(run["logical_date"]) == interval else ""
        print(f"  {run['logical_date']}  {run['run_type']:<10} {run['state']:<8} {run['dag_run_id']}{mark}")
    alive = scheduler_alive(services)
    once = logical.count(interval) <= 1 and len(logical) == len(set(logical))
    say(f"recovery: scheduler {'alive' if alive else 'DEAD again'}; runs of the crashed interval: "
        f"{logical.count(interval)}; an interval with two runs: {'none' if once else 'YES'}")
    return alive and once


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attempts", type=int, default=6, help="backfills raced against a tick (about 1 min each)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work dir (AIRFLOW_HOME, logs) also when the recovery held")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sfjira-scheduler-crash-"))
    say(f"scheduler crash: up to {args.attempts} racing backfills; work dir {work}")
    unreachable = "https://127.0.0.1:9"
    env = airflow_environment(work / "airflow", environment(
        unreachable, unreachable, str(work / "none.pem"), state=sqlite_state(str(work / "state.db"))),
        storage=work / "runs", mappings_dir=short_schedule_mappings(work, "* * * * *"))
    prepare(env)
    ok = False  # also when something raised: then the work dir is kept for its logs
    try:
        with Services(env, supervise=False) as services:  # the crash must stay visible
            tick = reproduce(services, args.attempts)
            if tick is None:
                say(f"not reproduced: the scheduler survived {args.attempts} racing backfills (a race); "
                    "nothing to recover from")
                ok = True
            else:
                ok = recover(services, tick)
    finally:
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"work dir kept: {work} (logs under airflow/logs)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
