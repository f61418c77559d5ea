"""Dead letters: one row per (mapping, side, record, code), attempts counted, secrets scrubbed."""

from __future__ import annotations

import pandas as pd
import pytest

from sfjira import error_catalog
from sfjira.exceptions import StateStoreError
from sfjira.state import StateStore


def _reject(record_id: str = "500A", code: str = "FIELD_CUSTOM_VALIDATION_EXCEPTION", **extra: object) -> dict:
    return {"side": "salesforce", "record_id": record_id, "code": code, "field": "Amount",
            "message": "Amount must be positive", "fix": "correct Amount on the Jira issue", **extra}


def test_repeated_failures_count_attempts_instead_of_duplicating(store: StateStore, run_id: str) -> None:
    store.upsert_rejects(pd.DataFrame([_reject(), _reject("500B")]), run_id=run_id, mapping="accounts")
    later = store.begin_run("accounts", "scheduled__2")
    store.upsert_rejects(pd.DataFrame([_reject(message="Amount must be > 0")]), run_id=later, mapping="accounts")
    store.upsert_rejects(pd.DataFrame([_reject()]), run_id=later, mapping="accounts")
    got = store.rejects("accounts").set_index("record_id")
    assert len(got) == 2
    assert got.loc["500A", "attempts"] == 3 and got.loc["500B", "attempts"] == 1
    assert got.loc["500A", "first_run"] == run_id and got.loc["500A", "last_run"] == later
    assert got.loc["500A", "last_seen"] > got.loc["500A", "first_seen"]
    assert got.loc["500A", "message"] == "Amount must be positive"  # the latest text


def test_repeats_within_one_frame_are_folded(store: StateStore, run_id: str) -> None:
    frame = pd.DataFrame([_reject(message="first"), _reject(message="second")])
    assert store.upsert_rejects(frame, run_id=run_id, mapping="accounts") == 1
    got = store.rejects("accounts")
    assert got[["attempts", "message"]].values.tolist() == [[2, "second"]]


def test_a_different_code_is_a_different_reject(store: StateStore, run_id: str) -> None:
    store.upsert_rejects(pd.DataFrame([_reject(), _reject(code="REQUIRED_FIELD_MISSING")]), run_id=run_id,
                         mapping="accounts")
    assert sorted(store.rejects("accounts")["code"]) == ["FIELD_CUSTOM_VALIDATION_EXCEPTION", "REQUIRED_FIELD_MISSING"]


def test_resolve_and_reopen(store: StateStore, run_id: str) -> None:
    store.upsert_rejects(pd.DataFrame([_reject(), _reject("500B")]), run_id=run_id, mapping="accounts")
    assert store.resolve_rejects("accounts", "salesforce", ["500A"]) == 1
    assert list(store.rejects("accounts")["record_id"]) == ["500B"]
    resolved = store.rejects("accounts", include_resolved=True).set_index("record_id")
    assert bool(resolved.loc["500A", "resolved"]) and pd.notna(resolved.loc["500A", "resolved_at"])
    store.upsert_rejects(pd.DataFrame([_reject()]), run_id=run_id, mapping="accounts")  # fails again
    reopened = store.rejects("accounts").set_index("record_id")
    assert not bool(reopened.loc["500A", "resolved"]) and reopened.loc["500A", "attempts"] == 2


def test_payload_is_kept_without_secrets(store: StateStore, run_id: str) -> None:
    payload = {"Amount": -5, "headers": {"Authorization": "Bearer abc"}, "auth": [{"client_secret": "s3"}],
               "password": "hunter2", "Name": "Acme"}
    store.upsert_rejects(pd.DataFrame([_reject(payload=payload)]), run_id=run_id, mapping="accounts")
    stored = store.rejects("accounts").loc[0, "payload"]
    assert stored == {"Amount": -5, "headers": {"Authorization": "***"}, "auth": [{"client_secret": "***"}],
                      "password": "***", "Name": "Acme"}
    assert "hunter2" not in str(stored) and "Bearer" not in str(stored)


def test_side_filter_and_validation(store: StateStore, run_id: str) -> None:
    frame = pd.DataFrame([_reject(), {**_reject("SUP-4"), "side": "jira"}])
    store.upsert_rejects(frame, run_id=run_id, mapping="accounts")
    assert list(store.rejects("accounts", side="jira")["record_id"]) == ["SUP-4"]
    with pytest.raises(StateStoreError, match="allowed side values: salesforce, jira"):
        store.upsert_rejects(pd.DataFrame([{**_reject(), "side": "both"}]), run_id=run_id, mapping="accounts")
    with pytest.raises(StateStoreError, match="missing column"):
        store.upsert_rejects(pd.DataFrame([{"side": "jira", "record_id": "SUP-1"}]), run_id=run_id,
                             mapping="accounts")


def test_close_rejects_by_row_id_leaves_the_others_open(store: StateStore, run_id: str) -> None:
    store.upsert_rejects(pd.DataFrame([_reject(), _reject(code="REQUIRED_FIELD_MISSING"), _reject("500B")]),
                         run_id=run_id, mapping="accounts")
    rows = store.rejects("accounts").set_index(["record_id", "code"])
    target = int(rows.loc[("500A", "REQUIRED_FIELD_MISSING"), "id"])
    assert store.close_rejects("other", [target]) == 0  # another mapping's ids are not this one's
    assert store.close_rejects("accounts", [target, target]) == 1
    assert store.close_rejects("accounts", [target]) == 0  # already closed
    left = store.rejects("accounts")
    assert sorted(zip(left["record_id"], left["code"], strict=True)) == [
        ("500A", "FIELD_CUSTOM_VALIDATION_EXCEPTION"), ("500B", "FIELD_CUSTOM_VALIDATION_EXCEPTION")]


def test_a_reject_without_a_fix_gets_the_catalogs(store: StateStore, run_id: str) -> None:
    rows = [_reject("500A", code="UNABLE_TO_LOCK_ROW", fix=None), _reject("500B", code="JIRA_HTTP_403", fix=""),
            _reject("500C", code="DUPLICATE_VALUE"), _reject("500D", code="not a catalogued code", fix=None)]
    store.upsert_rejects(pd.DataFrame(rows), run_id=run_id, mapping="accounts")
    fixes = store.rejects("accounts").set_index("record_id")["fix"]
    assert fixes["500A"] == error_catalog.fix_for("UNABLE_TO_LOCK_ROW") and "lock" in fixes["500A"]
    assert fixes["500B"].startswith("grant the API user the project permission")
    assert fixes["500C"] == "correct Amount on the Jira issue"  # its own fix wins
    assert fixes["500D"] is None or pd.isna(fixes["500D"])
