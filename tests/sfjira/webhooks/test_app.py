"""The receiver's steps in-process, for what a live api-server cannot be made to do on demand: Airflow's
database failing while the event is recorded (the claim must be released so the sender's retry counts),
and a state store older than this sfjira (503, nothing claimed). The accepted path and every refusal are
tested live in test_receiver.py."""

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
