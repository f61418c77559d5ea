"""Admin webhooks: the /rest/webhooks/1.0/webhook registry, and deliveries to a real HTTPS receiver on
loopback -- signed with the secret, filtered by JQL, retried with the same identifier, one per event.

(/rest/webhooks/1.0 is not part of Atlassian's v3 OpenAPI document, so test_conformance does not cover it;
these tests check the shapes Atlassian's webhook documentation gives.)"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import DC_BASIC, JiraRest
from tests.emulators.receiver import Answer, Received, Receiver, eventually, serve

SECRET = "It's a Secret to Everybody"
HOOKS = "/rest/webhooks/1.0/webhook"


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    yield from serve(tmp_path, Answer(200))


@pytest.fixture
def fast(jira: EmulatorProcess, receiver: Receiver) -> EmulatorProcess:
    """Retries a few milliseconds apart (the real schedule spreads them over half an hour), trusting the
    receiver's own CA."""
    jira.configure(webhook_delivery={"delays_s": [0.05], "max_retries": 3, "timeout_s": 2,
                                     "verify": receiver.ca_file})
    return jira


def register(rest: JiraRest, receiver: Receiver, **body: Any) -> dict[str, Any]:
    payload = {"name": "sfjira", "url": f"{receiver.url}/hooks/jira", "secret": SECRET,
               "events": ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created"],
               **body}
    return dict(rest.ok("POST", f"{rest.url}{HOOKS}", json=payload))


def event(request: Received) -> dict[str, Any]:
    return dict(json.loads(request.body))


def verified(request: Received, secret: str = SECRET) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers.get("x-hub-signature", ""), expected)


def deliveries(jira: EmulatorProcess) -> list[dict[str, Any]]:
    return list(jira.admin("GET", "webhook_deliveries")["deliveries"])


def settled(jira: EmulatorProcess) -> list[dict[str, Any]]:
    """The deliveries once there are some and none is waiting for another attempt."""
    def done() -> list[dict[str, Any]] | None:
        found = deliveries(jira)
        return found if found and all(d["state"] != "pending" for d in found) else None

    return eventually(done)


# -- the registry --------------------------------------------------------------------------------------------

def test_register_list_update_delete(jira: EmulatorProcess, rest: JiraRest, receiver: Receiver) -> None:
    created = register(rest, receiver, filters={"issue-related-events-section": "project = SUP"})
    assert created["self"] == f"{jira.url}{HOOKS}/1"
    assert created["filters"] == {"issue-related-events-section": "project = SUP"}
    assert created["enabled"] is True and created["excludeBody"] is False
    assert "secret" not in created and SECRET not in json.dumps(created)  # write-only, as in Jira
    assert [h["name"] for h in rest.ok("GET", f"{jira.url}{HOOKS}")] == ["sfjira"]
    assert {"kind": "webhook_secret", "value": SECRET} in jira.credentials()  # leak scans look for it

    updated = rest.ok("PUT", created["self"], json={"events": ["jira:issue_deleted"], "enabled": False})
    assert updated["events"] == ["jira:issue_deleted"] and updated["enabled"] is False
    assert rest.ok("GET", created["self"])["url"] == f"{receiver.url}/hooks/jira"
    assert rest("DELETE", created["self"]).status_code == 204
    gone = rest("GET", created["self"])
    assert gone.status_code == 404 and gone.json()["errorMessages"] == ["Webhook with id '1' does not exist."]


@pytest.mark.parametrize(("body", "message"), [
    ({"events": ["jira:issue_exploded"]}, "Unknown webhook events ['jira:issue_exploded']"),
    ({"events": []}, "Specify at least one event"),
    ({"url": "ftp://example.com/x"}, "is not a valid http(s) URL"),
    ({"filters": {"issue-related-events-section": "project = "}}, "Error in the JQL Query"),
    ({"filters": {"issue-related-events-section": "project = NOPE"}}, "The value 'NOPE' does not exist"),
])
def test_bad_registrations_are_400(rest: JiraRest, receiver: Receiver, body: dict[str, Any], message: str) -> None:
    response = rest("POST", f"{rest.url}{HOOKS}", json={"name": "x", "url": f"{receiver.url}/x",
                                                        "events": ["jira:issue_created"], **body})
    assert response.status_code == 400
    assert message in response.json()["errorMessages"][0]


