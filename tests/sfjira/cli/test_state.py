"""`sfjira status | migrate | unlink`: the state store from a shell, through the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sfjira.state import SCHEMA_VERSION, StateStore

SFJIRA = Path(sys.executable).parent / "sfjira"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    # The console script `make` installs, run outside the repository with no PYTHONPATH: as a user would.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(SFJIRA), *args], cwd=Path.home(), capture_output=True, text=True, timeout=60, env=env)


def test_migrate_status_and_unlink(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    migrated = _cli("migrate", "--url", url)
    assert migrated.returncode == 0, migrated.stderr
    assert f"schema version {SCHEMA_VERSION}" in migrated.stdout
    with StateStore(url) as store:
        run_id = store.begin_run("accounts", "manual__1")
        store.upsert_links("accounts", pd.DataFrame({"sf_id": ["500A", "500B"], "jira_key": ["S-1", "S-2"]}), run_id)
        store.set_link_state("accounts", ["500B"], "deleted_jira")
        store.begin_intent("accounts", run_id, "jira", "create", 0, ["500C"])
        store.finish_run(run_id, "success")

    status = _cli("status", "--mapping", "accounts", "--url", url)
    assert status.returncode == 0, status.stderr
    for line in ("runs: 1 success=1", "links: 2 active=1 deleted_jira=1", "pending intents: 1", "open rejects: 0",
                 "accounts/manual__1", "writer lease: free"):
        assert line in status.stdout

    unlink = _cli("unlink", "--url", url, "--mapping", "accounts", "--sf-id", "500B")
    assert unlink.returncode == 0 and "removed 1 link(s)" in unlink.stdout
    with StateStore(url) as store:
        assert store.links("accounts")["sf_id"].tolist() == ["500A"]


def test_errors_are_printed_with_their_fix(tmp_path: Path) -> None:
    result = _cli("status", "--mapping", "accounts", "--url", "mysql://u@db/x")
    assert result.returncode == 2
    assert "[STATE_URL_INVALID]" in result.stderr and "fix:" in result.stderr


def test_rotate_pii_reseals_under_the_newest_key(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    from sfjira.pii import PiiCipher, PiiKeyError, PiiProtection

    url = f"sqlite:///{tmp_path / 'state.db'}"
    old, new = Fernet.generate_key(), Fernet.generate_key()
    with StateStore(url) as store:
        run_id = store.begin_run("cases", "manual__1")
        store.protect("cases", PiiProtection(frozenset({"customfield_10054"}), PiiCipher([old])))
        store.append_ledger(pd.DataFrame([{"side": "jira", "action": "update", "sf_id": "500A", "jira_key": "S-1",
                                           "field": "customfield_10054", "before": None, "after": "a@b.example"}]),
                            run_id=run_id, mapping="cases")

    env = {**os.environ, "AIRFLOW_CONN_SFJIRA_CRYPTO": json.dumps({"conn_type": "generic",
                                                                   "password": f"{new.decode()} {old.decode()}"})}
    done = subprocess.run([str(SFJIRA), "rotate-pii", "--url", url], capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in env.items() if k != "PYTHONPATH"}, cwd=Path.home())
    assert done.returncode == 0, done.stderr
    assert "re-sealed 1 stored PII value(s)" in done.stdout
    with StateStore(url) as store:
        assert store.ledger(mapping="cases", cipher=PiiCipher([new])).loc[0, "after"] == "a@b.example"
        with pytest.raises(PiiKeyError):
            store.ledger(mapping="cases", cipher=PiiCipher([old]))
