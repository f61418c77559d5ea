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
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sfjira-bench-airflow-"))

from emulators.common.process import EmulatorProcess  # noqa: E402
from sfjira.emulator_env import environment, sqlite_state  # noqa: E402

MAPPING = REPO / "include" / "mappings" / "opportunity_to_epic.yaml"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def next_minute() -> dt.datetime:
    """Jira's JQL has minute granularity: a window starting mid-minute pages through everything
    updated earlier in that minute (then filters it out). Real windows are minutes to hours long;
    here the phases are seconds apart, so each starts on a fresh minute to measure the steady state."""
    now = dt.datetime.now(dt.UTC)
    boundary = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    time.sleep((boundary - now).total_seconds() + 0.05)
    return dt.datetime.now(dt.UTC)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def api_calls(proc: EmulatorProcess) -> dict[str, int]:
    return {k: v for k, v in proc.calls()["by_endpoint"].items() if not k.startswith("GET /__emulator")}


def task(run: Any) -> Any:
    """The run as the next DAG task sees it: each task is its own process, with its own hooks (a Salesforce
    token and API-budget read of its own, a Jira workflow learned afresh), as the protocol minimum counts."""
    for hook in ("salesforce", "jira"):
        run.__dict__.pop(hook, None)
    return run


def run_sync(tag: str, since: dt.datetime, *, full: bool = False) -> tuple[dict, float]:
    from sfjira.sync.extract import extract_jira, extract_salesforce
    from sfjira.sync.load_jira import load_jira
    from sfjira.sync.load_salesforce import load_salesforce
    from sfjira.sync.report import build_report
    from sfjira.sync.run import SyncRun, Window
    from sfjira.sync.steps import plan_step, transform_step

    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    window = Window.for_interval(since, until, dt.timedelta(0), full=full)
    run = SyncRun(mapping_file=str(MAPPING), dag_id="bench", airflow_run_id=tag, window=window)
    started = time.perf_counter()
    results = {"extract_salesforce": extract_salesforce(task(run)), "extract_jira": extract_jira(task(run))}
    results["transform"] = transform_step(task(run), results["extract_salesforce"], results["extract_jira"])
    results["plan"] = plan_step(task(run), results["extract_salesforce"], results["extract_jira"],
                                results["transform"])
    results["load_jira"] = load_jira(task(run), results["plan"])
    results["load_salesforce"] = load_salesforce(task(run), results["plan"], results["load_jira"])
    summary = build_report(task(run), results)
    return summary, time.perf_counter() - started


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


def edit_behind_back(sf: EmulatorProcess, jira: EmulatorProcess, changed: int) -> None:
    """Setup writes, not measured: `changed` Amounts in Salesforce, `changed` statuses in Jira."""
    import requests

    from emulators.jira.testing import JiraRest
    from emulators.salesforce.testing import access_token

    headers = {"Authorization": f"Bearer {access_token(sf.url, sf.ca_bundle)}"}
    base = f"{sf.url}/services/data/v62.0"
    rows = requests.get(f"{base}/query", params={"q": "SELECT Id, Amount, Jira_Key__c FROM Opportunity ORDER BY Id"},
                        headers=headers, verify=sf.ca_bundle, timeout=60).json()["records"]
    edits = [{"attributes": {"type": "Opportunity"}, "Id": r["Id"], "Amount": (r["Amount"] or 0) + 1000.25}
             for r in rows[:changed]]
    for start in range(0, len(edits), 200):
        requests.patch(f"{base}/composite/sobjects", json={"allOrNone": True, "records": edits[start:start + 200]},
                       headers=headers, verify=sf.ca_bundle, timeout=60).raise_for_status()
    rest = JiraRest(jira.url, jira.ca_bundle)
    for r in rows[-changed:]:
        moves = rest.ok("GET", f"/issue/{r['Jira_Key__c']}/transitions")["transitions"]
        rest.ok("POST", f"/issue/{r['Jira_Key__c']}/transitions", json={"transition": {"id": moves[0]["id"]}})


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
    work = Path(tempfile.mkdtemp(prefix="sfjira-bench-"))
    os.environ["SFJIRA_STORAGE"] = f"file://{work / 'runs'}"
    sf = EmulatorProcess("emulators.salesforce", work / "sf", tls_dir=work / "tls").start()
    jira = EmulatorProcess("emulators.jira", work / "jira", tls_dir=work / "tls").start()
    try:
        os.environ.update(environment(sf.url, jira.url, sf.ca_bundle, state=sqlite_state(str(work / "state.db"))))
        os.environ["REQUESTS_CA_BUNDLE"] = sf.ca_bundle  # for the stock clients of the baseline only
        sf.seed(seed=7, accounts=max(1, args.records // 5), opportunities=args.records, contacts=0, cases=0,
                case_comments=0)
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
        edit_behind_back(sf, jira, args.changed)
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
    finally:
        jira.stop()
        sf.stop()


if __name__ == "__main__":
    raise SystemExit(main())
