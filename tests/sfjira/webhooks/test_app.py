"""The receiver's steps in-process, for what a live api-server cannot be made to do on demand: Airflow's
database failing while the event is recorded (the claim must be released so the sender's retry counts),
a state store older than this sfjira (503, nothing claimed), and a reported Jira deletion: kept pending
(only for a linked, well-formed issue) before the event that starts the sync run is recorded. The accepted
path and every refusal are tested live in test_receiver.py."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sfjira.state import StateStore
from sfjira.state import migrations as state_migrations
from sfjira.webhooks import app as receiver

SECRET = "in-process-secret"
BODY = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"key": "SUP-1"}}).encode()
HEADERS = {"X-Atlassian-Webhook-Identifier": "delivery-1", "Content-Type": "application/json",
           "X-Hub-Signature": "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, StateStore, list[Any]]]:
    """The app with a real state store; Airflow's side (the connection, the asset) stood in for."""
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    recorded: list[Any] = []
    monkeypatch.setattr(receiver, "connection", lambda conn_id: SimpleNamespace(password=SECRET, extra_dejson={}))
    monkeypatch.setattr(receiver, "_asset_is_active", lambda mapping: mapping == "accounts")
    monkeypatch.setattr(receiver, "_register", lambda mapping, extra: recorded.append((mapping, extra)))
    monkeypatch.setattr("sfjira.dashboard.api.state_store", lambda: store)
    with store, TestClient(receiver.create_app()) as client:
        yield client, store, recorded


def test_a_failed_recording_releases_the_claim(world: tuple[TestClient, StateStore, list[Any]],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    client, store, recorded = world

    def down(mapping: str, extra: dict[str, Any]) -> None:
        raise ConnectionError("Airflow's database is down")

    monkeypatch.setattr(receiver, "_register", down)
    failed = client.post("/jira/accounts", content=BODY, headers=HEADERS)
    assert failed.status_code == 503 and failed.json()["detail"]["code"] == "WEBHOOK_UNAVAILABLE"
    monkeypatch.setattr(receiver, "_register", lambda mapping, extra: recorded.append((mapping, extra)))
    retried = client.post("/jira/accounts", content=BODY, headers={**HEADERS, "X-Atlassian-Webhook-Retry": "1"})
    assert retried.json() == {"outcome": "recorded"}  # the retry is not taken for a duplicate
    assert recorded == [("accounts", {"source": "jira", "event": "jira:issue_updated", "issue": "SUP-1",
                                      "retry": "1", "deliveries": ["delivery-1"]})]


def test_an_old_state_store_is_503_and_claims_nothing(world: tuple[TestClient, StateStore, list[Any]],
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client, _, recorded = world
    old = StateStore(f"sqlite:///{tmp_path / 'old.db'}", auto_migrate=False)
    old.migrate(state_migrations.STEPS[:-1])
    monkeypatch.setattr("sfjira.dashboard.api.state_store", lambda: old)
    with old:
        resp = client.post("/jira/accounts", content=BODY, headers=HEADERS)
    assert resp.status_code == 503 and resp.json()["detail"]["code"] == "WEBHOOK_UNAVAILABLE"
    assert recorded == []


def _signed(event: dict[str, Any], delivery: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, {**HEADERS, "X-Atlassian-Webhook-Identifier": delivery,
                  "X-Hub-Signature": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


def test_a_delete_of_a_linked_issue_is_pending_before_the_event_is_recorded(
        world: tuple[TestClient, StateStore, list[Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    client, store, recorded = world
    run_id = store.begin_run("accounts", "manual__1")
    store.upsert_links("accounts", pd.DataFrame({"sf_id": ["001000000000001AAA"], "jira_key": ["SUP-1"],
                                                 "jira_id": ["10001"]}), run_id)
    seen_at_register: list[list[str]] = []

    def register(mapping: str, extra: dict[str, Any]) -> None:  # the run this event starts must find the row
        seen_at_register.append(list(store.pending_jira_deletes(mapping)["sf_id"]))
        recorded.append((mapping, extra))

    monkeypatch.setattr(receiver, "_register", register)
    deleted = {"webhookEvent": "jira:issue_deleted", "issue": {"id": "10001", "key": "SUP-1"}}
    for n, event in enumerate([{**deleted, "issue": {"id": "20002", "key": "SUP-2"}},   # no link has it
                               {**deleted, "issue": {"id": "../10001", "key": "SUP-1/../x"}},  # not an id or key
                               deleted]):
        body, headers = _signed(event, f"delete-{n}")
        assert client.post("/jira/accounts", content=body, headers=headers).json() == {"outcome": "recorded"}
    assert seen_at_register == [[], [], ["001000000000001AAA"]]
    assert len(recorded) == 3  # every verified delivery still starts a run


def test_a_delete_the_store_cannot_keep_is_503_and_released(world: tuple[TestClient, StateStore, list[Any]]) -> None:
    import sqlalchemy as sa

    client, store, recorded = world
    store.migrate()
    with store.engine.begin() as conn:  # the store breaks between the claim and the note
        conn.execute(sa.text("DROP TABLE sfjira_jira_deletes"))
    body, headers = _signed({"webhookEvent": "jira:issue_deleted", "issue": {"id": "10001", "key": "SUP-1"}}, "d-1")
    failed = client.post("/jira/accounts", content=body, headers=headers)
    assert failed.status_code == 503 and failed.json()["detail"]["code"] == "WEBHOOK_UNAVAILABLE"
    assert recorded == []
    assert store.claim_deliveries("jira", "accounts", ["d-1"]) == ["d-1"]  # released: the sender's retry counts
