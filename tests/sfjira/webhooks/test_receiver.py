"""The webhook receiver as Airflow serves it: a real api-server (its own CLI in a subprocess, isolated home)
mounts it under /sfjira/webhooks without the Airflow login; the emulators deliver to it for real, and direct
requests try what an attacker or a misconfiguration would.

Every accepted delivery is one event on the mapping's `sfjira://<mapping>/events` asset, read back through
Airflow's own REST API; every refused one is a 4xx with a code, records nothing, and the api-server's log
never holds a secret or a signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import JiraRest
from emulators.salesforce import defaults
from emulators.salesforce.testing import access_token
from sfjira.emulator_env import sqlite_state
from sfjira.state import StateStore
from tests.emulators.receiver import eventually
from tests.emulators.salesforce.conftest import Rest as SalesforceRest
from tests.live_airflow import Services, airflow_environment, prepare

pytestmark = pytest.mark.integration

MAPPING = "opportunity_to_epic"
JIRA_SECRET = "jira-hmac-" + uuid.uuid4().hex
SF_TOKEN = "sf-token-" + uuid.uuid4().hex
CONNECTIONS = {
    "sfjira_webhook_jira": {"conn_type": "generic", "password": JIRA_SECRET},
    "sfjira_webhook_salesforce": {"conn_type": "generic", "password": SF_TOKEN,
                                  "extra": json.dumps({"organization_id": defaults.ORG_ID[:15]})},
}
SENT_SIGNATURES: list[str] = []  # every signature a test sent: none may reach the log


@pytest.fixture(scope="module")
def airflow_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    root = tmp_path_factory.mktemp("webhooks")
    state = root / "state.db"
    with StateStore(f"sqlite:///{state}") as store:
        store.migrate()
    env = airflow_environment(root / "airflow", {"AIRFLOW_CONN_SFJIRA_STATE": json.dumps(sqlite_state(str(state)))},
                              storage=root / "runs")
    prepare(env)
    with Services(env, scheduler=False) as services:
        for conn_id in CONNECTIONS:
            configure(services, conn_id)
        yield services


def configure(services: Services, conn_id: str) -> None:
    services.api("POST", "/connections", json={"connection_id": conn_id, **CONNECTIONS[conn_id]})


def url(services: Services, source: str, mapping: str = MAPPING) -> str:
    return f"{services.base}/sfjira/webhooks/{source}/{mapping}"


def sign(body: bytes, secret: str = JIRA_SECRET) -> str:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    SENT_SIGNATURES.append(signature)
    return signature


def post_jira(services: Services, body: bytes, *, signature: str | None = "sign", delivery: str | None = None,
              mapping: str = MAPPING) -> requests.Response:
    headers = {"Content-Type": "application/json",
               "X-Atlassian-Webhook-Identifier": delivery or str(uuid.uuid4())}
    if signature is not None:
        headers["X-Hub-Signature"] = sign(body) if signature == "sign" else signature
    return requests.post(url(services, "jira", mapping), data=body, headers=headers, timeout=30)


def jira_event(key: str = "SUP-1") -> bytes:
    return json.dumps({"timestamp": 1, "webhookEvent": "jira:issue_updated", "issue": {"key": key}}).encode()


def events(services: Services) -> list[dict[str, Any]]:
    """The asset events of the mapping's events asset, oldest first."""
    assets = services.api("GET", "/assets", params={"uri_pattern": f"sfjira://{MAPPING}/events"})["assets"]
    (asset,) = [a for a in assets if a["uri"] == f"sfjira://{MAPPING}/events"]
    found = services.api("GET", "/assets/events", params={"asset_id": asset["id"], "order_by": "timestamp",
                                                          "limit": 1000})
    return list(found["asset_events"])


def refused(resp: requests.Response, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["detail"]["code"] == code
    assert JIRA_SECRET not in resp.text and SF_TOKEN not in resp.text


# -- the senders, for real -------------------------------------------------------------------------------

def test_a_jira_webhook_becomes_one_asset_event(airflow_api: Services, jira_emulator: EmulatorProcess) -> None:
    jira_emulator.reset()
    jira_emulator.configure(webhook_delivery={"delays_s": [0.2], "max_retries": 5, "timeout_s": 10})
    rest = JiraRest(jira_emulator.url, jira_emulator.ca_bundle, version=3)
    before = len(events(airflow_api))
    rest.ok("POST", f"{rest.url}/rest/webhooks/1.0/webhook",
            json={"name": "sfjira", "url": url(airflow_api, "jira"), "secret": JIRA_SECRET,
                  "events": ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]})
    created = rest.create("SUP", "Bug", "Printer on fire")

    def delivered() -> list[dict[str, Any]] | None:
        found = jira_emulator.admin("GET", "webhook_deliveries")["deliveries"]
        return found if found and all(d["state"] != "pending" for d in found) else None

    (delivery,) = eventually(delivered, timeout=60)
    assert delivery["state"] == "delivered", delivery
    (event,) = events(airflow_api)[before:]
    assert event["extra"]["source"] == "jira" and event["extra"]["event"] == "jira:issue_created"
    assert event["extra"]["issue"] == created["key"] and event["extra"]["deliveries"] == [delivery["id"]]
    jira_emulator.reset()


