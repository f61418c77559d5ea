"""Pending intents of killed attempts: which records are looked up first, and when another run's close."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from sfjira.state import StateStore
from sfjira.sync.journal import close_superseded, pending_ids

MAPPING = "case_to_bug"


def _run(store: StateStore, airflow_run_id: str) -> SimpleNamespace:
    """The three things the intent helpers read off a SyncRun: its store, mapping name and run id."""
    return SimpleNamespace(state=store, name=MAPPING, run_id=store.begin_run(MAPPING, airflow_run_id))


def test_pending_records_of_any_run_are_suspects_until_their_intent_closes(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    killed, now = _run(store, "killed"), _run(store, "now")
    store.begin_intent(MAPPING, killed.run_id, "jira", "comment", 0, ["00a1", "00a2"])
    mine = store.begin_intent(MAPPING, now.run_id, "jira", "comment", 0, ["00a3"])
    store.begin_intent(MAPPING, killed.run_id, "salesforce", "update", 0, ["500A"])

    assert pending_ids(now, "jira", "comment") == {"00a1", "00a2", "00a3"}
    assert pending_ids(now, "jira", "update") == set()
    store.complete_intent(mine.intent_id, result={"comments_to_jira": 1})
    assert pending_ids(now, "jira", "comment") == {"00a1", "00a2"}


def test_only_other_runs_intents_of_the_given_ops_and_side_are_superseded(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    killed, now = _run(store, "killed"), _run(store, "now")
    store.begin_intent(MAPPING, killed.run_id, "jira", "comment", 0, ["00a1"])
    store.begin_intent(MAPPING, killed.run_id, "jira", "create", 0, ["500A"])  # creates recover by look-up
    store.begin_intent(MAPPING, killed.run_id, "salesforce", "update", 0, ["500A"])
    store.begin_intent(MAPPING, now.run_id, "jira", "update", 0, ["500B"])  # this run's own: its retry's

    assert close_superseded(now, "jira", ("update", "transition", "delete", "comment")) == 1

    left = store.pending_intents(MAPPING)
    assert sorted(zip(left["side"], left["op"], strict=True)) == [("jira", "create"), ("jira", "update"),
                                                                  ("salesforce", "update")]
    closed = store.intents(MAPPING, status="completed")
    assert list(closed["op"]) == ["comment"] and closed["result"].iloc[0] == {"superseded_by": now.run_id}


def test_a_resumed_chunk_says_its_before_images_may_show_the_written_value(tmp_path: Path) -> None:
    import pandas as pd

    from sfjira.sync.journal import RESUMED, ChunkOutcome, ledger_row, run_chunks

    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    run = _run(store, "retried")
    # The budget check reads the org's usage first; a usage of None skips it (logged).
    run.salesforce = SimpleNamespace(current_usage=lambda: {"used": None, "max": None})
    rows = pd.DataFrame({"sf_id": ["500A"]})

    def write(chunk: pd.DataFrame, resumed: bool) -> ChunkOutcome:
        return ChunkOutcome(ledger=[ledger_row("jira", "update", "500A", "SUP-1", field="summary",
                                               before="held", after="sent", cause="change")])

    store.begin_intent(MAPPING, run.run_id, "jira", "update", 0, ["500A"])  # a killed attempt's, still pending
    run_chunks(run, "jira", "update", rows, 50, write)  # type: ignore[arg-type]
    again = _run(store, "fresh")
    again.salesforce = run.salesforce
    run_chunks(again, "jira", "update", rows, 50, write)  # type: ignore[arg-type]

    ledger = store.ledger(mapping=MAPPING)
    assert list(ledger["reason"].fillna("-")) == [RESUMED, "-"]
    assert list(ledger["before"]) == ["held", "held"]


def test_parts_are_chunked_as_one_table_and_a_retry_meets_the_same_chunks(tmp_path: Path) -> None:
    """A plan table read part by part (frames one after another) is cut as if it were one frame: chunks may
    span parts and their numbers run on, so the retry of a run skips exactly the chunks it completed."""
    import pandas as pd

    from sfjira.sync.journal import ChunkOutcome, run_chunks

    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    run = _run(store, "parts")
    run.salesforce = SimpleNamespace(current_usage=lambda: {"used": None, "max": None})
    ids = [f"500{i:02d}" for i in range(7)]
    parts = [pd.DataFrame({"sf_id": ids[:3]}), pd.DataFrame({"sf_id": []}), pd.DataFrame({"sf_id": ids[3:]})]
    seen: list[list[str]] = []

    def write(chunk: pd.DataFrame, _resumed: bool) -> ChunkOutcome:
        seen.append(list(chunk["sf_id"]))
        return ChunkOutcome(counts={"written": len(chunk)})

    assert run_chunks(run, "jira", "update", iter(parts), 2, write) == {"written": 7}  # type: ignore[arg-type]
    assert seen == [ids[0:2], ids[2:4], ids[4:6], ids[6:7]]
    intents = store.intents(MAPPING, run_id=run.run_id)
    assert list(intents["chunk"]) == [0, 1, 2, 3] and list(intents["record_ids"].iloc[1]) == ids[2:4]
    seen.clear()
    assert run_chunks(run, "jira", "update", iter(parts), 2, write) == {}  # type: ignore[arg-type]
    assert seen == []
