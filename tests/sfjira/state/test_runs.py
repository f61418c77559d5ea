"""Runs and watermarks."""

from __future__ import annotations

import datetime as dt

import pytest

from sfjira.exceptions import StateStoreError
from sfjira.state import StateStore, run_key

UTC = dt.UTC
START, END = dt.datetime(2024, 5, 1, tzinfo=UTC), dt.datetime(2024, 5, 1, 1, tzinfo=UTC)


def test_begin_finish_and_list(store: StateStore) -> None:
    run_id = store.begin_run("accounts", "scheduled__2024-05-01T00:00:00+00:00", window_start=START,
                             window_end=END, dry_run=True)
    assert run_id == run_key("accounts", "scheduled__2024-05-01T00:00:00+00:00")
    assert run_id == "accounts/scheduled__2024-05-01T00:00:00+00:00"
    store.update_run_summary(run_id, {"jira": {"created": 3, "api_calls": {"POST /issue/bulk": 1}}})
    store.update_run_summary(run_id, {"jira": {"api_calls": {"GET /search/jql": 2}}, "salesforce": {"updated": 1}})
    store.finish_run(run_id, "partial", summary={"rejects": 1})
    run = store.get_run(run_id)
    assert run["status"] == "partial" and run["dry_run"] is True and run["kind"] == "sync"
    assert run["window_start"] == START and run["window_end"] == END
    assert run["finished_at"] >= run["started_at"]
    assert run["summary"] == {"jira": {"created": 3, "api_calls": {"POST /issue/bulk": 1, "GET /search/jql": 2}},
                              "salesforce": {"updated": 1}, "rejects": 1}
    store.update_run_summary(run_id, {"auth": {"access_token": "00Dxx!secret"}})  # a careless caller
    assert store.get_run(run_id)["summary"]["auth"] == {"access_token": "***"}
    listed = store.runs("accounts")
    assert listed["run_id"].tolist() == [run_id]
    assert str(listed["window_start"].dtype) == "datetime64[us, UTC]"


def test_a_retried_task_reopens_the_same_run(store: StateStore) -> None:
    run_id = store.begin_run("accounts", "manual__1", window_start=START, window_end=END)
    store.update_run_summary(run_id, {"extracted": 10})
    store.finish_run(run_id, "failed")
    assert store.begin_run("accounts", "manual__1") == run_id
    run = store.get_run(run_id)
    assert (run["status"], run["attempts"], run["finished_at"]) == ("running", 2, None)
    assert run["window_start"] == START and run["summary"] == {"extracted": 10}
    assert len(store.runs("accounts")) == 1


def test_runs_are_listed_newest_first_per_mapping(store: StateStore) -> None:
    ids = [store.begin_run("accounts", f"manual__{i}") for i in range(3)]
    store.begin_run("cases", "manual__0")
    store.finish_run(ids[0], "success")
    assert store.runs("accounts")["run_id"].tolist() == ids[::-1]
    assert store.runs("accounts", limit=1)["run_id"].tolist() == [ids[2]]
    assert store.runs("accounts", status="success")["run_id"].tolist() == [ids[0]]
    assert store.get_run("accounts/nope") is None


def test_run_input_is_validated(store: StateStore) -> None:
    run_id = store.begin_run("accounts", "manual__1")
    with pytest.raises(StateStoreError, match="allowed run status values: success, partial, failed"):
        store.finish_run(run_id, "done")
    with pytest.raises(StateStoreError, match="STATE_RUN_UNKNOWN"):
        store.finish_run("accounts/never", "success")
    with pytest.raises(StateStoreError, match="allowed run kind values"):
        store.begin_run("accounts", "manual__2", kind="nightly")
    with pytest.raises(StateStoreError, match="mapping name and an Airflow run id"):
        store.begin_run("", "manual__3")


def test_watermarks_move_forward_only_unless_asked(store: StateStore) -> None:
    assert store.get_watermark("accounts", "salesforce") is None
    run_id = store.begin_run("accounts", "manual__1")
    assert store.set_watermark("accounts", "salesforce", END, run_id=run_id) == END
    # a backfill of an older window finishes later: the mark stays
    assert store.set_watermark("accounts", "salesforce", START) == END
    # naive datetimes are UTC, other zones are converted
    later = dt.datetime(2024, 5, 1, 4, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert store.set_watermark("accounts", "salesforce", later) == dt.datetime(2024, 5, 1, 2, 30, tzinfo=UTC)
    assert store.set_watermark("accounts", "salesforce", START, allow_backwards=True) == START
    store.set_watermark("accounts", "jira", dt.datetime(2024, 5, 1, 0, 59))
    assert store.watermarks("accounts") == {"salesforce": START, "jira": dt.datetime(2024, 5, 1, 0, 59, tzinfo=UTC)}
    assert store.watermarks("cases") == {}
    with pytest.raises(StateStoreError, match="allowed side values: salesforce, jira"):
        store.get_watermark("accounts", "sf")
