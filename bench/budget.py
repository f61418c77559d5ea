"""API calls of every shipped mapping against its protocol minimum: first sync, incremental run, idle run.

    python bench/budget.py [--records 200] [--changed 40]

Both emulators run as processes; each shipped mapping (include/mappings) runs as its real sync DAG
(`dag.test()`, isolated AIRFLOW_HOME) through the scenario of tests/e2e/minimum.py: `records` new
Salesforce records synced (cases in every status, each with a comment), then `changed` edited in
Salesforce (cases also closed, with a new comment) and `changed` others moved one workflow step in Jira
(cases also commented) and synced, then a run with nothing new. Per run and side: the calls the emulator
served / the protocol minimum the run's report computed (sfjira.sync.report.protocol_minimum), and their
ratio; the target is at most 1.1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sfjira-bench-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")

from cryptography.fernet import Fernet  # noqa: E402

# Shipped mappings declare PII: parsing them needs the key that encrypts it (generated for the bench).
os.environ.setdefault("AIRFLOW_CONN_SFJIRA_CRYPTO", json.dumps(
    {"conn_type": "generic", "password": Fernet.generate_key().decode()}))

from emulators.common.process import EmulatorProcess  # noqa: E402
from sfjira.emulator_env import environment, sqlite_state  # noqa: E402
from tests.e2e.minimum import BOUND, SHIPPED, Figures, scenario  # noqa: E402
from tests.e2e.world import World, copy_shipped_mappings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--changed", type=int, default=40)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sfjira-bench-"))
    migrated = subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=dict(os.environ),
                              capture_output=True, text=True, timeout=600)
    if migrated.returncode:
        print(migrated.stdout[-2000:] + migrated.stderr[-2000:])
        return 1
    os.environ.update({"SFJIRA_MAPPINGS_DIR": str(copy_shipped_mappings(work / "mappings")),
                       "SFJIRA_TASK_RETRIES": "0"})
    sf = EmulatorProcess("emulators.salesforce", work / "sf", tls_dir=work / "tls").start()
    jira = EmulatorProcess("emulators.jira", work / "jira", tls_dir=work / "tls").start()
    figures: list[Figures] = []
    try:
        for mapping in SHIPPED:
            for proc in (sf, jira):
                proc.reset()
            os.environ.update(environment(sf.url, jira.url, sf.ca_bundle,
                                          state=sqlite_state(str(work / f"{mapping}.db"))))
            os.environ["SFJIRA_STORAGE"] = f"file://{work / 'runs' / mapping}"
            world = World(sf, jira, work / "mappings", work / "runs" / mapping)
            figures += scenario(world, mapping, args.records, args.changed)
            world.store.close()
    finally:
        jira.stop()
        sf.stop()
    print(f"\nsfjira API calls against the protocol minimum: {args.records} records, {args.changed} changed per side")
    print(f"{'mapping':<20} {'run':<12} calls used / minimum (ratio) per side")
    for f in figures:
        print(f.line())
    worst = max(f.ratio(s) for f in figures for s in ("salesforce", "jira"))
    print(f"\nSUMMARY worst ratio {worst:.3f} (target <= {BOUND}): {'met' if worst <= BOUND else 'NOT met'}")
    return 0 if worst <= BOUND else 1


if __name__ == "__main__":
    raise SystemExit(main())
