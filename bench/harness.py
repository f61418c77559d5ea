"""What the sync benchmarks share: both emulators as processes, the sync's steps in the DAG's order, and
the edits made behind the sync's back between runs. Used by bench/sync.py (steps in one process) and
bench/scale.py (each step in a spawned process of its own, for its peak RSS).

Import it after putting the repository root and plugins/ on sys.path (both scripts do, first thing).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.rss import peak_rss_mb, process_peak_rss_mb  # noqa: F401 (re-exported for the benches)
from emulators.common.process import EmulatorProcess
from sfjira.emulator_env import environment, sqlite_state

REPO = Path(__file__).resolve().parents[1]
MAPPING = REPO / "include" / "mappings" / "opportunity_to_epic.yaml"
SF_API = "/services/data/v62.0"
SEED_MAX = 200_000
"""Opportunities per seed call: the emulator makes at most 250,000 records in one (accounts included)."""

# The DAG's steps in order, each with the earlier results it takes (the report takes all of them).
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("extract_salesforce", ()),
    ("extract_jira", ()),
    ("transform", ("extract_salesforce", "extract_jira")),
    ("plan", ("extract_salesforce", "extract_jira", "transform")),
    ("load_jira", ("plan",)),
    ("load_salesforce", ("plan", "load_jira")),
    ("report", ()),
)


def step_function(name: str) -> Callable[..., dict[str, Any]]:
    """The function the DAG's operator of that step calls (imported late: the caller sets the environment first)."""
    from sfjira.sync.extract import extract_jira, extract_salesforce
    from sfjira.sync.load_jira import load_jira
    from sfjira.sync.load_salesforce import load_salesforce
    from sfjira.sync.report import build_report
    from sfjira.sync.steps import plan_step, transform_step

    functions: dict[str, Callable[..., dict[str, Any]]] = {
        "extract_salesforce": extract_salesforce, "extract_jira": extract_jira, "transform": transform_step,
        "plan": plan_step, "load_jira": load_jira, "load_salesforce": load_salesforce, "report": build_report}
    return functions[name]


def call_step(name: str, run: Any, results: dict[str, Any]) -> dict[str, Any]:
    """One step, fed the earlier steps' results as the DAG feeds them through XCom."""
    if name == "report":
        return step_function(name)(run, results)
    takes = dict(STEPS)[name]
    return step_function(name)(run, *(results[earlier] for earlier in takes))


def step_in_process(name: str, run: Any, results: dict[str, Any], env: dict[str, str], quiet: bool = True
                    ) -> tuple[dict[str, Any], float, float]:
    """One step as the body of a process of its own (bench/scale.py starts it with spawn, so its peak RSS
    is the step's alone): its result, its seconds and the process's peak RSS in MB. `quiet` keeps the
    steps' progress lines (one per chunk) out of the benchmark's output; warnings still show."""
    os.environ.update(env)
    step_function(name)  # imports first: Airflow configures logging as it loads
    if quiet:
        logging.getLogger("sfjira").setLevel(logging.WARNING)
    started = time.perf_counter()
    out = _profiled(name, lambda: call_step(name, run, results))
    return out, time.perf_counter() - started, peak_rss_mb()


def _profiled(name: str, step: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The step; with SFJIRA_BENCH_PROFILE=<folder>, under cProfile, its stats written to <folder>/<step>-<n>.prof
    (n: 1 for the step's first run in that folder, 2 for its next...; read with `python -m pstats`): where a
    step's time goes at scale, without a profiler to install."""
    folder = os.environ.get("SFJIRA_BENCH_PROFILE")
    if not folder:
        return step()
    import cProfile

    profile = cProfile.Profile()
    try:
        return profile.runcall(step)
    finally:
        Path(folder).mkdir(parents=True, exist_ok=True)
        n = 1 + sum(1 for _ in Path(folder).glob(f"{name}-*.prof"))
        profile.dump_stats(str(Path(folder) / f"{name}-{n}.prof"))


def make_run(tag: str, window: Any, *, dry_run: bool = False) -> Any:
    from sfjira.sync.run import SyncRun

    return SyncRun(mapping_file=str(MAPPING), dag_id="bench", airflow_run_id=tag, window=window, dry_run=dry_run)


def window(since: dt.datetime, *, full: bool = False) -> Any:
    from sfjira.sync.run import Window

    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    return Window.for_interval(since, until, dt.timedelta(0), full=full)


def next_minute() -> dt.datetime:
    """Jira's JQL has minute granularity: a window starting mid-minute pages through everything
    updated earlier in that minute (then filters it out). Real windows are minutes to hours long;
    here the phases are seconds apart, so each starts on a fresh minute to measure the steady state."""
    now = dt.datetime.now(dt.UTC)
    boundary = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    time.sleep((boundary - now).total_seconds() + 0.05)
    return dt.datetime.now(dt.UTC)


def api_calls(proc: EmulatorProcess) -> dict[str, int]:
    return {k: v for k, v in proc.calls()["by_endpoint"].items() if not k.startswith("GET /__emulator")}


@contextmanager
def emulators(work: Path) -> Iterator[tuple[EmulatorProcess, EmulatorProcess]]:
    """Both emulators as processes over HTTPS on loopback, with this process's environment pointing the
    sync at them (connections, a SQLite state store and run folders under `work`)."""
    os.environ["SFJIRA_STORAGE"] = f"file://{work / 'runs'}"
    sf = EmulatorProcess("emulators.salesforce", work / "sf", tls_dir=work / "tls").start()
    try:
        jira = EmulatorProcess("emulators.jira", work / "jira", tls_dir=work / "tls").start()
        try:
            os.environ.update(environment(sf.url, jira.url, sf.ca_bundle,
                                          state=sqlite_state(str(work / "state.db"))))
            yield sf, jira
        finally:
            jira.stop()
    finally:
        sf.stop()


def work_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="sfjira-bench-"))


