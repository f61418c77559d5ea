"""Write-ahead intents: pending before a chunk is written, completed atomically with its results."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from sfjira.exceptions import StateStoreError
from sfjira.state import StateStore

from .conftest import Backend

REPO = Path(__file__).resolve().parents[3]
CHUNK = ["500A", "500B"]


def _results() -> dict[str, pd.DataFrame]:
    return {
        "links": pd.DataFrame({"sf_id": CHUNK, "jira_key": ["SUP-1", "SUP-2"], "jira_id": ["101", "102"]}),
        "state": pd.DataFrame({"sf_id": CHUNK, "direction": "sf_to_jira", "hash": ["h1", "h2"]}),
        "ledger": pd.DataFrame({"side": "jira", "action": "create", "sf_id": CHUNK, "jira_key": ["SUP-1", "SUP-2"],
                                "after": [{"key": "SUP-1"}, {"key": "SUP-2"}]}),
    }


def _nothing_saved(store: StateStore, run_id: str) -> None:
    assert store.links("accounts").empty
    assert store.synced_state("accounts").empty
    assert store.ledger(run_id=run_id).empty


def test_pending_then_completed_with_all_results(store: StateStore, run_id: str) -> None:
    intent = store.begin_intent("accounts", run_id, "jira", "create", 0, CHUNK)
    assert (intent.status, intent.resumed, intent.record_ids) == ("pending", False, CHUNK)
    pending = store.pending_intents("accounts", "jira")
    assert pending[["intent_id", "run_id", "op", "chunk"]].values.tolist() == [[intent.intent_id, run_id, "create", 0]]
    assert pending.loc[0, "record_ids"] == CHUNK

    rejected = pd.DataFrame({"side": ["jira"], "record_id": ["500C"], "code": ["INVALID_FIELD"]})
    done = store.complete_intent(intent.intent_id, rejects=rejected, result={"created": 2, "api_calls": 1},
                                 **_results())
    assert done.status == "completed"
    assert store.pending_intents("accounts", "jira").empty
    assert sorted(store.links("accounts")["jira_key"]) == ["SUP-1", "SUP-2"]
    assert len(store.synced_state("accounts")) == 2
    assert list(store.ledger(run_id=run_id)["action"]) == ["create", "create"]
    assert list(store.rejects("accounts")["record_id"]) == ["500C"]
    closed = store.intents("accounts", run_id=run_id)
    assert closed.loc[0, "result"] == {"created": 2, "api_calls": 1} and pd.notna(closed.loc[0, "completed_at"])


def test_a_failure_inside_the_transaction_keeps_the_intent_pending_and_saves_nothing(store: StateStore,
                                                                                      run_id: str) -> None:
    intent = store.begin_intent("accounts", run_id, "jira", "create", 0, CHUNK)
    bad_ledger = _results()["ledger"].assign(run_id="accounts/never-begun")  # fails after links were written
    with pytest.raises(StateStoreError, match="STATE_RUN_UNKNOWN"):
        store.complete_intent(intent.intent_id, **{**_results(), "ledger": bad_ledger})
    unserialisable = _results()["state"].assign(field_hashes=[{"x": object()}, None])  # fails mid-statement
    with pytest.raises(StateStoreError, match="STATE_INPUT_INVALID"):
        store.complete_intent(intent.intent_id, **{**_results(), "state": unserialisable})
    _nothing_saved(store, run_id)
    assert list(store.pending_intents("accounts")["intent_id"]) == [intent.intent_id]
    store.complete_intent(intent.intent_id, **_results())  # the retry goes through
    assert len(store.links("accounts")) == 2


def test_link_conflict_inside_complete_rolls_back_everything(store: StateStore, run_id: str) -> None:
    store.upsert_links("accounts", pd.DataFrame({"sf_id": ["500Z"], "jira_key": ["SUP-2"]}), run_id)
    intent = store.begin_intent("accounts", run_id, "jira", "create", 0, CHUNK)
    with pytest.raises(StateStoreError, match="STATE_LINK_CONFLICT"):
        store.complete_intent(intent.intent_id, **_results())
    assert list(store.links("accounts")["sf_id"]) == ["500Z"]
    assert store.ledger(run_id=run_id).empty
    assert len(store.pending_intents("accounts")) == 1


def test_a_chunk_is_completed_once(store: StateStore, run_id: str) -> None:
    intent = store.begin_intent("accounts", run_id, "jira", "create", 0, CHUNK)
    store.complete_intent(intent.intent_id, **_results())
    with pytest.raises(StateStoreError) as err:
        store.complete_intent(intent.intent_id, **_results())
    assert err.value.code == "STATE_INTENT_NOT_PENDING"
    assert len(store.ledger(run_id=run_id)) == 2  # the refused second call added nothing
    with pytest.raises(StateStoreError, match="STATE_INTENT_UNKNOWN"):
        store.complete_intent(999_999)


def test_retry_of_the_run_resumes_its_intents(store: StateStore, run_id: str) -> None:
    first = store.begin_intent("accounts", run_id, "jira", "create", 0, CHUNK)
    store.complete_intent(first.intent_id, **_results())
    second = store.begin_intent("accounts", run_id, "jira", "create", 1, ["500C", "500D"])
    # the task dies here; Airflow retries it: the same run re-begins and walks its chunks again
    assert store.begin_run("accounts", "manual__2024-05-01T00:00:00+00:00") == run_id
    again0 = store.begin_intent("accounts", run_id, "jira", "create", 0, CHUNK)
    assert (again0.intent_id, again0.status, again0.resumed) == (first.intent_id, "completed", True)
    again1 = store.begin_intent("accounts", run_id, "jira", "create", 1, ["500D", "500E"])
    assert (again1.intent_id, again1.status, again1.resumed) == (second.intent_id, "pending", True)
    assert again1.record_ids == ["500C", "500D", "500E"]  # every id either attempt may have written
    pending = store.pending_intents("accounts", "jira", run_id=run_id)
    assert pending["intent_id"].tolist() == [second.intent_id]


def test_pending_intents_of_an_earlier_failed_run_are_visible_to_the_next(store: StateStore, run_id: str) -> None:
    stuck = store.begin_intent("accounts", run_id, "salesforce", "upsert", 0, ["SUP-7"])
    store.finish_run(run_id, "failed")
    store.begin_run("accounts", "scheduled__next")
    assert store.pending_intents("accounts", "salesforce")["intent_id"].tolist() == [stuck.intent_id]
    assert store.pending_intents("accounts", "jira").empty
    assert store.abandon_intent(stuck.intent_id, reason="look-up found nothing written").status == "abandoned"
    assert store.pending_intents("accounts").empty


def test_intent_input_is_validated(store: StateStore, run_id: str) -> None:
    with pytest.raises(StateStoreError, match="allowed intent op values"):
        store.begin_intent("accounts", run_id, "jira", "merge", 0, CHUNK)
    with pytest.raises(StateStoreError, match="record ids"):
        store.begin_intent("accounts", run_id, "jira", "create", 0, [])
    with pytest.raises(StateStoreError, match="STATE_RUN_UNKNOWN"):
        store.begin_intent("accounts", "accounts/never-begun", "jira", "create", 0, CHUNK)


_DIE_MID_TRANSACTION = textwrap.dedent("""
    import os, sys
    import pandas as pd
    from sfjira.state import StateStore

    class DieWhenSerialised:
        # The JSON encoder calls .item() on numpy-like values: the process is killed while the
        # transaction holding the chunk's links is open, as a worker killed by the OOM killer would be.
        def item(self):
            os._exit(9)

    url, schema, run_id, intent_id = sys.argv[1], sys.argv[2] or None, sys.argv[3], int(sys.argv[4])
    store = StateStore(url, schema=schema)
    links = pd.DataFrame({"sf_id": ["500A", "500B"], "jira_key": ["SUP-1", "SUP-2"]})
    ledger = pd.DataFrame({"side": ["jira"], "action": ["create"], "sf_id": ["500A"], "after": [DieWhenSerialised()]})
    store.complete_intent(intent_id, links=links, ledger=ledger)
    print("not reached")
