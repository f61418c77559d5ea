"""Scale benchmark: a first sync of many Opportunities, then an update round both ways, with peak RSS per task.

    python bench/scale.py [--records 1000000] [--updates 100000] [--latency-ms 0] [--reconcile-rows 1000000]

Both emulators run as processes over HTTPS on loopback (bench/harness.py). Phases:
  1. `records` new Salesforce Opportunities -> Jira Epics (the extract takes Bulk API 2.0 above
     `[sfjira] bulk_query_threshold`, the load creates issues 50 per POST /issue/bulk), keys written back;
  2. `updates` Amounts edited in Salesforce and `updates` other epics moved in Jira, synced both ways.
Each step (extract_salesforce ... report, the functions the DAG's operators call) runs in a process of its
own started with spawn (a forked child would count the parent's pages), as Airflow runs each task in a
process of its own; its peak RSS is that process's own VmHWM (bench/rss.py), imports included. Per phase it prints the API
calls the emulators served against the protocol minimum the run's report computed
(sfjira.sync.report.protocol_minimum), wall time (the steps' processes, start-up included) and records per
second. In phase 1 the Salesforce extract of the same window also runs with the bulk threshold raised, so it
takes the REST path (a dry run: it writes nothing and takes no lease), and both call counts are compared.
Last, bench/reconcile.py runs as a subprocess for the reconciliation compare's peak RSS, with buckets of
`[sfjira] part_records` records as the reconciliation DAG's compare task makes them.
Targets: calls <= 1.1 x the minimum per side; peak RSS <= 1 GiB per task; the bulk extract >= 10 x fewer
Salesforce calls than the REST one. Every figure is printed next to its target with PASS or MISS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sfjira-bench-airflow-"))

from bench.harness import (  # noqa: E402
    SF_API,
    STEPS,
    api_calls,
    edit_behind_back,
    emulators,
    make_run,
    next_minute,
    process_peak_rss_mb,
    seed_opportunities,
    sf_session,
    step_in_process,
    window,
    work_dir,
)
from emulators.common.process import EmulatorProcess  # noqa: E402

CALL_BOUND = 1.1
RSS_BOUND_MB = 1024.0
EXTRACT_BOUND = 10.0
REST_PATH = {"AIRFLOW__SFJIRA__BULK_QUERY_THRESHOLD": str(10**12)}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


@dataclass
class StepFigures:
    name: str
    wall: float
    inside: float
    rss_mb: float
    salesforce: int
    jira: int


@dataclass
class Phase:
    label: str
    records: int
    steps: list[StepFigures] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def wall(self) -> float:
        return sum(s.wall for s in self.steps)

    def used(self, side: str) -> int:
        return sum(getattr(s, side) for s in self.steps)


VERBOSE = False
"""--verbose: the steps' own progress lines too."""