def test_registry_needs_the_api_credentials(rest: JiraRest) -> None:
    assert rest("GET", f"{rest.url}{HOOKS}", auth=("sync-bot@example.com", "wrong")).status_code == 401


def test_data_center_serves_the_registry_too(jira_dc: EmulatorProcess, receiver: Receiver) -> None:
    dc = JiraRest(jira_dc.url, jira_dc.ca_bundle, version=2, auth=DC_BASIC)
    with dc.session:
        assert register(dc, receiver)["self"] == f"{jira_dc.url}{HOOKS}/1"


def test_bad_delivery_settings_are_400(jira: EmulatorProcess) -> None:
    response = jira.session.put(f"{jira.url}/__emulator/config", json={"webhook_delivery": {"delays_s": []}},
                                verify=jira.ca_bundle, timeout=30)
    assert response.status_code == 400 and "delays_s" in response.json()["error"]


# -- deliveries ----------------------------------------------------------------------------------------------

def test_created_issue_is_delivered_signed_and_filtered(fast: EmulatorProcess, rest: JiraRest,
                                                        receiver: Receiver) -> None:
    register(rest, receiver, filters={"issue-related-events-section": "project = SUP"})
    rest.create("DEL", "Task", "not for this webhook")  # outside the JQL filter
    created = rest.create("SUP", "Bug", "Printer on fire")
    (got,) = receiver.wait_count(1)
    assert got.path == "/hooks/jira"
    assert verified(got) and not verified(got, "another secret")
    assert got.headers["content-type"].startswith("application/json")
    assert got.headers["x-atlassian-webhook-identifier"]
    assert "x-atlassian-webhook-retry" not in got.headers  # only retried deliveries carry it
    body = event(got)
    assert body["webhookEvent"] == "jira:issue_created" and body["issue_event_type_name"] == "issue_created"
    assert isinstance(body["timestamp"], int)
    assert body["issue"]["key"] == created["key"] and body["issue"]["fields"]["summary"] == "Printer on fire"
    assert body["user"]["accountId"] == "5b10ac8d82e05b22cc7d4ef5"
    # Wait for every delivery the emulator queued: the filtered-out issue must not have produced one.
    assert [d["issue"] for d in deliveries(fast)] == [created["key"]]


def test_update_carries_the_changelog(fast: EmulatorProcess, rest: JiraRest, receiver: Receiver) -> None:
    key = rest.create("SUP", "Bug", "old summary")["key"]
    register(rest, receiver)
    rest.ok("PUT", f"/issue/{key}", json={"fields": {"summary": "new summary"}})
    rest.ok("POST", f"/issue/{key}/transitions", json={"transition": {"id": "11"}})
    got = [event(r) for r in receiver.wait_count(2)]
    by_type = {e["issue_event_type_name"]: e for e in got}
    edit, move = by_type["issue_updated"], by_type["issue_generic"]
    assert edit["webhookEvent"] == "jira:issue_updated"
    assert edit["changelog"]["items"] == [{"field": "summary", "fieldtype": "jira", "fieldId": "summary",
                                           "fromString": "old summary", "toString": "new summary"}]
    assert edit["changelog"]["id"]
    assert [(i["field"], i["fromString"], i["toString"]) for i in move["changelog"]["items"]] == \
        [("status", "To Do", "In Progress")]
    assert move["issue"]["fields"]["status"]["name"] == "In Progress"


def test_retried_with_the_same_identifier_until_acknowledged(fast: EmulatorProcess, rest: JiraRest,
                                                            receiver: Receiver) -> None:
    register(rest, receiver)
    receiver.answer(Answer(500), Answer(503))
    rest.create("SUP", "Task", "third time lucky")
    first, second, third = receiver.wait_count(3)
    ids = {r.headers["x-atlassian-webhook-identifier"] for r in (first, second, third)}
    assert len(ids) == 1
    assert [r.headers.get("x-atlassian-webhook-retry") for r in (first, second, third)] == [None, "1", "2"]
    assert first.body == second.body == third.body and verified(third)
    (delivery,) = deliveries(fast)
    assert delivery["id"] == ids.pop() and delivery["state"] == "delivered"
    assert [(a["status"], a["outcome"]) for a in delivery["attempts"]] == \
        [(500, "retry"), (503, "retry"), (200, "delivered")]


