"""`sfjira audit`: filters, the three formats, PII masked unless --reveal, --prune."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from cryptography.fernet import Fernet

from sfjira.cli import main
from sfjira.pii import PiiCipher, PiiProtection
from sfjira.state import StateStore

EMAIL = "ada.lovelace@example.com"


def _seed(url: str, key: bytes) -> None:
    with StateStore(url) as store:
        store.protect("cases", PiiProtection(frozenset({"customfield_10054"}), PiiCipher([key]), "sfjira_crypto"))
        run = store.begin_run("cases", "manual__1")
        store.append_ledger(pd.DataFrame([
            {"side": "jira", "action": "update", "sf_id": "500A", "jira_key": "SUP-1", "field": "customfield_10054",
             "before": EMAIL, "after": "x@example.com", "direction": "sf_to_jira", "cause": "change"},
            {"side": "salesforce", "action": "update", "sf_id": "500B", "jira_key": "SUP-2", "field": "Subject",
             "before": "Printer", "after": "Printer on fire", "direction": "jira_to_sf", "cause": "conflict",
             "reason": "changed on both sides; owner latest -> jira wins"},
        ]), run_id=run, mapping="cases")


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    key = Fernet.generate_key()
    monkeypatch.setenv("AIRFLOW_CONN_SFJIRA_CRYPTO", json.dumps({"conn_type": "generic", "password": key.decode()}))
    url = f"sqlite:///{tmp_path / 'state.db'}"
    _seed(url, key)
    return url


def test_table_masks_pii_and_names_the_conflict_winner(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--url", url, "--mapping", "cases"]) == 0
    out = capsys.readouterr().out
    assert EMAIL not in out and "*** (PII)" in out
    assert "Printer on fire" in out and "owner latest -> jira wins" in out


def test_json_and_csv_filtered_by_record_run_and_field(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--url", url, "--record", "SUP-2", "--run", "manual__1", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["field"], r["before"], r["after"], r["winner"], r["cause"]) for r in rows] == [
        ("Subject", "Printer", "Printer on fire", "jira", "conflict")]
    assert main(["audit", "--url", url, "--field", "customfield_10054", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("seq,at,mapping,run_id,airflow_run_id")


def test_reveal_opens_pii_with_the_key(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--url", url, "--field", "customfield_10054", "--reveal"]) == 0
    assert EMAIL in capsys.readouterr().out


def test_since_until_and_no_match(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--url", url, "--since", "2999-01-01"]) == 0
    assert "no ledger rows match" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["audit", "--url", url, "--since", "yesterday"])


def test_prune_keeps_recent_rows_and_days_zero_keeps_all(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--url", url, "--prune", "--days", "0"]) == 0
    assert "removed 0" in capsys.readouterr().out
    assert main(["audit", "--url", url, "--prune"]) == 0  # default 400 days: nothing is that old
    assert "removed 0" in capsys.readouterr().out
    with StateStore(url) as store:
        assert len(store.ledger(mapping="cases")) == 2
