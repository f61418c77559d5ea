"""Near-real-time latency (issue 15, point 6): edits on both sides, delivered as webhooks, synced by the runs
their events start; the time from each edit to its arrival on the other side, and the API calls against the
batch-only path.

    python bench/latency.py [--edits 200] [--minutes 5] [--records 40] [--cron "*/10 * * * *"] [--json out.json]

Both emulators run as processes; a complete local Airflow (sfjira.local_airflow: api-server with the
webhook receiver, scheduler with LocalExecutor, dag-processor, triggerer, kept up by sfjira.supervisor) runs
the case_to_bug sync DAG (Subject <-> summary, both ways) on `--cron` OR its events asset. The Jira emulator
has an admin webhook and the Salesforce emulator an outbound message on Case, both to the receiver (tests/
realtime.py). After one settling run:

1. event path: `--edits` edits spread evenly over `--minutes`, alternating sides (Case.Subject in Salesforce,
   summary in Jira; each side edits its own half of the records). Every edit's arrival on the other side is
   seen by two queries a second; an edit made again before it arrived is superseded and not counted.
2. batch-only path: the senders removed, the same edits again, then one run (what the next cron tick does;
   the fewest runs the cron path can need, so its call count is a lower bound).

Printed: median and p95 of edit -> arrival (target median <= 15 s, p95 <= 45 s), runs per path, and the API
calls the runs reported (their summaries: Salesforce + Jira calls). The batch path's latency is the wait for
the next tick (half the cron interval on average) plus its run's duration.

Scheduler settings (LATENCY_PROFILE, set on every component): the loop heartbeat and idle sleep shortened so
an asset event becomes a run, and a finished task its successor's start, within a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]

from emulators.common.process import EmulatorProcess  # noqa: E402
from sfjira.emulator_env import environment, sqlite_state  # noqa: E402
from sfjira.local_airflow import airflow_environment, base_url, components, prepare, wait_for_api_server  # noqa: E402
from sfjira.state import StateStore  # noqa: E402
from sfjira.supervisor import Supervisor  # noqa: E402
from tests.e2e.world import make_cases  # noqa: E402
from tests.live_airflow import Rest  # noqa: E402
from tests.realtime import (  # noqa: E402
    DAG_ID,
    MAPPING,
    Secrets,
    TwoSides,
    mappings_with_schedule,
    quiet,
    register_senders,
    runs,
    unregister_senders,
)

# Airflow 3.3 defaults are 5 s and 1 s: a 5 s heartbeat alone puts seconds between a task's end and the
# next one's start, six times per run.
LATENCY_PROFILE = {"AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                   "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def wait(what: str, check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    raise SystemExit(f"latency bench: not within {timeout:.0f} s: {what}")


def settle(rest: Rest, timeout: float = 600) -> None:
    wait("the sync runs to end", lambda: quiet(rest), timeout)


def run_figures(rest: Rest, store: StateStore, since: float) -> dict[str, Any]:
    """The runs asked for after `since` (time.time()), by type, and the API calls their summaries report."""
    mine = {r["dag_run_id"]: r for r in runs(rest) if _epoch(r["run_after"]) >= since}
    listing = store.runs(MAPPING, limit=None)
    listing = listing[listing["airflow_run_id"].isin(list(mine))]
    calls = {"salesforce": 0, "jira": 0}
    for summary in listing["summary"]:
        used = (summary or {}).get("api_calls", {}).get("used", {})
        calls = {side: calls[side] + int(used.get(side, 0)) for side in calls}
    kinds: dict[str, int] = {}
    for run in mine.values():
        kinds[run["run_type"]] = kinds.get(run["run_type"], 0) + 1
    states = sorted({r["state"] for r in mine.values()})
    ended = [r for r in mine.values() if r.get("start_date") and r.get("end_date")]
    # Where the time goes: from the (first) event to the run's start, and the run itself.
    to_start = [_epoch(r["start_date"]) - _epoch(r["run_after"]) for r in ended if r["run_type"] == "asset_triggered"]
    duration = [_epoch(r["end_date"]) - _epoch(r["start_date"]) for r in ended]
    return {"runs": len(mine), "by_type": kinds, "states": states, "api_calls": calls,
            "api_calls_total": sum(calls.values()),
            "event_to_run_start_median_s": round(statistics.median(to_start), 1) if to_start else None,
            "run_duration_median_s": round(statistics.median(duration), 1) if duration else None}


def _epoch(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso).timestamp()


def edit_plan(n: int, records: dict[str, str]) -> list[tuple[str, str]]:
    """(side, record) per edit, alternating sides; each side edits its own half of the records, so no record
    is edited on both sides at once (that would be a conflict, which the mapping resolves, not a latency)."""
    ids = sorted(records)
    half = max(1, len(ids) // 2)
    sf_ids, jira_keys = ids[:half], [records[i] for i in ids[half:]] or [records[ids[0]]]
    return [("salesforce", sf_ids[(i // 2) % len(sf_ids)]) if i % 2 == 0 else ("jira", jira_keys[(i // 2) % len(jira_keys)])
            for i in range(n)]


def make_edits(sides: TwoSides, plan: list[tuple[str, str]], label: str, spread_s: float) -> None:
    """The plan's edits, `spread_s` apart, looking for arrivals in between."""
    start = time.monotonic()
    for i, (side, record) in enumerate(plan):
        while time.monotonic() < start + i * spread_s:
            sides.look()
            time.sleep(min(0.5, max(0.0, start + i * spread_s - time.monotonic())))
        value = f"{label} edit {i} on {side}"
        if side == "salesforce":
            sides.edit_salesforce(record, value)
        else:
            sides.edit_jira(record, value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--records", type=int, default=40, help="cases (and their issues) the edits go to")
    parser.add_argument("--cron", default="*/10 * * * *", help="the mapping's schedule (the safety net)")
    parser.add_argument("--json", type=Path, help="write every figure and each edit's latency here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sfjira-latency-"))
    print(f"latency: {args.edits} edits over {args.minutes:g} min on {args.records} records, cron {args.cron!r}; "
          f"work dir {work}", flush=True)
    with EmulatorProcess("emulators.salesforce", work / "sf-data", tls_dir=work / "tls") as sf, \
            EmulatorProcess("emulators.jira", work / "jira-data", tls_dir=work / "tls") as jira:
        figures = measure(args, work, sf, jira)
    print(json.dumps({k: v for k, v in figures.items() if k != "edits"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str))
    event = figures["event_path"]
    return 0 if event["missing"] == 0 else 1


def measure(args: argparse.Namespace, work: Path, sf: EmulatorProcess, jira: EmulatorProcess) -> dict[str, Any]:
    secrets = Secrets()
    state = work / "state.db"
    store = StateStore(f"sqlite:///{state}")
    store.migrate()
    env = airflow_environment(work / "airflow", {
        **environment(sf.url, jira.url, sf.ca_bundle, state=sqlite_state(str(state))), **secrets.connections(),
        **LATENCY_PROFILE}, storage=work / "runs", mappings_dir=mappings_with_schedule(work / "mappings", args.cron),
        task_retries=1, retry_delay_s=5)
    prepare(env)
    sides = TwoSides(sf, jira)
    cases = make_cases(sides.sf, args.records)
    supervisor = Supervisor(components(env), say=lambda line: print(f"  [airflow] {line}", flush=True))
    stop = threading.Event()
    supervisor.start()
    watcher = threading.Thread(target=supervisor.run, args=(stop,), daemon=True)
    watcher.start()
    try:
        wait_for_api_server(env)
        rest = Rest(base_url(env))
        rest.unpause(DAG_ID)
        first = rest.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
        print(f"settling run {first['dag_run_id']} ...", flush=True)
        settle(rest)
        records = sides.keys(cases)
        if len(records) != len(cases):
            raise SystemExit(f"latency bench: only {len(records)} of {len(cases)} cases got an issue")
        plan = edit_plan(args.edits, records)
        spread = args.minutes * 60 / max(1, args.edits)

        register_senders(base_url(env), secrets, sf, jira)
        began = time.time()
        make_edits(sides, plan, "live", spread)
        missing = sides.wait_arrivals(timeout=300)
        settle(rest)
        event = {**latency_figures(sides), "missing": missing, **run_figures(rest, store, began)}
        print(f"event path: median {event['median_s']} s, p95 {event['p95_s']} s over {event['arrived']} edits "
              f"({missing} missing, {event['superseded']} superseded); {event['runs']} runs {event['by_type']}; "
              f"API calls {event['api_calls']}; median event -> run start {event['event_to_run_start_median_s']} s, "
              f"run {event['run_duration_median_s']} s", flush=True)
        live_edits = [e.__dict__ | {"latency": e.latency} for e in sides.edits]

        unregister_senders(sf, jira)
        sides.edits.clear()
        began = time.time()
        make_edits(sides, plan, "batch", 0.0)
        tick = rest.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})  # the next cron tick
        settle(rest)
        batch_missing = sides.wait_arrivals(timeout=60)
        batch = {"missing": batch_missing, **run_figures(rest, store, began)}
        done = rest.api("GET", f"/dags/{DAG_ID}/dagRuns/{tick['dag_run_id']}")
        batch["run_s"] = round(_epoch(done["end_date"]) - _epoch(done["start_date"]), 1)
        print(f"batch-only path: {batch['runs']} run(s) of {batch['run_s']} s after the tick, API calls "
              f"{batch['api_calls']} (lower bound: one tick for all edits)", flush=True)
        ratio = event["api_calls_total"] / batch["api_calls_total"] if batch["api_calls_total"] else None
        return {"edits": live_edits, "event_path": event, "batch_path": batch, "api_calls_ratio": ratio,
                "settings": LATENCY_PROFILE, "args": {k: str(v) for k, v in vars(args).items()}}
    finally:
        stop.set()
        watcher.join(timeout=10)
        supervisor.stop()
        store.close()


def latency_figures(sides: TwoSides) -> dict[str, Any]:
    counted = [e for e in sides.edits if not e.superseded and e.latency is not None]
    values = [e.latency for e in counted if e.latency is not None]
    by_side = {side: [e.latency for e in counted if e.side == side and e.latency is not None]
               for side in ("salesforce", "jira")}
    return {"arrived": len(values), "superseded": sum(e.superseded for e in sides.edits),
            "median_s": round(statistics.median(values), 1) if values else None,
            "p95_s": round(percentile(values, 0.95), 1) if values else None,
            "max_s": round(max(values), 1) if values else None,
            "median_by_side_s": {s: round(statistics.median(v), 1) for s, v in by_side.items() if v}}


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    sys.exit(main())
