"""The chaos suite, small (issue 11, point 7): 200 cases, a round of edits on both sides, 20 % faults on
both emulators, load task processes killed mid-batch in a live Airflow -- and afterwards an oracle reading
both systems through their REST APIs finds no duplicate, no missing record, no drift, every comment once,
and the reconciliation DAG agrees. The large version with figures is bench/chaos.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulators.common.process import EmulatorProcess
from tests.chaos.scenario import Chaos, Config, table

pytestmark = pytest.mark.live_airflow


# About 4 minutes alone on 2 cores (a live Airflow, five DAG runs, retries); more beside other workers.
@pytest.mark.timeout(1200)
def test_chaos_leaves_both_systems_equal(sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess,
                                         tmp_path: Path) -> None:
    chaos = Chaos(sf_emulator, jira_emulator, tmp_path, Config(records=200, rounds=1))
    try:
        fig = chaos.run_seed(11)
    finally:
        chaos.close()
        for emulator in (sf_emulator, jira_emulator):  # other suites share these processes
            emulator.reset()
            emulator.clear_calls()
    print(table([fig]))
    verdict = fig.verdict
    assert verdict is not None
    explain = json.dumps({"verdict": verdict.as_dict(), "kills": fig.kills, "runs": [r.__dict__ for r in fig.runs],
                          "reconcile": fig.reconcile, "errors": fig.errors[-3:]}, indent=1, default=str)
    assert len(fig.kills) >= 2, explain
    assert sum(fig.faults.values()) > 0, explain
    assert fig.runs[-1].state == "success", explain  # the settling run, faults off
    assert (verdict.duplicates, verdict.missing, verdict.drift, verdict.comment_errors) == (0, 0, 0, 0), explain
    assert (fig.reconcile.get("state"), fig.reconcile.get("total")) == ("success", 0), explain