def spawned(name: str, run: Any, results: dict[str, Any], env: dict[str, str] | None = None
            ) -> tuple[dict[str, Any], float, float]:
    """`name` in a fresh spawned process: its result, seconds inside the step, and the process's peak RSS."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(step_in_process, name, run, results, env or {}, not VERBOSE).result()


def measured_step(name: str, run: Any, results: dict[str, Any], sf: EmulatorProcess, jira: EmulatorProcess,
                  env: dict[str, str] | None = None) -> tuple[dict[str, Any], StepFigures]:
    sf.clear_calls()
    jira.clear_calls()
    started = time.perf_counter()
    out, inside, rss = spawned(name, run, results, env)
    wall = time.perf_counter() - started
    return out, StepFigures(name, wall, inside, rss, sum(api_calls(sf).values()), sum(api_calls(jira).values()))


def run_phase(phase: Phase, run: Any, sf: EmulatorProcess, jira: EmulatorProcess,
              rest_extract: bool = False) -> StepFigures | None:
    """The phase's steps in order, each measured; with `rest_extract`, also the Salesforce extract of the
    same window on the REST path right after the bulk one (not part of the phase's figures)."""
    rest = None
    for name, _ in STEPS:
        phase.results[name], figures = measured_step(name, run, phase.results, sf, jira)
        phase.steps.append(figures)
        print(f"   {name:<19} {figures.wall:7.1f} s  salesforce {figures.salesforce:>6} calls  jira "
              f"{figures.jira:>6} calls  peak RSS {figures.rss_mb:7.0f} MB  (<= {RSS_BOUND_MB:.0f} MB: "
              f"{verdict(figures.rss_mb <= RSS_BOUND_MB)})", flush=True)
        if name == "extract_salesforce" and rest_extract:
            twin = make_run(f"{run.airflow_run_id}-rest", run.window, dry_run=True)
            out, rest = measured_step(name, twin, {}, sf, jira, REST_PATH)
            print(f"   (same extract on the {out['read_path']} path: {rest.wall:.1f} s, salesforce {rest.salesforce} "
                  f"calls, {out['changed']} records, peak RSS {rest.rss_mb:.0f} MB; not part of the phase)", flush=True)
            if out["changed"] != phase.results[name]["changed"] or out["read_path"] != "rest":
                raise RuntimeError(f"the REST extract is not the same read: {out} vs {phase.results[name]}")
    return rest


def print_phase(phase: Phase) -> list[bool]:
    """The phase's totals next to their targets; the verdicts."""
    summary = phase.results["report"]
    minimum = summary["api_calls"]["minimum"]
    oks = []
    print(f"== {phase.label}: {phase.wall:.1f} s wall ({sum(s.inside for s in phase.steps):.1f} s inside the steps), "
          f"{phase.records / phase.wall:,.0f} records/s")
    for side in ("salesforce", "jira"):
        used, least = phase.used(side), minimum[side]
        ratio = used / max(least, 1)
        oks.append(ratio <= CALL_BOUND)
        print(f"   {side} API calls {used} / protocol minimum {least} = {ratio:.3f} (<= {CALL_BOUND}: "
              f"{verdict(oks[-1])})")
    worst = max(phase.steps, key=lambda s: s.rss_mb)
    oks.append(worst.rss_mb <= RSS_BOUND_MB)
    print(f"   peak RSS per task: highest {worst.rss_mb:.0f} MB ({worst.name}) (<= {RSS_BOUND_MB:.0f} MB: "
          f"{verdict(oks[-1])})")
    print(f"   sf->jira {summary['sf_to_jira']}\n   jira->sf {summary['jira_to_sf']}", flush=True)
    return oks


def linked_count(sf: EmulatorProcess) -> int:
    """Opportunities carrying a Jira key (a setup read, after the phase's figures are taken)."""
    reply = sf_session(sf).get(f"{sf.url}{SF_API}/query", timeout=120, params={
        "q": "SELECT COUNT() FROM Opportunity WHERE Jira_Key__c != null"}).json()
    return int(reply["totalSize"])


def consistent(label: str, expected: dict[str, int], got: dict[str, int]) -> bool:
    ok = expected == got
    print(f"   consistency ({label}): {'OK' if ok else 'WRONG'} expected {expected} got {got}", flush=True)
    return ok


def reconciliation(rows: int) -> bool:
    """bench/reconcile.py in a process of its own, its buckets the size the DAG's compare makes them; its peak
    RSS lines, the last one against the bound."""
    from sfjira.storage import part_records

    command = ["--rows", str(rows), "--part-records", str(part_records())]
    print(f"\n== reconciliation compare of {rows:,} pairs (bench/reconcile.py {' '.join(command)}; before "
          "streaming 1,000,000 pairs peaked at 2.5 GB)", flush=True)
    done = subprocess.run([sys.executable, str(REPO / "bench" / "reconcile.py"), *command],
                          capture_output=True, text=True, timeout=3600)
    lines = [line for line in done.stdout.splitlines() if "RSS" in line]
    for line in lines:
        print(f"   {line}")
    found = [float(m.replace(",", "")) for line in lines for m in re.findall(r"peak RSS ([\d,.]+) MB", line)]
    if done.returncode or not found:
        print(f"   bench/reconcile.py exited {done.returncode}: {(done.stdout + done.stderr)[-1500:]}")
        return False
    ok = found[-1] <= RSS_BOUND_MB
    print(f"   reconciliation peak RSS {found[-1]:,.0f} MB (<= {RSS_BOUND_MB:.0f} MB: {verdict(ok)})")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--updates", type=int, default=100_000, help="records edited on each side in phase 2")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every API call")
    parser.add_argument("--reconcile-rows", type=int, default=1_000_000, help="0: skip the reconciliation")
    parser.add_argument("--verbose", action="store_true", help="also the steps' own progress lines")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    if not 0 < 2 * args.updates <= args.records:
        parser.error("--updates must be above 0 and at most half of --records (the two sides edit different ones)")
    verdicts: list[bool] = []
    with emulators(work_dir()) as (sf, jira):
        started = time.perf_counter()
        seed_opportunities(sf, args.records)
        print(f"sfjira scale benchmark: {args.records:,} records, {args.updates:,} updated on each side, "
              f"{args.latency_ms:g} ms latency per call; each step in its own spawned process (peak RSS: VmHWM)\n"
              f"seeded {args.records:,} Opportunities in {time.perf_counter() - started:.1f} s (setup)", flush=True)
        for proc in (sf, jira):
            proc.set_latency(args.latency_ms)

        first = Phase(f"1. first sync of {args.records:,} new records", args.records)
        print(f"\n{first.label}", flush=True)
        run = make_run("initial", window(dt.datetime.now(dt.UTC), full=True))
        rest = run_phase(first, run, sf, jira, rest_extract=True)
        verdicts += print_phase(first)
        bulk = first.steps[0]
        assert rest is not None
        times = rest.salesforce / max(bulk.salesforce, 1)
        verdicts.append(times >= EXTRACT_BOUND)
        path = first.results["extract_salesforce"]["read_path"]  # rest below [sfjira] bulk_query_threshold
        print(f"   extract: REST path {rest.salesforce} Salesforce calls, the sync's ({path}) path {bulk.salesforce} "
              f"-> {times:.1f}x fewer (>= {EXTRACT_BOUND:g}x: {verdict(verdicts[-1])})")
        verdicts.append(consistent("every record arrived exactly once", {
            "created": args.records, "jira_issues": args.records, "linked_in_salesforce": args.records,
            "rejected": 0}, {
            "created": first.results["report"]["sf_to_jira"]["created"],
            "jira_issues": int(jira.admin("POST", "state", {})["total"]), "linked_in_salesforce": linked_count(sf),
            "rejected": first.results["report"]["sf_to_jira"]["rejected"]}))

        for proc in (sf, jira):
            proc.set_latency(0)
        mark = next_minute()
        started = time.perf_counter()
        ahead = edit_behind_back(sf, jira, args.updates, args.records)
        print(f"\nedited {args.updates:,} records on each side in {time.perf_counter() - started:.1f} s (setup; "
              f"{ahead:.1f} s of it waiting for the emulators' write clocks to fall behind the wall clock)")
        for proc in (sf, jira):
            proc.set_latency(args.latency_ms)
        update = Phase(f"2. update round: {args.updates:,} changed on each side, synced both ways", 2 * args.updates)
        print(f"\n{update.label}", flush=True)
        run_phase(update, make_run("updates", window(mark)), sf, jira)
        verdicts += print_phase(update)
        summary = update.results["report"]
        verdicts.append(consistent("each change arrived exactly once", {
            "sf_to_jira": args.updates, "jira_to_sf": args.updates, "jira_issues": args.records}, {
            "sf_to_jira": summary["sf_to_jira"]["updated"], "jira_to_sf": summary["jira_to_sf"]["updated"],
            "jira_issues": int(jira.admin("POST", "state", {})["total"])}))
        for proc in (sf, jira):
            peak = process_peak_rss_mb(proc.proc.pid) if proc.proc else None
            print(f"   emulator {proc.module}: peak RSS {peak or 0:,.0f} MB (not a task; for sizing the machine)")
    if args.reconcile_rows:
        verdicts.append(reconciliation(args.reconcile_rows))
    print(f"\nSUMMARY {sum(verdicts)} of {len(verdicts)} targets and checks PASS")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
