"""Memory benchmark: peak RSS of each sync step for two window sizes (issue 14: memory bounded by the part).

    python bench/memory.py [--sizes 20000 80000] [--part-records 5000]

For each window size, fresh emulators are seeded with that many new Opportunities and one full sync runs
(extract_salesforce -> extract_jira -> transform -> plan -> load_jira -> load_salesforce), each step in a
process of its own, as Airflow runs each task: its peak RSS (VmHWM, bench/rss.py) is the step's own. `base` is the
RSS of that process after its imports, before the step; `step` = peak - base is what the step added.
With `[sfjira] part_records` = --part-records the steps work part by part, so `step` should stay about
flat while the window grows 4x. Prints a table; no assertion (figures, not tests: see DEVELOPERS rules).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sfjira-bench-airflow-"))

from bench.rss import peak_rss_mb  # noqa: E402

MAPPING = REPO / "include" / "mappings" / "opportunity_to_epic.yaml"
STEPS = ("extract_salesforce", "extract_jira", "transform", "plan", "load_jira", "load_salesforce")




def child(state_file: Path, step: str) -> None:
    """One step in this process: reads the earlier steps' outputs from `state_file`, adds its own."""
    from sfjira.sync.extract import extract_jira, extract_salesforce
    from sfjira.sync.load_jira import load_jira
    from sfjira.sync.load_salesforce import load_salesforce
    from sfjira.sync.run import SyncRun, Window
    from sfjira.sync.steps import plan_step, transform_step

    state = json.loads(state_file.read_text())
    results: dict[str, Any] = state["results"]
    run = SyncRun(mapping_file=str(MAPPING), dag_id="bench", airflow_run_id=state["tag"],
                  window=Window.from_dict(state["window"]), state_run=(results.get("plan") or {}).get("state_run"))
    base = peak_rss_mb()
    started = time.perf_counter()
    calls = {
        "extract_salesforce": lambda: extract_salesforce(run),
        "extract_jira": lambda: extract_jira(run),
        "transform": lambda: transform_step(run, results["extract_salesforce"], results["extract_jira"]),
        "plan": lambda: plan_step(run, results["extract_salesforce"], results["extract_jira"], results["transform"]),
        "load_jira": lambda: load_jira(run, results["plan"]),
        "load_salesforce": lambda: load_salesforce(run, results["plan"], results["load_jira"]),
    }
    results[step] = calls[step]()
    state["figures"][step] = {"base": base, "peak": peak_rss_mb(), "seconds": time.perf_counter() - started}
    state_file.write_text(json.dumps(state, default=str))


def one_size(records: int, part_records: int, work: Path) -> dict[str, dict[str, float]]:
    from emulators.common.process import EmulatorProcess
    from sfjira.emulator_env import environment, sqlite_state

    env = dict(os.environ)
    env["SFJIRA_STORAGE"] = f"file://{work / 'runs'}"
    env["AIRFLOW__SFJIRA__PART_RECORDS"] = str(part_records)
    sf = EmulatorProcess("emulators.salesforce", work / "sf", tls_dir=work / "tls").start()
    jira = EmulatorProcess("emulators.jira", work / "jira", tls_dir=work / "tls").start()
    try:
        env.update(environment(sf.url, jira.url, sf.ca_bundle, state=sqlite_state(str(work / "state.db"))))
        sf.seed(seed=7, accounts=max(1, records // 50), opportunities=records, contacts=0, cases=0, case_comments=0)
        from sfjira.sync.run import Window

        now = dt.datetime.now(dt.UTC)
        window = Window.for_interval(now, now + dt.timedelta(seconds=1), dt.timedelta(0), full=True)
        state_file = work / "state.json"
        state_file.write_text(json.dumps({"tag": f"memory-{records}", "window": window.as_dict(), "results": {},
                                          "figures": {}}, default=str))
        with (work / "steps.log").open("w") as log:  # the steps' own logs, out of the table's way
            for step in STEPS:
                subprocess.run([sys.executable, __file__, "--child", step, "--state", str(state_file)], env=env,
                               check=True, stdout=log, stderr=subprocess.STDOUT)
        state = json.loads(state_file.read_text())
        created = state["results"]["load_jira"].get("created")
        buckets = (state["results"]["transform"].get("buckets") or {}).get("count", "no")
        print(f"   window {records}: {created} issues created, {buckets} plan bucket(s), logs in {work}", flush=True)
        return dict(state["figures"])
    finally:
        jira.stop()
        sf.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 80_000])
    parser.add_argument("--part-records", type=int, default=5_000)
    parser.add_argument("--child")
    parser.add_argument("--state", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.state, args.child)
        return 0
    print(f"sfjira memory benchmark: windows of {args.sizes} new records, part_records {args.part_records}; "
          "peak RSS per step (each step its own process)", flush=True)
    table = {}
    for records in args.sizes:
        table[records] = one_size(records, args.part_records, Path(tempfile.mkdtemp(prefix="sfjira-mem-")))
    print(f"\n{'step':<18}" + "".join(f"| {n:>7} recs: peak MB (step MB)  " for n in args.sizes))
    for step in STEPS:
        cells = [table[n][step] for n in args.sizes]
        print(f"{step:<18}" + "".join(f"| {c['peak']:>10.0f} ({c['peak'] - c['base']:>6.0f}) in {c['seconds']:>6.1f} s "
                                      for c in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
