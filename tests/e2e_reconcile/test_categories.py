"""Must-show 1 and 4: with every category seeded behind the connector's back, the reconciliation DAG
reports exactly the seeded rows -- nothing missed, nothing extra -- and its HTML report is one
self-contained file that names the counts and a mismatched value."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pandas as pd
import pytest

from emulators.common.process import EmulatorProcess
from tests.e2e_reconcile.conftest import open_world
from tests.e2e_reconcile.recon import Recon, ReconRun
from tests.e2e_reconcile.seed import MAPPING, Seeded, seed_every_category

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def seeded(airflow_db: None, sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Recon, Seeded, ReconRun]]:
    """One seeded world and one reconciliation of it (auto_heal off), read by every test here."""
    with pytest.MonkeyPatch.context() as monkeypatch, open_world(
            sf_emulator, jira_emulator, tmp_path_factory.mktemp("seeded"), monkeypatch) as world:
        seeded = seed_every_category(world)
        world.clear_calls()
        yield world, seeded, world.reconcile(MAPPING)


def test_report_finds_exactly_the_seeded_rows(seeded: tuple[Recon, Seeded, ReconRun]) -> None:
    world, seed, run = seeded
    assert run.task_states == dict.fromkeys(["extract_salesforce", "extract_jira", "compare", "check_drift_limit",
                                             "heal"], "success")
    assert run.found() == seed.expected
    assert run.counts == {"missing_in_jira": 1, "missing_in_salesforce": 1, "orphan_link": 2, "delete_unapplied": 0,
                          "duplicate": 1, "field_mismatch": 3, "conflict_pending": 1, "identity_refused": 1}
    rows = run.rows.set_index(["category", "field"], drop=False)
    priority = rows.loc[("field_mismatch", "Priority")]
    assert (priority["sf_value"], priority["jira_value"], priority["winner"]) == ("Medium", "Low", "jira")
    subject = rows.loc[("conflict_pending", "Subject")]
    assert (subject["sf_value"], subject["jira_value"]) == ("Subject from Salesforce", "Subject from Jira")
    assert (subject["owner"], subject["winner"]) == ("latest", "jira")
    # Without auto_heal nothing is written; every row still says what auto_heal would do, or why not.
    assert world.writes() == {"salesforce": {}, "jira": {}}
    decided = run.rows.set_index("category")
    assert decided.loc["duplicate", "auto_heal"] == "none"
    assert "never deletes one on its own" in decided.loc["duplicate", "auto_heal_reason"]
    assert decided.loc["missing_in_salesforce", "auto_heal"] == "none"
    assert set(decided.loc["orphan_link", "auto_heal"]) == {"jira_deleted", "salesforce_deleted"}
    # The trend and the run's summary in the state store; the summary in XCom carries no values.
    history = world.store.drift_history(MAPPING)
    mine = history[history["run_id"] == world.store.run_key(MAPPING, run.dag_run.run_id)]
    assert dict(zip(mine["category"], mine["count"], strict=True)) == run.counts
    assert run.summary["drift"]["total"] == 10 and run.status == "success"
    xcom = run.dag_run.get_task_instance("compare").xcom_pull(task_ids="compare")
    assert xcom["summary"]["counts"] == run.counts
    assert "Subject from Jira" not in str(xcom) and "Edited in Salesforce only" not in str(xcom)


def test_html_report_is_one_offline_file_with_counts_and_values(seeded: tuple[Recon, Seeded, ReconRun]) -> None:
    _, seed, run = seeded
    html = run.html.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    # Self-contained and offline: no scripts, no fetched resources, and a policy that forbids any fetch.
    assert "default-src 'none'" in html
    assert not re.search(r"<(script|link|iframe|img|object|embed)\b", html, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "@import" not in html and "url(" not in html
    counts = re.search(r"<table id=counts>(.*?)</table>", html, re.S)
    assert counts is not None
    shown = dict(re.findall(r"<tr><td>(\w+)</td><td class='n \w+'>([\d,]+)</td></tr>", counts.group(1)))
    assert {k: int(v) for k, v in shown.items()} == run.counts
    assert ">10</b>" in counts.group(1)  # the total
    # A mismatched value of each side, HTML-escaped, next to the record and issue.
    assert "Edited in Salesforce only" in html and "Subject from Jira" in html
    assert seed.ids[4] in html and seed.keys[4] in html
    assert len(pd.read_csv(run.folder / "drift.csv")) == 10  # the CSV next to it holds every row


def test_drift_above_the_limit_fails_the_run_after_the_reports_and_heals_nothing(
        seeded: tuple[Recon, Seeded, ReconRun]) -> None:
    world, _, _ = seeded
    world.clear_calls()
    run = world.reconcile(MAPPING, auto_heal=True, limit=3, expect="failed")
    assert run.task_states == {"extract_salesforce": "success", "extract_jira": "success", "compare": "success",
                               "check_drift_limit": "failed", "heal": "upstream_failed"}
    assert run.counts["orphan_link"] == 2 and sum(run.counts.values()) == 10  # the reports were written
    assert run.html.exists() and run.status == "failed"
    assert run.summary["drift_limit"] == {"limit": 3, "total": 10}
    assert world.writes() == {"salesforce": {}, "jira": {}}  # drift that large is not healed blindly
