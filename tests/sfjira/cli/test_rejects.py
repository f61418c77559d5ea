"""`sfjira rejects | replay` through the installed console script."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sfjira.state import StateStore
from tests.sfjira.cli.test_state import _cli

REFUSED = {"side": "jira", "record_id": "006B", "code": "400", "field": "customfield_10055",
           "message": "Option value 'Won' is not valid", "fix": "map it"}


def _seed(url: str) -> None:
    with StateStore(url) as store:
        run_id = store.begin_run("opps", "manual__1")
        store.upsert_rejects(pd.DataFrame([
            {"side": "salesforce", "record_id": "006A", "code": "VALUE_UNMAPPED", "field": "StageName",
             "message": "Salesforce StageName has no entry in the value map", "fix": "add it to value_map"},
            REFUSED]), run_id=run_id, mapping="opps")
        store.upsert_rejects(pd.DataFrame([REFUSED]), run_id=run_id, mapping="opps")
        store.resolve_rejects("opps", "salesforce", ["006A"])


def test_rejects_lists_open_ones_in_each_format(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    _seed(url)
    table = _cli("rejects", "--mapping", "opps", "--url", url)
    assert table.returncode == 0, table.stderr
    assert "006B" in table.stdout and "006A" not in table.stdout and "Option value 'Won'" in table.stdout

    rows = json.loads(_cli("rejects", "--mapping", "opps", "--url", url, "--format", "json").stdout)
    assert [(r["record_id"], r["code"], r["field"], r["attempts"]) for r in rows] == [
        ("006B", "400", "customfield_10055", 2)]
    assert set(rows[0]) == {"side", "record_id", "code", "field", "message", "fix", "attempts", "first_seen",
                            "last_seen"}

    every = _cli("rejects", "--mapping", "opps", "--url", url, "--all", "--format", "csv").stdout.splitlines()
    assert every[0].endswith(",resolved,resolved_at") and len(every) == 3
    assert _cli("rejects", "--mapping", "none", "--url", url).stdout.strip() == "no open rejects for none"


def test_replay_prints_the_airflow_trigger() -> None:
    done = _cli("replay", "--mapping", "opps", "--print-only")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("""airflow dags trigger sfjira_sync__opps --conf '{"replay_rejects": true}'""")
