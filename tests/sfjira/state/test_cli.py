"""`python -m sfjira.state`: status, migrate and unlink from a shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from sfjira.state import StateStore

REPO = Path(__file__).resolve().parents[3]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sfjira.state", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"})


def test_migrate_status_and_unlink(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    migrated = _cli("--url", url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "schema version 1" in migrated.stdout
    with StateStore(url) as store:
        run_id = store.begin_run("accounts", "manual__1")
        store.upsert_links("accounts", pd.DataFrame({"sf_id": ["500A", "500B"], "jira_key": ["S-1", "S-2"]}), run_id)
        store.set_link_state("accounts", ["500B"], "deleted_jira")
        store.begin_intent("accounts", run_id, "jira", "create", 0, ["500C"])
        store.finish_run(run_id, "success")

    status = _cli("--url", url, "status", "--mapping", "accounts")
    assert status.returncode == 0, status.stderr
    for line in ("runs: 1 success=1", "links: 2 active=1 deleted_jira=1", "pending intents: 1", "open rejects: 0",
                 "accounts/manual__1"):
        assert line in status.stdout

    unlink = _cli("--url", url, "unlink", "--mapping", "accounts", "--sf-id", "500B")
    assert unlink.returncode == 0 and "removed 1 link(s)" in unlink.stdout
    with StateStore(url) as store:
        assert store.links("accounts")["sf_id"].tolist() == ["500A"]


def test_errors_are_printed_with_their_fix(tmp_path: Path) -> None:
    result = _cli("--url", "mysql://u@db/x", "status", "--mapping", "accounts")
    assert result.returncode == 2
    assert "[STATE_URL_INVALID]" in result.stderr and "fix:" in result.stderr
