"""Chunks of a load in flight at once: real Jira hooks against the emulator, a real SQLite state store.

Each chunk's writer makes one Jira search, as a load's chunk makes its calls; the emulator counts how many
calls it answered at once (`max_in_flight`) and refuses calls on demand (429)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from emulators.common.process import EmulatorProcess
from sfjira.emulator_env import jira_connection, salesforce_connection, sqlite_state
from sfjira.exceptions import SfJiraError
from sfjira.sync.journal import ChunkOutcome, ledger_row, run_chunks
from sfjira.sync.lanes import Lanes, load_concurrency
from sfjira.sync.run import SyncRun, Window

MAPPING = Path(__file__).resolve().parents[3] / "include" / "mappings" / "opportunity_to_epic.yaml"
NOW = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
SEARCH = "GET /rest/api/3/search/jql"


@pytest.fixture
def apis(sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorProcess]:
    monkeypatch.setenv("AIRFLOW_CONN_SF_LANES", json.dumps(salesforce_connection(sf_emulator.url,
                                                                                 sf_emulator.ca_bundle)))
    monkeypatch.setenv("AIRFLOW_CONN_JIRA_LANES", json.dumps(jira_connection(jira_emulator.url,
                                                                             jira_emulator.ca_bundle)))
    monkeypatch.setenv("AIRFLOW_CONN_LANES_STATE", json.dumps(sqlite_state(str(tmp_path / "state.db"))))
    jira_emulator.clear_calls()
    yield jira_emulator
    jira_emulator.set_latency(0)
    jira_emulator.set_faults([])
    jira_emulator.configure(fault_retry_after_s=1)


def _run(airflow_run_id: str) -> SyncRun:
    return SyncRun(mapping_file=str(MAPPING), dag_id="lanes", airflow_run_id=airflow_run_id, window=Window(NOW, NOW),
                   salesforce_conn_id="sf_lanes", jira_conn_id="jira_lanes", state_conn_id="lanes_state")


def _writer(run: SyncRun, fail_on: str | None = None):  # noqa: ANN202
    def write(chunk: pd.DataFrame, resumed: bool) -> ChunkOutcome:
        found = run.jira.find_by_sfids(chunk["sf_id"], "customfield_10050", "DEL")  # one search per chunk
        if fail_on in set(chunk["sf_id"]):
            raise RuntimeError(f"chunk with {fail_on} failed")
        return ChunkOutcome(ledger=[ledger_row("jira", "update", i, f"DEL-{i[-2:]}", field="summary", after=i,
                                               cause="change") for i in chunk["sf_id"]],
                            counts={"written": len(chunk), "found": len(found), "resumed": int(resumed)})
    return write


ROWS = pd.DataFrame({"sf_id": [f"006L{n:02d}" for n in range(16)]})


def _journal(run: SyncRun) -> tuple[list[tuple[int, str, list[str]]], list[tuple[str, str]]]:
    intents = run.state.intents(run.name, run_id=run.run_id)
    ledger = run.state.ledger(run_id=run.run_id)
    return ([(int(i.chunk), str(i.status), list(i.record_ids)) for i in intents.itertuples()],
            list(zip(ledger["sf_id"], ledger["after"], strict=True)))


def test_chunks_overlap_up_to_the_setting_with_the_journal_of_a_sequential_load(
        apis: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    apis.set_latency(400)  # long enough that four calls are surely sent before the first is answered
    seen = {}
    for width in ("1", "4"):
        monkeypatch.setenv("AIRFLOW__SFJIRA__LOAD_CONCURRENCY", width)
        apis.clear_calls()
        run = _run(f"width-{width}")
        totals = run_chunks(run, "jira", "update", ROWS, 2, _writer(run))
        seen[width] = (totals, _journal(run), apis.calls()["max_in_flight"])
        run.state.close()
    (totals_1, journal_1, most_1), (totals_4, journal_4, most_4) = seen["1"], seen["4"]
    assert (most_1, most_4) == (1, 4)
    assert totals_4 == totals_1 == {"written": 16, "found": 0, "resumed": 0}
    assert journal_4 == journal_1, "same intents (chunk order, records, completed) and ledger rows, in order"
    assert [status for _, status, _ in journal_4[0]] == ["completed"] * 8


def test_a_failed_chunk_stays_pending_and_the_retry_writes_each_chunk_once(
        apis: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SFJIRA__LOAD_CONCURRENCY", "4")
    apis.set_latency(200)
    run = _run("killed")
    with pytest.raises(RuntimeError, match="006L05"):
        run_chunks(run, "jira", "update", ROWS, 2, _writer(run, fail_on="006L05"))
    intents, _ = _journal(run)
    status = {chunk: state for chunk, state, _ in intents}
    assert status[2] == "pending", "the failed chunk is left for its retry to look up"
    assert status[0] == status[1] == "completed"
    assert len(status) < 8, "no chunk is begun after the failure is seen"
    # The chunks in flight beside the failed one finished and were saved: the retry skips them.
    begun_after = [chunk for chunk in status if chunk > 2]
    assert begun_after and all(status[c] == "completed" for c in begun_after)

    retry = _run("killed")  # the task's retry: same run, same chunks
    totals = run_chunks(retry, "jira", "update", ROWS, 2, _writer(retry))
    assert totals["resumed"] == 1 and totals["written"] == 16 - 2 * len(begun_after) - 4
    intents, ledger = _journal(retry)
    assert [state for _, state, _ in intents] == ["completed"] * 8
    assert sorted(i for i, _ in ledger) == list(ROWS["sf_id"]), "every record in the ledger exactly once"
    retry.state.close()


def test_a_429_storm_narrows_the_load_to_one_chunk_at_a_time_until_it_is_calm(apis: EmulatorProcess,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SFJIRA__LOAD_CONCURRENCY", "4")
    apis.configure(fault_retry_after_s=0)
    run = _run("storm")
    lanes = Lanes.for_load(run.jira, "jira update")
    search = _writer(run)
    chunk = ROWS.head(1)

    def completes(times: int) -> None:
        for _ in range(times):
            search(chunk, False)
            lanes.completed += 1

    assert lanes.allowed() == 1, "the first chunk goes alone"
    completes(1)
    assert lanes.allowed() == 4
    apis.set_faults([{"fault": "429", "path": "/search/jql", "times": 3}])
    completes(1)  # refused three times, answered on the fourth attempt
    assert run.jira.rate_limits["retries"] == {"HTTP 429": 3}
    assert lanes.allowed() == 1
    completes(3)
    assert lanes.allowed() == 1, "still narrow: four calm chunks are needed"
    completes(1)
    assert lanes.allowed() == 4
    assert apis.calls()["faults_fired"] == {"429": 3}, "no refusal beyond the injected ones"
    lanes.close()
    run.state.close()


def test_near_the_rate_limit_one_chunk_at_a_time(apis: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SFJIRA__LOAD_CONCURRENCY", "4")
    run = _run("near")
    lanes = Lanes.for_load(run.jira, "jira update")
    lanes.completed = 1
    search = _writer(run)
    apis.configure(rate_limit={"budget": 10, "window_s": 60})
    try:
        search(ROWS.head(1), False)  # 9 of 10 left
        assert lanes.allowed() == 4
        for _ in range(8):
            search(ROWS.head(1), False)  # 1 of 10 left: under 20 %
        assert run.jira.rate_limit == {"limit": 10, "remaining": 1}
        assert lanes.allowed() == 1
        assert lanes.allowed() == 4, "no fresh headers since: the last reading is not a reason to stay narrow"
    finally:
        apis.configure(rate_limit=None)
        lanes.close()
        run.state.close()


@pytest.mark.parametrize("value", ["0", "17", "four", "2.5"])
def test_load_concurrency_names_the_allowed_values(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SFJIRA__LOAD_CONCURRENCY", value)
    with pytest.raises(SfJiraError, match="whole number from 1 to 16") as err:
        load_concurrency()
    assert err.value.code == "SETTING_INVALID"