def seed_opportunities(sf: EmulatorProcess, records: int, seed: int = 7) -> None:
    """`records` new Opportunities (one Account per five), in seed calls of at most SEED_MAX."""
    done = 0
    while done < records:
        n = min(SEED_MAX, records - done)
        sf.seed(seed=seed + done, accounts=max(1, n // 5), opportunities=n, contacts=0, cases=0, case_comments=0,
                users=0 if done else 3)
        done += n


def sf_session(sf: EmulatorProcess) -> Any:
    import requests

    from emulators.salesforce.testing import access_token

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {access_token(sf.url, sf.ca_bundle)}"
    session.verify = sf.ca_bundle
    session.trust_env = False  # else a REQUESTS_CA_BUNDLE in the environment overrides the emulator's CA per request
    return session


def linked(sf: EmulatorProcess, count: int) -> list[dict[str, Any]]:
    """The first `count` Opportunities by Id with their Amount and Jira key, through REST query pages."""
    session = sf_session(sf)
    reply = session.get(f"{sf.url}{SF_API}/query", timeout=120, params={
        "q": f"SELECT Id, Amount, Jira_Key__c FROM Opportunity ORDER BY Id LIMIT {count}"}).json()
    rows = list(reply["records"])
    while not reply.get("done", True):
        reply = session.get(f"{sf.url}{reply['nextRecordsUrl']}", timeout=120).json()
        rows += reply["records"]
    return rows


def edit_behind_back(sf: EmulatorProcess, jira: EmulatorProcess, changed: int, records: int) -> float:
    """Setup writes, not measured: the Amount of the first `changed` Opportunities in Salesforce (sObject
    Collections of 200), and one workflow step for the epics of the last `changed` in Jira (bulk
    transitions of 1,000: every epic the first sync created waits in the same status). Returns the seconds
    waited for the emulators' write clocks (catch_up)."""
    from emulators.jira.testing import JiraRest

    rows = linked(sf, records)
    session = sf_session(sf)
    edits = [{"attributes": {"type": "Opportunity"}, "Id": r["Id"], "Amount": (r["Amount"] or 0) + 1000.25}
             for r in rows[:changed]]
    for start in range(0, len(edits), 200):
        session.patch(f"{sf.url}{SF_API}/composite/sobjects", timeout=120,
                      json={"allOrNone": True, "records": edits[start:start + 200]}).raise_for_status()
    keys = [r["Jira_Key__c"] for r in rows[len(rows) - changed:]]
    rest = JiraRest(jira.url, jira.ca_bundle)
    if not keys:
        return 0.0
    move = rest.ok("GET", f"/issue/{keys[0]}/transitions")["transitions"][0]["id"]
    for start in range(0, len(keys), 1000):
        task = rest.ok("POST", "/bulk/issues/transition", json={"bulkTransitionInputs": [
            {"selectedIssueIdsOrKeys": keys[start:start + 1000], "transitionId": move}]})
        progress = rest.ok("GET", f"/bulk/queue/{task['taskId']}")
        while progress.get("status") not in ("COMPLETE", "FAILED", "CANCELLED", "DEAD"):
            time.sleep(0.05)
            progress = rest.ok("GET", f"/bulk/queue/{task['taskId']}")
        if progress.get("failedAccessibleIssues") or progress.get("invalidOrInaccessibleIssueCount"):
            raise RuntimeError(f"bulk transition of the edits failed: {progress}")
    stamps = [rest.ok("GET", f"/issue/{keys[-1]}", params={"fields": "updated"})["fields"]["updated"]]
    if edits:
        stamps.append(session.get(f"{sf.url}{SF_API}/sobjects/Opportunity/{edits[-1]['Id']}", timeout=120,
                                  params={"fields": "SystemModstamp"}).json()["SystemModstamp"])
    return catch_up(stamps)


def catch_up(stamps: list[str]) -> float:
    """Wait until the wall clock is past the given write stamps. Both emulators stamp each write strictly
    after the one before, so a burst of thousands of writes runs their clocks ahead of the wall clock; a
    window ending "now" would leave the burst's last writes to the next run."""
    latest = max(dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z") for s in stamps)
    ahead = max(0.0, (latest - dt.datetime.now(dt.UTC)).total_seconds() + 0.1)
    time.sleep(ahead)
    return ahead
