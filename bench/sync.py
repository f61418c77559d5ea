"""Sync benchmark: API calls against the protocol minimum, wall time and peak RSS.

    python bench/sync.py [--records 5000] [--changed 1000] [--latency-ms 20] [--baseline-sample 300]

Both emulators run as processes with `latency-ms` added to every call. Phases, through the same
step functions the DAG's operators call (extract -> plan -> load -> report):
  1. `records` new Salesforce Opportunities -> Jira Epics, keys written back;
  2. `changed` edited in Salesforce (Amount) and `changed` moved in Jira (status) -> synced both ways;
  3. a run with nothing changed.
Then the naive baseline, written the way the stock provider operators are used: SalesforceHook's
query, then one JiraHook `create_issue` and one Salesforce update per record. The baseline runs on a
sample and is extrapolated linearly to `records` (it is one call per record per side, so linear);
the output says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sfjira-bench-airflow-"))

from bench.harness import (  # noqa: E402
    STEPS,
    api_calls,
    call_step,
    edit_behind_back,
    emulators,
    make_run,
    next_minute,
    peak_rss_mb,
    seed_opportunities,
    window,
    work_dir,
)
from emulators.common.process import EmulatorProcess  # noqa: E402


def task(run: Any) -> Any:
    """The run as the next DAG task sees it: each task is its own process, with its own hooks (a Salesforce
    token and API-budget read of its own, a Jira workflow learned afresh), as the protocol minimum counts."""
    for hook in ("salesforce", "jira"):
        run.__dict__.pop(hook, None)
    return run


def run_sync(tag: str, since: dt.datetime, *, full: bool = False) -> tuple[dict, float]:
    run = make_run(tag, window(since, full=full))
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for name, _ in STEPS:
        results[name] = call_step(name, task(run), results)
    return results["report"], time.perf_counter() - started


def report_phase(name: str, summary: dict, seconds: float, sf: EmulatorProcess, jira: EmulatorProcess) -> int:
    used = {"salesforce": api_calls(sf), "jira": api_calls(jira)}
    total = sum(sum(v.values()) for v in used.values())
    minimum = sum(summary["api_calls"]["minimum"].values())
    print(f"\n== {name}: {seconds:.2f} s wall, {total} API calls (protocol minimum {minimum}, "
          f"ratio {total / max(minimum, 1):.3f}), peak RSS {peak_rss_mb():.0f} MB")
    for system, calls in used.items():
        print(f"   {system}: " + ", ".join(f"{k} x{v}" for k, v in sorted(calls.items())))
    print(f"   minimum: {summary['api_calls']['minimum']}  "
          f"sf->jira {json.dumps(summary['sf_to_jira'])}  jira->sf {json.dumps(summary['jira_to_sf'])}")
    sf.clear_calls()
    jira.clear_calls()
    return total


def baseline(sf: EmulatorProcess, sample: int) -> tuple[int, float]:
    """The stock way: provider SalesforceHook query, then per record one create_issue + one update."""
    from airflow.providers.atlassian.jira.hooks.jira import JiraHook
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    from emulators.salesforce.testing import access_token

    started = time.perf_counter()
    token = access_token(sf.url, sf.ca_bundle)
    sf_hook = SalesforceHook(salesforce_conn_id="salesforce_default", session_id=token)
    records = sf_hook.make_query(f"SELECT Id, Name, Amount FROM Opportunity WHERE Jira_Key__c = null LIMIT {sample}")
    jira = JiraHook(jira_conn_id="jira_default").get_conn()
    calls = 2
    for rec in records["records"]:
        issue = jira.create_issue(fields={"project": {"key": "DEL"}, "issuetype": {"name": "Epic"},
                                          "summary": rec["Name"], "customfield_10050": rec["Id"],
                                          "customfield_10055": {"value": "Prospecting"}})
        sf_hook.get_conn().Opportunity.update(rec["Id"], {"Jira_Key__c": issue["key"]})
        calls += 2
    return calls, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--changed", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--baseline-sample", type=int, default=300)
    args = parser.parse_args()
    with emulators(work_dir()) as (sf, jira):
        os.environ["REQUESTS_CA_BUNDLE"] = sf.ca_bundle  # for the stock clients of the baseline only
        seed_opportunities(sf, args.records)
        sf.clear_calls()
        jira.clear_calls()
        for proc in (sf, jira):
            proc.set_latency(args.latency_ms)
        print(f"sfjira sync benchmark: {args.records} records, {args.changed} changed per side, "
              f"{args.latency_ms:g} ms latency per call")
        summary, t1 = run_sync("initial", dt.datetime.now(dt.UTC), full=True)
        ours_calls = report_phase(f"1. initial sync of {args.records} new records", summary, t1, sf, jira)
        for proc in (sf, jira):
            proc.set_latency(0)
        mark = next_minute()
        edit_behind_back(sf, jira, args.changed, args.records)
        sf.clear_calls()
        jira.clear_calls()
        for proc in (sf, jira):
            proc.set_latency(args.latency_ms)
        summary, t2 = run_sync("changes", mark)
        report_phase(f"2. {args.changed} changed on each side, synced both ways", summary, t2, sf, jira)
        mark = next_minute()
        summary, t3 = run_sync("no-op", mark)
        idle = report_phase("3. a run with no changes", summary, t3, sf, jira)
        sf.admin("POST", "seed", {"seed": 8, "accounts": 1, "opportunities": args.baseline_sample, "contacts": 0,
                                  "cases": 0, "case_comments": 0})
        sf.clear_calls()
        jira.clear_calls()
        b_calls, b_time = baseline(sf, args.baseline_sample)
        per = args.records / args.baseline_sample
        est_calls, est_time = b_calls * per, b_time * per
        print(f"\n== naive baseline (stock operators' pattern): {b_calls} calls, {b_time:.2f} s for "
              f"{args.baseline_sample} records; extrapolated to {args.records}: {est_calls:.0f} calls, {est_time:.1f} s")
        print(f"\nSUMMARY initial sync: sfjira {ours_calls} calls / {t1:.2f} s vs baseline ~{est_calls:.0f} calls / "
              f"~{est_time:.1f} s -> {est_calls / ours_calls:.1f}x fewer calls, {est_time / t1:.1f}x less wall time; "
              f"no-change run {idle} calls; peak RSS {peak_rss_mb():.0f} MB")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