def test_a_salesforce_outbound_message_is_acknowledged_and_recorded(airflow_api: Services,
                                                                    sf_emulator: EmulatorProcess) -> None:
    sf_emulator.reset()
    before = len(events(airflow_api))
    sf_emulator.admin("PUT", "outbound_messages", {
        "messages": [{"object": "Opportunity", "fields": ["Name", "StageName"],
                      "endpoint_url": f"{url(airflow_api, 'salesforce')}?token={SF_TOKEN}"}],
        "delivery": {"delays_s": [0.2], "max_retries": 5, "timeout_s": 10}})
    sf = SalesforceRest(sf_emulator, access_token(sf_emulator.url, sf_emulator.ca_bundle))
    record = sf.create("Opportunity", Name="Deal", StageName="Prospecting", CloseDate="2026-12-31")

    def settled() -> list[dict[str, Any]] | None:
        found = sf_emulator.admin("GET", "outbound_deliveries")["messages"]
        return found if found and all(m["state"] != "pending" for m in found) else None

    (message,) = eventually(settled, timeout=60)
    assert message["state"] == "delivered", message  # the receiver's answer was the Ack Salesforce needs
    (event,) = events(airflow_api)[before:]
    assert event["extra"]["source"] == "salesforce" and event["extra"]["records"] == [record]
    assert event["extra"]["deliveries"] == [n["id"] for n in message["notifications"]]
    sf_emulator.reset()


# -- what must be refused --------------------------------------------------------------------------------

def test_unsigned_and_mis_signed_jira_deliveries_are_refused(airflow_api: Services) -> None:
    before = events(airflow_api)
    body = jira_event()
    refused(post_jira(airflow_api, body, signature=None), 401, "WEBHOOK_UNSIGNED")
    refused(post_jira(airflow_api, body, signature=sign(body, "not-the-secret")), 403, "WEBHOOK_SIGNATURE_INVALID")
    refused(post_jira(airflow_api, body + b" ", signature=sign(body)), 403, "WEBHOOK_SIGNATURE_INVALID")
    assert events(airflow_api) == before


def test_a_replayed_delivery_is_acknowledged_but_recorded_once(airflow_api: Services) -> None:
    before = len(events(airflow_api))
    delivery = str(uuid.uuid4())
    first = post_jira(airflow_api, jira_event(), delivery=delivery)
    assert (first.status_code, first.json()) == (200, {"outcome": "recorded"})
    again = post_jira(airflow_api, jira_event(), delivery=delivery)  # the sender's retry, or a replay
    assert (again.status_code, again.json()) == (200, {"outcome": "duplicate"})
    (event,) = events(airflow_api)[before:]
    assert event["extra"]["deliveries"] == [delivery]


def raw_post(services: Services, path: str, head: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """Send the request line, `head` and only `body` (however much Content-Length promised); the status and
    body of the answer."""
    host, port = services.base.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in head.items()), "", ""]
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall("\r\n".join(lines).encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


def _length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 1 << 30


def test_a_10_mb_body_is_refused_before_it_is_read(airflow_api: Services) -> None:
    before = events(airflow_api)
    ten_mb = 10 * 1024 * 1024
    # Only 64 KiB of the promised 10 MB is ever sent: the answer comes from the Content-Length alone.
    status, body = raw_post(airflow_api, f"/sfjira/webhooks/jira/{MAPPING}",
                            {"Content-Length": str(ten_mb), "Content-Type": "application/json",
                             "X-Hub-Signature": "sha256=" + "0" * 64}, b"x" * 65536)
    assert status == 413 and json.loads(body)["detail"]["code"] == "WEBHOOK_BODY_TOO_LARGE"
    status, body = raw_post(airflow_api, f"/sfjira/webhooks/salesforce/{MAPPING}?token={SF_TOKEN}",
                            {"Content-Length": str(ten_mb), "Content-Type": "text/xml"}, b"<" * 65536)
    assert status == 413
    # Without a Content-Length (chunked), the stream is cut off once it passes the cap.
    chunk = b"x" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(4 * 16 + 1)) + b"0\r\n\r\n"
    status, body = raw_post(airflow_api, f"/sfjira/webhooks/jira/{MAPPING}",
                            {"Transfer-Encoding": "chunked", "Content-Type": "application/json"}, chunks)
    assert status == 413 and json.loads(body)["detail"]["code"] == "WEBHOOK_BODY_TOO_LARGE"
    assert events(airflow_api) == before


