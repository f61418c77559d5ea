"""One chaos seed, end to end, in a live Airflow (api-server + scheduler, LocalExecutor):

1. seed N cases (some with comments), sync (under faults only with `seed_faults`: at 20 % a first load
   of 2,000 records takes tens of minutes on a small machine, and the rounds are what the suite is about)
2. k rounds: seeded random edits on both sides, then sync runs under faults until one succeeds
   (each run counted, and whether it succeeded within the DAG's own task retries)
3. during the loads, the task process (`airflow worker -- <ti id>`) is killed with SIGKILL once it has
   written something (mid-batch): at least `kills` times per seed; Airflow's supervisor reports the
   failure and the scheduler retries the task
4. faults off, one settling run, the oracle (REST only), then the reconciliation DAG (fail above 0 drift)

Every sync run is triggered through Airflow's REST API with an explicit data interval [end of the previous
run's interval, now), so each run reads what the editors just did (a manual run's inferred interval ends
at the previous schedule tick). The mapping's schedule is moved out of the way (yearly) so that the
scheduler starts no runs of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.common.process import EmulatorProcess
from sfjira.emulator_env import crypto_connection, jira_connection, salesforce_connection, sqlite_state
from tests.chaos import faults
from tests.chaos.edits import Editors
from tests.chaos.oracle import Verdict, judge
from tests.e2e.world import SHIPPED_MAPPINGS, World, write_calls
from tests.live_airflow import Services, airflow_environment, prepare, task_errors, task_process

MAPPING = "case_to_bug"
SYNC, RECONCILE = f"sfjira_sync__{MAPPING}", f"sfjira_reconcile__{MAPPING}"
LOADS = {"load_jira": 3, "load_salesforce": 1}  # writes seen before a kill counts as mid-batch
FINAL = ("success", "failed")


@dataclass
class Config:
    records: int = 200
    rounds: int = 2
    fault_rate: float = 0.2
    kills: int = 2
    task_retries: int = 3
    retry_delay_s: float = 1.0
    max_attempts: int = 4  # sync runs per round before giving up on it (each a full DAG run)
    seed_faults: bool = False  # the first sync (every record created) under faults as well


@dataclass
class RunResult:
    label: str
    run_id: str
    state: str
    retries: int
    seconds: float
    failed_tasks: list[str] = field(default_factory=list)


@dataclass
class Figures:
    seed: int
    records: int
    runs: list[RunResult] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)
    kills: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=lambda: {"salesforce": 0, "jira": 0})
    reported: dict[str, int] = field(default_factory=lambda: {"used": 0, "minimum": 0})
    verdict: Verdict | None = None
    reconcile: dict[str, Any] = field(default_factory=dict)
    edits: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def chaos_runs(self) -> list[RunResult]:
        return [r for r in self.runs if r.label != "settle"]

    @property
    def success_share(self) -> float:
        runs = self.chaos_runs
        return sum(r.state == "success" for r in runs) / len(runs) if runs else 1.0

    @property
    def retries(self) -> int:
        return sum(r.retries for r in self.runs)


class Chaos:
    """A live Airflow over two running emulators; `run_seed` any number of times, then `close()`."""

    def __init__(self, sf: EmulatorProcess, jira: EmulatorProcess, workdir: Path, config: Config) -> None:
        self.sf_emulator, self.jira_emulator = sf, jira
        self.workdir, self.config = Path(workdir), config
        self.state_db = self.workdir / "state.db"
        mappings = self.workdir / "mappings"
        mappings.mkdir(parents=True, exist_ok=True)
        text = (SHIPPED_MAPPINGS / f"{MAPPING}.yaml").read_text()
        # Yearly: the scheduler starts no run of its own (its first interval has not ended).
        (mappings / f"{MAPPING}.yaml").write_text(text.replace('schedule: "*/10 * * * *"', 'schedule: "0 3 1 1 *"'))
        self.world = World(sf, jira, mappings, self.workdir / "runs")
        self.env = airflow_environment(self.workdir / "airflow", self._connections(), storage=self.workdir / "runs",
                                       task_retries=config.task_retries, retry_delay_s=config.retry_delay_s,
                                       mappings_dir=mappings)
        prepare(self.env)
        self.services = Services(self.env)
        self.services.unpause(SYNC)
        self.interval_end = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)

    def _connections(self) -> dict[str, str]:
        # The oracle's compare runs in this process: it must hold the same PII key as the tasks.
        crypto = os.environ.get("AIRFLOW_CONN_SFJIRA_CRYPTO")
        keys = json.loads(crypto)["password"] if crypto else None
        conns = {"AIRFLOW_CONN_SALESFORCE_DEFAULT": salesforce_connection(
                     self.sf_emulator.url, self.sf_emulator.ca_bundle, timeout=faults.CLIENT_TIMEOUT_S),
                 "AIRFLOW_CONN_JIRA_DEFAULT": jira_connection(
                     self.jira_emulator.url, self.jira_emulator.ca_bundle, timeout=faults.CLIENT_TIMEOUT_S),
                 "AIRFLOW_CONN_SFJIRA_CRYPTO": crypto_connection(keys),
                 "AIRFLOW_CONN_SFJIRA_STATE": sqlite_state(str(self.state_db))}
        env = {k: json.dumps(v) for k, v in conns.items()}
        os.environ["AIRFLOW_CONN_SFJIRA_CRYPTO"] = env["AIRFLOW_CONN_SFJIRA_CRYPTO"]
        return env

    def close(self) -> None:
        self.services.stop()
        faults.clear(self.sf_emulator, self.jira_emulator)

    # -- one seed -------------------------------------------------------------------------------------

    def run_seed(self, seed: int) -> Figures:
        started = time.monotonic()
        self._fresh()
        fig = Figures(seed, self.config.records)
        self.seed, self.fig = seed, fig
        editors = Editors(self.world, seed)
        editors.seed_cases(self.config.records)
        self.sync("seed", rate=None if self.config.seed_faults else 0.0)
        round_no = 0
        while round_no < self.config.rounds or (len(fig.kills) < self.config.kills
                                                and round_no < self.config.rounds + 4):
            round_no += 1
            editors.edit_round(round_no)
            self.sync(f"r{round_no}")
        faults.clear(self.sf_emulator, self.jira_emulator)
        self.sync("settle", rate=0.0, attempts=2)
        fig.faults = {f"sf_{k}": v for k, v in faults.fired(self.sf_emulator).items()}
        fig.faults.update({f"jira_{k}": v for k, v in faults.fired(self.jira_emulator).items()})
        fig.reported = self._reported()
        fig.edits = editors.book.edits
        fig.verdict = judge(self.world, self.world.mapping(MAPPING), editors.book)
        fig.reconcile = self.reconcile()
        fig.seconds = time.monotonic() - started
        return fig

    def _fresh(self) -> None:
        for emulator in (self.sf_emulator, self.jira_emulator):
            emulator.clear_faults()
            emulator.set_latency(0)
            emulator.reset()
            emulator.clear_calls()
        # A new seed is a new world: the state store starts empty (tasks create its schema on first use).
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.state_db}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(self.workdir / "runs", ignore_errors=True)

    # -- sync runs --------------------------------------------------------------------------------------

    def sync(self, label: str, *, rate: float | None = None, attempts: int | None = None) -> bool:
        rate = self.config.fault_rate if rate is None else rate
        for attempt in range(1, (attempts or self.config.max_attempts) + 1):
            before = self._totals()
            faults.inject(self.sf_emulator, self.jira_emulator, rate, seed=self.seed * 1000 + len(self.fig.runs))
            try:
                result = self._one_run(f"s{self.seed}_{label}_{attempt}", label)
            finally:
                faults.clear(self.sf_emulator, self.jira_emulator)
            after = self._totals()
            for side in after:
                self.fig.calls[side] += after[side] - before[side]
            self.fig.runs.append(result)
            if result.state == "success":
                return True
            self.fig.errors.append(f"seed {self.seed} run {result.run_id}: failed tasks {result.failed_tasks}\n"
                                   f"{task_errors(self.env)[-2000:]}")
        return False

    def _totals(self) -> dict[str, int]:
        return {"salesforce": int(self.sf_emulator.calls()["total"]), "jira": int(self.jira_emulator.calls()["total"])}

    def _one_run(self, run_id: str, label: str) -> RunResult:
        started = time.monotonic()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
        while now <= self.interval_end:  # logical dates must differ from run to run
            now += dt.timedelta(seconds=1)
        time.sleep(max(0.0, (now - dt.datetime.now(dt.UTC)).total_seconds()))
        self.services.trigger(SYNC, run_id, logical_date=now.isoformat(),
                              interval=(self.interval_end.isoformat(), now.isoformat()))
        self.interval_end = now
        state = self._watch(run_id)
        tis = self.services.task_instances(SYNC, run_id)
        retries = sum(max(0, int(ti.get("try_number") or 1) - 1) for ti in tis)
        failed = [ti["task_id"] for ti in tis if ti["state"] not in ("success", "skipped")]
        return RunResult(label, run_id, state, retries, time.monotonic() - started, failed)

    def _watch(self, run_id: str, timeout: float = 1800) -> str:
        """Wait for the run to end; meanwhile kill one load task process mid-batch while kills are due."""
        deadline = time.monotonic() + timeout
        base: dict[str, int] = {}
        killed = False
        while time.monotonic() < deadline:
            state = self.services.run_state(SYNC, run_id)
            if state in FINAL:
                return state
            if not killed and len(self.fig.kills) < self.config.kills:
                killed = self._maybe_kill(run_id, base)
            time.sleep(0.3 if base else 1.0)
        raise AssertionError(f"{SYNC} {run_id} did not finish in {timeout:.0f} s\n{task_errors(self.env)}")

    def _maybe_kill(self, run_id: str, base: dict[str, int]) -> bool:
        for ti in self.services.task_instances(SYNC, run_id):
            threshold = LOADS.get(ti["task_id"])
            # Kill only a try that leaves the task a retry: the kill must be survivable within the DAG's retries.
            tries = int(ti.get("try_number") or 1)
            if threshold is None or ti["state"] != "running" or tries >= self.config.task_retries:
                continue
            emulator = self.jira_emulator if ti["task_id"] == "load_jira" else self.sf_emulator
            writes = sum(write_calls(emulator.calls()).values())
            start = base.setdefault(str(ti["id"]), writes)
            if writes - start < threshold:
                continue
            pid = task_process(ti["id"])
            if pid is None:
                continue
            os.kill(pid, signal.SIGKILL)
            self.fig.kills.append(f"{run_id}/{ti['task_id']} after {writes - start} writes")
            return True
        return False

    # -- figures and the reconciliation -------------------------------------------------------------

    def _reported(self) -> dict[str, int]:
        """API calls the run reports said they used, against their protocol minimum (sfjira.sync.report)."""
        from sfjira.state import StateStore

        out = {"used": 0, "minimum": 0}
        with StateStore(f"sqlite:///{self.state_db}") as store:
            for summary in store.runs(MAPPING, limit=None)["summary"]:
                summary = json.loads(summary) if isinstance(summary, str) else summary
                calls = (summary or {}).get("api_calls") or {}
                out["used"] += sum((calls.get("used") or {}).values())
                out["minimum"] += sum((calls.get("minimum") or {}).values())
        return out

    def reconcile(self) -> dict[str, Any]:
        """The reconciliation DAG over everything, failing above 0 drift; its state and drift summary."""
        self.services.unpause(RECONCILE)
        run_id = f"s{self.seed}_reconcile"
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.services.trigger(RECONCILE, run_id, logical_date=now.isoformat(),
                              interval=((now - dt.timedelta(days=1)).isoformat(), now.isoformat()),
                              conf={"scope": "all", "auto_heal": False, "fail_on_drift_above": 0})
        state = self.services.wait_for_run(RECONCILE, run_id)
        out: dict[str, Any] = {"state": state}
        try:
            summary = self.services.xcom(RECONCILE, run_id, "compare")["summary"]
            out.update(total=summary["total"], counts={k: v for k, v in summary["counts"].items() if v})
        except (AssertionError, KeyError, TypeError) as err:
            out["error"] = str(err)[:300]
        return out


def table(figures: list[Figures]) -> str:
    """The per-seed figures, one line each."""
    head = (f"{'seed':>4} {'records':>7} {'runs':>4} {'ok%':>5} {'faults':>6} {'kills':>5} {'retries':>7} "
            f"{'calls sf/jira':>13} {'reported':>8} {'minimum':>7} {'dup':>4} {'miss':>4} {'drift':>5} "
            f"{'cmt':>4} {'recon':>12} {'secs':>5}")
    lines = [head, "-" * len(head)]
    for f in figures:
        v = f.verdict or Verdict()
        recon = f"{f.reconcile.get('state', '?')}/{f.reconcile.get('total', '?')}"
        lines.append(f"{f.seed:>4} {f.records:>7} {len(f.chaos_runs):>4} {100 * f.success_share:>5.1f} "
                     f"{sum(f.faults.values()):>6} {len(f.kills):>5} {f.retries:>7} "
                     f"{f.calls['salesforce']:>6}/{f.calls['jira']:<6} {f.reported['used']:>8} "
                     f"{f.reported['minimum']:>7} {v.duplicates:>4} {v.missing:>4} {v.drift:>5} "
                     f"{v.comment_errors:>4} {recon:>12} {f.seconds:>5.0f}")
    return "\n".join(lines)