""")


def test_a_process_killed_inside_complete_leaves_the_intent_pending(backend: Backend, store: StateStore,
                                                                    run_id: str) -> None:
    intent = store.begin_intent("accounts", run_id, "jira", "create", 0, CHUNK)
    proc = subprocess.run([sys.executable, "-c", _DIE_MID_TRANSACTION, backend.url, backend.schema or "", run_id,
                           str(intent.intent_id)], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"})
    assert proc.returncode == 9, proc.stderr
    _nothing_saved(store, run_id)
    assert store.pending_intents("accounts")["intent_id"].tolist() == [intent.intent_id]
    store.complete_intent(intent.intent_id, **_results())  # the store is not locked or damaged
    assert len(store.links("accounts")) == 2


def test_a_pending_intent_keeps_a_note_its_retry_reads_back_and_closing_replaces(store: StateStore,
                                                                                 run_id: str) -> None:
    intent = store.begin_intent("accounts", run_id, "salesforce", "update", 0, CHUNK)
    assert intent.result is None
    noted = store.note_intent(intent.intent_id, {"bulk_job": "750x0000000001"})
    assert (noted.status, noted.result) == ("pending", {"bulk_job": "750x0000000001"})
    again = store.begin_intent("accounts", run_id, "salesforce", "update", 0, CHUNK)
    assert again.resumed and again.result == {"bulk_job": "750x0000000001"}
    assert store.pending_intents("accounts", "salesforce").loc[0, "result"] == {"bulk_job": "750x0000000001"}
    store.complete_intent(intent.intent_id, result={"sf_updated": 2})
    with pytest.raises(StateStoreError) as closed:
        store.note_intent(intent.intent_id, {"bulk_job": "750x0000000002"})
    assert closed.value.code == "STATE_INTENT_NOT_PENDING"
    assert store.intents("accounts").loc[0, "result"] == {"sf_updated": 2}
