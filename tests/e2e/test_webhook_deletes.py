"""Issue 15, point 4: a Jira issue deleted by hand gets the mapping's jira_deleted policy from the next sync run
(which the webhook's asset event starts), not only from a reconciliation or the next write to the issue.

The plugin's receiver is served over real HTTP on loopback; the Jira emulator delivers its signed
`jira:issue_deleted` webhook to it; the sync runs are real `dag.test()` runs. A run that fails leaves the
report pending; a delivery naming an issue that still exists (validly signed, so only Jira's say-so is in
doubt) changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.world import SQLITE_STATE_ONLY, World, make_cases
from tests.emulators.receiver import eventually

# The pending-delete queries run on both backends in tests/sfjira/state/test_jira_deletes.py.
pytestmark = [SQLITE_STATE_ONLY]

MAPPING = "case_to_bug"
SECRET = "jira-hmac-" + uuid.uuid4().hex


@pytest.fixture
def receiver(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The receiver app (sfjira.webhooks) under uvicorn in this process, its Jira secret in the Airflow
    connection it reads; the URL of the mapping's Jira route."""
    import uvicorn

    from sfjira.dashboard.api import state_store
    from sfjira.webhooks.app import create_app

    state_store.cache_clear()  # opened once per process: this test's store, not an earlier test's
    monkeypatch.setenv("AIRFLOW_CONN_SFJIRA_WEBHOOK_JIRA", json.dumps({"conn_type": "generic", "password": SECRET}))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    eventually(lambda: server.started, timeout=30)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/jira/{MAPPING}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    state_store.cache_clear()


def subscribe(world: World, url: str) -> None:
    world.jira_emulator.configure(webhook_delivery={"delays_s": [0.2], "max_retries": 5, "timeout_s": 10})
    world.jira.ok("POST", f"{world.jira.url}/rest/webhooks/1.0/webhook",
                  json={"name": "sfjira", "url": url, "secret": SECRET, "events": ["jira:issue_deleted"],
                        "filters": {"issue-related-events-section": "project = SUP"}})


def delivered(world: World) -> list[dict[str, Any]]:
    def settled() -> list[dict[str, Any]] | None:
        found = world.jira_emulator.admin("GET", "webhook_deliveries")["deliveries"]
        return found if found and all(d["state"] != "pending" for d in found) else None

    return eventually(settled, timeout=60)


def key_of(world: World, case_id: str) -> str:
    return str(world.sf.get("Case", case_id)["Jira_Key__c"])


def test_a_deleted_issue_flags_its_case_in_the_next_run(world: World, receiver: str) -> None:
    gone, kept = make_cases(world.sf, 2, Status="New")
    world.run(MAPPING)
    keys = {case: key_of(world, case) for case in (gone, kept)}
    subscribe(world, receiver)

    world.jira.ok("DELETE", f"/issue/{keys[gone]}")  # by hand: nothing in Salesforce changes
    (delivery,) = delivered(world)
    assert delivery["state"] == "delivered", delivery
    assert list(world.store.pending_jira_deletes(MAPPING)["sf_id"]) == [gone]

    # A run that fails to write the flag settles nothing: the report waits for the next run.
    world.sf_emulator.set_faults([{"fault": "500", "path": "/composite/sobjects", "method": "PATCH"}])
    world.run(MAPPING, expect="failed")
    assert world.sf.get("Case", gone)["Jira_Status__c"] is None
    assert list(world.store.pending_jira_deletes(MAPPING)["sf_id"]) == [gone]

    world.sf_emulator.set_faults([])
    run = world.run(MAPPING)
    assert world.sf.get("Case", gone)["Jira_Status__c"] == "Deleted in Jira"
    assert world.sf.get("Case", kept)["Jira_Status__c"] is None
    states = world.store.links(MAPPING).set_index("sf_id")["state"]
    assert (states[gone], states[kept]) == ("deleted_jira", "active")
    ledger = world.store.ledger(mapping=MAPPING, sf_id=gone)
    applied = ledger[ledger["action"] == "delete"]
    assert list(applied["cause"]) == ["delete_policy"] and list(applied["field"]) == ["Jira_Status__c"]
    assert list(applied["jira_key"]) == [keys[gone]] and list(applied["run_id"]) == [run.summary["run_id"]]
    assert world.store.pending_jira_deletes(MAPPING).empty
    assert list(world.store.jira_delete_history(MAPPING)["outcome"]) == ["applied"]
    assert run.summary["summary"]["jira_to_sf"]["deletes_reported"] == {"applied": 1}
    assert world.issues("project = SUP") != []  # the other issue is still there: nothing re-created or removed

    world.clear_calls()
    world.run(MAPPING)
    assert world.writes() == {"salesforce": {}, "jira": {}}


def test_a_delete_report_for_an_issue_that_exists_changes_nothing(world: World, receiver: str) -> None:
    (case,) = make_cases(world.sf, 1, Status="New")
    world.run(MAPPING)
    key = key_of(world, case)
    issue = world.issue(key)
    body = json.dumps({"timestamp": 1, "webhookEvent": "jira:issue_deleted",
                       "issue": {"id": issue["id"], "key": key}}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    resp = requests.post(receiver, data=body, timeout=30, headers={
        "Content-Type": "application/json", "X-Hub-Signature": signature,
        "X-Atlassian-Webhook-Identifier": str(uuid.uuid4())})
    assert resp.json() == {"outcome": "recorded"}
    assert list(world.store.pending_jira_deletes(MAPPING)["sf_id"]) == [case]

    world.clear_calls()
    world.run(MAPPING)
    assert world.writes() == {"salesforce": {}, "jira": {}}
    assert world.sf.get("Case", case)["Jira_Status__c"] is None
    assert world.store.links(MAPPING).set_index("sf_id").loc[case, "state"] == "active"
    assert "delete" not in set(world.store.ledger(mapping=MAPPING, sf_id=case)["action"])
    assert list(world.store.jira_delete_history(MAPPING)["outcome"]) == ["exists"]
    assert world.issue(key)["key"] == key
