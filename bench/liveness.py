"""Liveness under faults (issue 11 point 8): N sync DAG runs of the shipped case mapping with about
`--faults` of every API call on both emulators faulted (Jira 429/500/503/reset/lost response, Salesforce
500/503/reset/lost response/expired session).

    python bench/liveness.py [--runs 20] [--faults 0.2] [--retries 3] [--seed 1]

Before each run the workload adds cases, moves statuses and comments on both sides (unfaulted); the run
itself is a real `dag.test()` with the DAG's own task retries. Printed: each run's state and the tasks that
needed retries, then the share of runs that succeeded within the task retries, and the oracle's
duplicates (after every run) and missing writes (after one final clean run).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chaos_lib import ChaosWorld, Workload, dumps, oracle  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--faults", type=float, default=0.2)
    parser.add_argument("--retries", type=int, default=3, help="SFJIRA_TASK_RETRIES: the DAG's task retries")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the runs' own logs would drown the figures
    world = ChaosWorld(Path(tempfile.mkdtemp(prefix="sfjira-liveness-")), task_retries=args.retries).start()
    try:
        workload = Workload(world, seed=args.seed)
        workload.step(new_cases=5, moves=0, comments=0)
        state, _ = world.run()
        print(f"setup run (no faults): {state}")
        succeeded, duplicated, retried = 0, 0, 0
        started = time.perf_counter()
        for number in range(1, args.runs + 1):
            workload.step()
            world.faults(args.faults, seed=args.seed * 1000 + number)
            state, tries = world.run()
            fired = world.calm()
            verdict = oracle(world, complete=False)
            succeeded += state == "success"
            duplicated += verdict.duplicates > 0
            again = {t: n for t, n in tries.items() if n > 1}
            retried += bool(again)
            print(f"run {number:3d}: {state:8s} retried {dumps(again)} faults {dumps(fired)}"
                  + (f" DUPLICATES {verdict.details}" if verdict.duplicates else ""))
        elapsed = time.perf_counter() - started
        state, _ = world.run()
        final = oracle(world, complete=True)
        print(f"final clean run: {state}; oracle: duplicates {final.duplicates}, missing {final.missing}"
              + (f" {final.details[:10]}" if final.details else ""))
        print(f"\nSUMMARY {args.runs} runs under {args.faults:.0%} mixed faults on both emulators, "
              f"{args.retries} task retries: {succeeded}/{args.runs} ({succeeded / args.runs:.0%}) succeeded within "
              f"the DAG's task retries ({retried} needed a task retry); duplicates at the end {final.duplicates} "
              f"(runs after which any were present: {duplicated}); "
              f"missing after a clean run {final.missing}; {elapsed / args.runs:.1f} s per run")
        return 0
    finally:
        world.stop()


if __name__ == "__main__":
    raise SystemExit(main())
