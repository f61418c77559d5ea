"""Several Airflow task processes writing to one store at once: nothing lost, nothing locked out."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sfjira.state import StateStore

from .conftest import Backend

REPO = Path(__file__).resolve().parents[3]
ROUNDS, ROWS = 20, 10

_WRITER = textwrap.dedent("""
    import os, sys, time
    import pandas as pd
    from sfjira.state import StateStore
    url, schema, run_id, name, go, rounds, rows = sys.argv[1:8]
    store = StateStore(url, schema=schema or None)
    store.links("accounts")  # connected and ready before the start line
    print("READY", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    for r in range(int(rounds)):
        ids = [f"{name}-{r}-{i}" for i in range(int(rows))]
        store.upsert_links("accounts", pd.DataFrame({"sf_id": ids, "jira_key": [f"K{x}" for x in ids]}), run_id)
        store.append_ledger(pd.DataFrame({"side": "jira", "action": "create", "sf_id": ids}), run_id=run_id,
                            mapping="accounts")
        store.update_run_summary(run_id, {name: {"rounds": r + 1}})
    print("DONE", flush=True)
""")


def test_two_processes_writing_at_once_lose_nothing(backend: Backend, store: StateStore, run_id: str,
                                                     tmp_path: Path) -> None:
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, backend.url, backend.schema or "", run_id, name, str(go),
                               str(ROUNDS), str(ROWS)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"})
             for name in ("load_jira", "load_salesforce")]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY", proc.stderr
    go.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and out.strip() == "DONE", err
    assert len(store.links("accounts")) == 2 * ROUNDS * ROWS
    assert len(store.ledger(run_id=run_id)) == 2 * ROUNDS * ROWS
    # the read-modify-write of the summary lost neither writer's key
    assert store.get_run(run_id)["summary"] == {"load_jira": {"rounds": ROUNDS}, "load_salesforce": {"rounds": ROUNDS}}
