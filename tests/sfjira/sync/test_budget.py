"""The Salesforce API budget against the emulator's daily usage: a real hook, a real `Sforce-Limit-Info`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from emulators.common.process import EmulatorProcess
from sfjira.emulator_env import salesforce_connection, sqlite_state
from sfjira.exceptions import SfJiraError, is_transient
from sfjira.sync import budget
from sfjira.sync.journal import ChunkOutcome, run_chunks
from sfjira.sync.run import SyncRun, Window

SHIPPED_MAPPINGS = Path(__file__).resolve().parents[3] / "include" / "mappings"
LIMITS = "GET /services/data/v62.0/limits"
NOW = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)


@pytest.fixture
def org(sf_emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorProcess]:
    monkeypatch.setenv("AIRFLOW_CONN_SF_BUDGET", json.dumps(salesforce_connection(sf_emulator.url,
                                                                                  sf_emulator.ca_bundle)))
    sf_emulator.configure(api_daily_max=1000)
    yield sf_emulator
    sf_emulator.admin("PUT", "usage", {"used": 0})
    sf_emulator.configure(api_daily_max=100_000)


def _run(mapping_file: str = "unused.yaml") -> SyncRun:
    return SyncRun(mapping_file=mapping_file, dag_id="budget", airflow_run_id="r1", window=Window(NOW, NOW),
                   salesforce_conn_id="sf_budget", state_conn_id="budget_state")


def test_a_load_stops_between_chunks_and_keeps_what_it_wrote(org: EmulatorProcess, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("AIRFLOW_CONN_BUDGET_STATE", json.dumps(sqlite_state(str(tmp_path / "state.db"))))
    run = _run(str(SHIPPED_MAPPINGS / "opportunity_to_epic.yaml"))
    written: list[list[str]] = []

    def write(chunk: pd.DataFrame, resumed: bool) -> ChunkOutcome:
        run.salesforce.describe("Opportunity")  # one API call per chunk, like a collection write
        written.append(list(chunk["sf_id"]))
        return ChunkOutcome(counts={"updated": len(chunk)})

    # The check before chunk 0 asks /limits (899 of 1000); chunk 0's call brings the org to 900: 90 %.
    org.admin("PUT", "usage", {"used": 898})
    rows = pd.DataFrame({"sf_id": ["006A", "006B", "006C"]})
    with pytest.raises(budget.ApiBudgetExhausted) as err:
        run_chunks(run, "salesforce", "update", rows, 1, write)
    assert "stopped before salesforce update chunk 1" in str(err.value)
    assert written == [["006A"]]
    intents = run.state.intents(run.name)
    assert list(zip(intents["chunk"], intents["status"], strict=True)) == [(0, "completed")], \
        "the chunk written is recorded; the stopped one never began"
    run.state.close()


def test_under_the_share_passes_and_asks_limits_once(org: EmulatorProcess) -> None:
    org.admin("PUT", "usage", {"used": 500})
    run = _run()
    assert budget.check_salesforce(run, "jira create chunk 0") == {"used": 501, "max": 1000}
    budget.check_salesforce(run, "jira create chunk 0")  # from the last answer: no second call
    assert run.salesforce.calls[LIMITS] == 1
    figures = budget.figures(run)
    assert figures["api_usage"] == {"used": 501, "max": 1000}
    # The one /limits call (plus the token's), timed for the report's latency.
    assert set(figures) == {"api_usage", "latency"} and figures["latency"]["salesforce"][LIMITS]["calls"] == 1


def test_at_the_share_stops_terminal_with_the_fix(org: EmulatorProcess) -> None:
    org.admin("PUT", "usage", {"used": 899})  # the /limits call itself makes it 900 of 1000: 90 %
    with pytest.raises(budget.ApiBudgetExhausted) as err:
        budget.check_salesforce(_run(), "jira create chunk 0")
    text = str(err.value)
    assert text.startswith("[SF_API_BUDGET_EXHAUSTED] Salesforce API budget spent: the org has used 900 of its "
                           "1000 daily API requests (90.0%)")
    assert "stopped before jira create chunk 0" in text and "salesforce_api_budget_share" in text
    assert "fix: wait until" in text and "buy more" in text
    assert not is_transient(err.value)


def test_the_share_is_a_setting(org: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    org.admin("PUT", "usage", {"used": 899})
    monkeypatch.setenv("AIRFLOW__SFJIRA__SALESFORCE_API_BUDGET_SHARE", "0.95")
    budget.check_salesforce(_run(), "jira create chunk 0")
    for wrong in ("0", "1.5", "ninety"):
        monkeypatch.setenv("AIRFLOW__SFJIRA__SALESFORCE_API_BUDGET_SHARE", wrong)
        with pytest.raises(SfJiraError) as err:
            budget.budget_share()
        assert err.value.code == "SETTING_INVALID"


def test_usage_summary_takes_the_highest_usage_and_sums_jira_waits() -> None:
    results = {
        "extract_salesforce": {"api_usage": {"used": 10, "max": 1000}},
        "extract_jira": {"rate_limits": {"retries": {"HTTP 429": 1}, "waited_s": 2.0, "paced": 0, "paced_s": 0.0,
                                         "limit": 100, "remaining": 40}},
        "load_jira": {"api_usage": {"used": 12, "max": 1000},
                      "rate_limits": {"retries": {"HTTP 429": 2, "HTTP 503": 1}, "waited_s": 3.5, "paced": 1,
                                      "paced_s": 1.25, "limit": 100, "remaining": 0}},
        "load_salesforce": {"api_usage": {"used": 15, "max": 1000}},
    }
    usage = budget.usage_summary(results)
    assert usage["salesforce"] == {"used": 15, "max": 1000, "share": 0.015, "budget_share": 0.9}
    assert usage["jira"] == {"retries": {"HTTP 429": 3, "HTTP 503": 1}, "waited_s": 5.5, "paced": 1,
                             "paced_s": 1.25, "limit": 100, "remaining": 0}
    assert budget.format_usage(usage) == ("Salesforce API usage 15/1000 (1.5%, budget 90%); Jira 429s 3, "
                                          "waited 5.5 s (paced 1.2 s)")
    assert budget.usage_summary({})["salesforce"]["used"] is None


def test_latency_summary_sums_the_steps_per_endpoint_and_gives_the_mean() -> None:
    endpoint = "GET /services/data/v62.0/query"
    results = {
        "extract_salesforce": {"latency": {"salesforce": {endpoint: {"calls": 3, "seconds": 0.6}}}},
        "load_salesforce": {"latency": {"salesforce": {endpoint: {"calls": 1, "seconds": 0.2}},
                                        "jira": {"GET /rest/api/3/search/jql": {"calls": 2, "seconds": 0.1}}}},
    }
    assert budget.latency_summary(results) == {
        "salesforce": {endpoint: {"calls": 4, "seconds": 0.8, "mean_ms": 200.0}},
        "jira": {"GET /rest/api/3/search/jql": {"calls": 2, "seconds": 0.1, "mean_ms": 50.0}},
    }
    assert budget.latency_summary({}) == {}
