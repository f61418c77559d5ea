"""Chaos benchmark (issue 11, points 7 and 8): faults, kills and random edits on both sides, then an oracle.

    python bench/chaos.py [--records 2000] [--seeds 5] [--rounds 3] [--fault-rate 0.2] [--kills 2]
                          [--task-retries 3] [--json out.json]

Both emulators run as processes; a live Airflow (api-server + scheduler, LocalExecutor, isolated
AIRFLOW_HOME) runs the case_to_bug sync DAG. Per seed (tests/chaos/scenario.py): `records` cases seeded
and synced, `rounds` rounds of seeded random edits on both sides (creates, field edits, status changes,
comments, deletes), each followed by sync runs under `fault-rate` faults on both emulators (429 with
Retry-After, 503, 500, reset, slow past the client timeout, lost response, expired session) until one
succeeds; load task processes SIGKILLed mid-batch at least `kills` times. Then faults off, one settling
run, the REST-only oracle and the reconciliation DAG.

Columns: runs (sync DAG runs under faults), ok% (share of them that succeeded within the DAG's own task
retries), faults (injected, both emulators), kills, retries (Airflow task tries beyond the first, kills
included), calls sf/jira (requests the emulators served during sync runs, faulted ones and retries
included), reported/minimum (API calls the run reports counted and the protocol minimum they computed,
successful runs only), dup/miss/drift/cmt (the oracle: duplicates, missing records, drifting fields and
delete policies, comments not exactly once), recon (reconciliation DAG state / drift rows), secs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sfjira-bench-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from emulators.common.process import EmulatorProcess  # noqa: E402
from tests.chaos.scenario import Chaos, Config, Figures, table  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--task-retries", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write every figure and the oracle's details here")
    args = parser.parse_args()
    config = Config(records=args.records, rounds=args.rounds, fault_rate=args.fault_rate, kills=args.kills,
                    task_retries=args.task_retries)
    work = Path(tempfile.mkdtemp(prefix="sfjira-chaos-"))
    print(f"chaos: {args.records} records, {args.seeds} seeds, {args.rounds} rounds, {args.fault_rate:.0%} faults, "
          f">= {args.kills} kills per seed, {args.task_retries} task retries; work dir {work}", flush=True)
    figures: list[Figures] = []
    with EmulatorProcess("emulators.salesforce", work / "sf-data", tls_dir=work / "tls") as sf, \
            EmulatorProcess("emulators.jira", work / "jira-data", tls_dir=work / "tls") as jira:
        chaos = Chaos(sf, jira, work / "airflow-world", config)
        try:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                fig = chaos.run_seed(seed)
                figures.append(fig)
                print(table([fig]).splitlines()[-1], flush=True)
                for error in fig.errors:
                    print(f"  failed run: {error.splitlines()[0]}", flush=True)
        finally:
            chaos.close()
    print()
    print(table(figures))
    print("\nsuccess share within the DAG's task retries, per seed: "
          + ", ".join(f"seed {f.seed} {100 * f.success_share:.1f}%" for f in figures))
    runs = [r for f in figures for r in f.chaos_runs]
    share = sum(r.state == "success" for r in runs) / len(runs) if runs else 1.0
    print(f"overall: {100 * share:.1f}% of {len(runs)} runs (target >= 95%)")
    for f in figures:
        print(f"seed {f.seed}: kills {f.kills}; faults {f.faults}; edits {f.edits}; reconcile {f.reconcile}")
        if f.verdict and not f.verdict.clean:
            print(f"  oracle details: {json.dumps(f.verdict.details, default=str)[:3000]}")
    if args.json:
        args.json.write_text(json.dumps([{**f.__dict__, "verdict": f.verdict.as_dict() if f.verdict else None,
                                          "runs": [r.__dict__ for r in f.runs]} for f in figures],
                                        indent=1, default=str))
    clean = all(f.verdict and f.verdict.clean and f.reconcile.get("total") == 0 for f in figures)
    return 0 if clean and share >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