def test_timeouts_are_retried_and_other_4xx_are_final(fast: EmulatorProcess, rest: JiraRest,
                                                      receiver: Receiver) -> None:
    fast.configure(webhook_delivery={"timeout_s": 0.3})
    register(rest, receiver, events=["jira:issue_created"])
    receiver.answer(Answer(200, delay_s=1.5))
    rest.create("SUP", "Task", "slow receiver")
    receiver.wait_count(2)
    receiver.answer(Answer(400))
    rest.create("SUP", "Task", "rejected")
    receiver.wait_count(3)
    outcomes = {d["issue"]: [(a["status"], a["outcome"]) for a in d["attempts"]] for d in settled(fast)}
    slow, rejected = outcomes["SUP-1"], outcomes["SUP-2"]
    assert slow[0][0] is None and slow[0][1] == "retry" and slow[-1] == (200, "delivered")
    assert rejected == [(400, "failed")]


def test_gives_up_after_max_retries(fast: EmulatorProcess, rest: JiraRest, receiver: Receiver) -> None:
    fast.configure(webhook_delivery={"max_retries": 2})
    register(rest, receiver, events=["jira:issue_created"])
    receiver.answer(*[Answer(502)] * 10)
    rest.create("SUP", "Task", "never acknowledged")
    receiver.wait_count(3)
    found = settled(fast)
    assert found[0]["state"] == "failed" and len(found[0]["attempts"]) == 3  # the send and two retries


def test_deleted_issue_and_comment_events(fast: EmulatorProcess, rest: JiraRest, receiver: Receiver) -> None:
    key = rest.create("SUP", "Bug", "short-lived", labels=["sfjira"])["key"]
    register(rest, receiver, filters={"issue-related-events-section": "labels = sfjira"},
             events=["jira:issue_deleted", "comment_created"])
    rest.ok("POST", f"/issue/{key}/comment", json={"body": {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "last words"}]}]}})
    assert rest("DELETE", f"/issue/{key}").status_code == 204
    got = {event(r)["webhookEvent"]: event(r) for r in receiver.wait_count(2)}
    comment = got["comment_created"]
    assert comment["comment"]["body"] == "last words"  # REST v2 rendering: plain text
    assert comment["issue"]["key"] == key and set(comment["issue"]["fields"]) == \
        {"summary", "status", "priority", "issuetype"}
    deleted = got["jira:issue_deleted"]
    assert deleted["issue_event_type_name"] == "issue_deleted" and deleted["issue"]["key"] == key
    assert deleted["issue"]["fields"]["labels"] == ["sfjira"]  # the issue as it was, matched before it went


def test_exclude_body_sends_an_empty_signed_body(fast: EmulatorProcess, rest: JiraRest, receiver: Receiver) -> None:
    register(rest, receiver, excludeBody=True, events=["jira:issue_created"])
    rest.create("SUP", "Task", "no body")
    (got,) = receiver.wait_count(1)
    assert got.body == b"" and verified(got)


def test_without_a_secret_nothing_is_signed(fast: EmulatorProcess, rest: JiraRest, receiver: Receiver) -> None:
    register(rest, receiver, secret=None, events=["jira:issue_created"])
    rest.create("SUP", "Task", "unsigned")
    (got,) = receiver.wait_count(1)
    assert "x-hub-signature" not in got.headers


def test_every_event_arrives_once_whatever_the_order(fast: EmulatorProcess, rest: JiraRest,
                                                     receiver: Receiver) -> None:
    """With shuffle_s the sends are held back at random and run in parallel: all arrive, in any order."""
    fast.configure(webhook_delivery={"shuffle_s": 0.3})
    register(rest, receiver, events=["jira:issue_created"])
    keys = [rest.create("SUP", "Task", f"burst {n}")["key"] for n in range(12)]
    got = receiver.wait_count(12)
    assert sorted(event(r)["issue"]["key"] for r in got) == sorted(keys)
    assert len({r.headers["x-atlassian-webhook-identifier"] for r in got}) == 12