def test_an_unknown_mapping_is_404_after_the_sender_is_checked(airflow_api: Services) -> None:
    before = events(airflow_api)
    refused(post_jira(airflow_api, jira_event(), mapping="no_such_mapping"), 404, "WEBHOOK_UNKNOWN_MAPPING")
    refused(post_jira(airflow_api, jira_event(), mapping="Bad..Name"), 404, "WEBHOOK_UNKNOWN_MAPPING")
    # Unsigned, the same URL tells nothing about which mappings exist.
    refused(post_jira(airflow_api, jira_event(), signature=None, mapping="no_such_mapping"), 401, "WEBHOOK_UNSIGNED")
    assert events(airflow_api) == before


OUTBOUND = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>{org}</OrganizationId>
<ActionId>04kKj0000000001AAA</ActionId><Notification><Id>{note}</Id>
<sObject xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>006Kj0000000009AAA</sf:Id></sObject>
</Notification></notifications></soapenv:Body></soapenv:Envelope>"""


def post_salesforce(services: Services, *, token: str | None = SF_TOKEN, org: str = defaults.ORG_ID,
                    note: str = "04lKj00000000X1AAA") -> requests.Response:
    params = {"token": token} if token is not None else {}
    return requests.post(url(services, "salesforce"), params=params, timeout=30, headers={"Content-Type": "text/xml"},
                         data=OUTBOUND.format(org=org, note=note).encode())


def test_salesforce_needs_the_token_and_the_org(airflow_api: Services) -> None:
    before = events(airflow_api)
    refused(post_salesforce(airflow_api, token=None), 401, "WEBHOOK_UNSIGNED")
    refused(post_salesforce(airflow_api, token=SF_TOKEN[:-1] + "x"), 403, "WEBHOOK_SIGNATURE_INVALID")
    refused(post_salesforce(airflow_api, org="00DKj0000000002AAA"), 403, "WEBHOOK_ORG_MISMATCH")
    assert events(airflow_api) == before
    note = "04lKj" + uuid.uuid4().hex[:10] + "AAA"
    for _ in range(2):  # sent twice (a retry): acknowledged twice, recorded once
        ok = post_salesforce(airflow_api, note=note)
        assert ok.status_code == 200 and b"<Ack>true</Ack>" in ok.content
    (event,) = events(airflow_api)[len(before):]
    assert event["extra"]["deliveries"] == [note]


def test_without_its_connection_a_sender_is_refused(airflow_api: Services) -> None:
    before = events(airflow_api)
    for conn_id in CONNECTIONS:
        airflow_api.api("DELETE", f"/connections/{conn_id}")
    try:
        refused(post_jira(airflow_api, jira_event()), 403, "WEBHOOK_NOT_CONFIGURED")
        refused(post_salesforce(airflow_api), 403, "WEBHOOK_NOT_CONFIGURED")
        # A Salesforce connection without the org it must check is no configuration either.
        airflow_api.api("POST", "/connections", json={"connection_id": "sfjira_webhook_salesforce",
                                                      "conn_type": "generic", "password": SF_TOKEN})
        refused(post_salesforce(airflow_api), 403, "WEBHOOK_NOT_CONFIGURED")
    finally:
        for conn_id in CONNECTIONS:
            requests.delete(f"{airflow_api.base}/api/v2/connections/{conn_id}", timeout=30,
                            headers=dict(airflow_api.session.headers))
            configure(airflow_api, conn_id)
    assert events(airflow_api) == before
    assert post_jira(airflow_api, jira_event()).status_code == 200  # configured again: accepted again


def test_the_api_server_log_holds_no_secret(airflow_api: Services) -> None:
    log = Path(airflow_api.env["AIRFLOW_HOME"], "logs", "api-server.log").read_text(errors="replace")
    assert f"webhook jira mapping={MAPPING}" in log  # the receiver's own lines are there ...
    assert "WEBHOOK_SIGNATURE_INVALID" in log
    assert JIRA_SECRET not in log and SF_TOKEN not in log  # ... without a secret
    assert "token=%2A%2A%2A" in log  # Airflow's access log redacts the query parameter by its name
    assert SENT_SIGNATURES and not [s for s in SENT_SIGNATURES if s.removeprefix("sha256=") in log]
