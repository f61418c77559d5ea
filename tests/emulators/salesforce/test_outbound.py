"""Outbound Messages: SOAP notifications to a real HTTPS receiver on loopback when Opportunities change --
up to 100 to a message, parsed back with an XML parser, retried with the same notification ids until the
receiver answers with the documented acknowledgement."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from emulators.common.process import EmulatorProcess
from emulators.salesforce import defaults
from tests.emulators.receiver import Answer, Received, Receiver, eventually, serve
from tests.emulators.salesforce.conftest import Rest
from tests.emulators.salesforce.test_bulk2 import _ingest

NS = {"soapenv": "http://schemas.xmlsoap.org/soap/envelope/", "om": "http://soap.sforce.com/2005/09/outbound",
      "sf": "urn:sobject.enterprise.soap.sforce.com", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
ACK = (b'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
       b'envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
       b"<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>")
NACK = ACK.replace(b"<Ack>true</Ack>", b"<Ack>false</Ack>")
FIELDS = ["Name", "StageName", "Amount", "CloseDate"]


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    yield from serve(tmp_path, Answer(200, ACK))


def configure(emulator: EmulatorProcess, receiver: Receiver, **extra: Any) -> dict[str, Any]:
    message = {"object": "Opportunity", "fields": FIELDS, "endpoint_url": f"{receiver.url}/sf/outbound",
               **extra.pop("message", {})}
    return emulator.admin("PUT", "outbound_messages", {
        "messages": [message], "delivery": {"delays_s": [0.05], "verify": receiver.ca_file, "timeout_s": 2},
        **extra})


def opportunities(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"attributes": {"type": "Opportunity"}, "Name": f"Deal {n}", "StageName": "Prospecting",
             "CloseDate": "2026-12-31", "Amount": 1000 + n} for n in range(start, start + count)]


def create_all(sf: Rest, records: list[dict[str, Any]]) -> list[str]:
    response = sf("POST", "/composite/sobjects", json={"allOrNone": True, "records": records})
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()]


def notifications(request: Received) -> tuple[ET.Element, list[tuple[str, dict[str, str]]]]:
    """The `notifications` element and, per Notification, its id and the sObject's fields."""
    root = ET.fromstring(request.body)  # noqa: S314 - our own emulator's output
    body = root.find("soapenv:Body/om:notifications", NS)
    assert body is not None, request.body[:300]
    found = []
    for note in body.findall("om:Notification", NS):
        sobject = note.find("om:sObject", NS)
        assert sobject is not None
        assert sobject.get(f"{{{NS['xsi']}}}type") == "sf:Opportunity"
        found.append((note.findtext("om:Id", "", NS),
                      {child.tag.split("}")[1]: child.text or "" for child in sobject}))
    return body, found


def messages(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    return list(emulator.admin("GET", "outbound_deliveries")["messages"])


def test_150_changes_arrive_as_100_and_50(sf: Rest, sf_emulator: EmulatorProcess, receiver: Receiver) -> None:
    configure(sf_emulator, receiver)
    ids = create_all(sf, opportunities(150))
    got = receiver.wait_count(2)
    assert all(r.path == "/sf/outbound" and r.headers["content-type"].startswith("text/xml") for r in got)
    assert all(r.headers["soapaction"] == '""' for r in got)
    parsed = [notifications(r) for r in got]
    assert sorted(len(notes) for _, notes in parsed) == [50, 100]
    for body, notes in parsed:
        assert body.findtext("om:OrganizationId", None, NS) == defaults.ORG_ID
        assert body.findtext("om:ActionId", "", NS).startswith("04k")
        assert body.find("om:SessionId", NS).get(f"{{{NS['xsi']}}}nil") == "true"  # type: ignore[union-attr]
        assert body.findtext("om:PartnerUrl", "", NS).startswith(f"{sf_emulator.url}/services/Soap/u/")
        assert all(note_id.startswith("04l") for note_id, _ in notes)
    records = {fields["Id"]: fields for _, notes in parsed for _, fields in notes}
    assert sorted(records) == sorted(ids)
    first = records[ids[0]]
    assert first == {"Id": ids[0], "Name": "Deal 0", "StageName": "Prospecting", "Amount": first["Amount"],
                     "CloseDate": "2026-12-31"}
    assert float(first["Amount"]) == 1000
    assert len({note_id for _, notes in parsed for note_id, _ in notes}) == 150


def test_retried_until_acknowledged_with_the_same_notification_ids(
        sf: Rest, sf_emulator: EmulatorProcess, receiver: Receiver) -> None:
    configure(sf_emulator, receiver, message={"organization_id": "00DKj0000000042AAA", "action_id": "04kKj0000000777AAA"})
    receiver.answer(Answer(500), Answer(200, b"thanks"), Answer(200, NACK))
    record_id = sf.create("Opportunity", Name="Stubborn", StageName="Qualification", CloseDate="2026-11-30")
    got = receiver.wait_count(4)
    parsed = [notifications(r) for r in got]
    assert {body.findtext("om:OrganizationId", None, NS) for body, _ in parsed} == {"00DKj0000000042AAA"}
    assert {body.findtext("om:ActionId", None, NS) for body, _ in parsed} == {"04kKj0000000777AAA"}
    assert len({notes[0][0] for _, notes in parsed}) == 1  # one notification id on every attempt
    assert {notes[0][1]["Id"] for _, notes in parsed} == {record_id}

    def acked() -> list[dict[str, Any]] | None:
        found = messages(sf_emulator)
        return found if found and found[0]["state"] == "delivered" else None

    (message,) = eventually(acked)
    assert [(a["status"], a["outcome"]) for a in message["attempts"]] == \
        [(500, "retry"), (200, "retry"), (200, "retry"), (200, "delivered")]
    assert [n["record"] for n in message["notifications"]] == [record_id]


def test_only_live_records_of_the_configured_object(sf: Rest, sf_emulator: EmulatorProcess,
                                                    receiver: Receiver) -> None:
    opp = sf.create("Opportunity", Name="Watched", StageName="Prospecting", CloseDate="2026-10-01")
    configure(sf_emulator, receiver)
    sf.create("Account", Name="Not watched")
    assert sf("PATCH", f"/sobjects/Opportunity/{opp}", json={"StageName": "Closed Won"}).status_code == 204
    assert sf("DELETE", f"/sobjects/Opportunity/{opp}").status_code == 204
    (got,) = receiver.wait_count(1)
    _, [(_, fields)] = notifications(got)
    assert fields["Id"] == opp
    # Built when sent, from the record as it is then: deleted meanwhile, only its Id is left (as documented).
    assert fields == {"Id": opp} or fields["StageName"] == "Closed Won"
    assert len(messages(sf_emulator)) == 1  # the Account and the delete queued nothing


def test_configuration_is_validated_and_reset_clears_it(sf: Rest, sf_emulator: EmulatorProcess,
                                                        receiver: Receiver) -> None:
    def put(body: dict[str, Any]) -> requests.Response:
        return sf_emulator.session.put(f"{sf_emulator.url}/__emulator/outbound_messages", json=body,
                                       verify=sf_emulator.ca_bundle, timeout=30)

    url = f"{receiver.url}/x"
    bad: list[tuple[dict[str, Any], str]] = [
        ({"messages": [{"object": "Nope", "endpoint_url": url}]}, "unknown object"),
        ({"messages": [{"object": "Case", "fields": ["Bogus"], "endpoint_url": url}]}, "no fields"),
        ({"messages": [{"object": "Case", "endpoint_url": "ftp://x"}]}, "endpoint_url"),
        ({"delivery": {"delays_s": "soon"}}, "delays_s"),
    ]
    for body, error in bad:
        response = put(body)
        assert response.status_code == 400 and error in response.json()["error"]
    shown = configure(sf_emulator, receiver, message={"fields": ["name", "stagename"]})
    assert shown["messages"][0]["fields"] == ["Id", "Name", "StageName"]  # API names, Id first
    assert shown["delivery"]["max_age_s"] == 86_400 and shown["delivery"]["delays_s"] == [0.05]
    sf_emulator.reset()
    assert sf_emulator.admin("PUT", "outbound_messages", {})["messages"] == []


def test_bulk_ingest_fires_them_too(sf: Rest, sf_emulator: EmulatorProcess, receiver: Receiver) -> None:
    """Bulk API 2.0 rows go through the same Transaction as REST writes, 200 to a commit."""
    configure(sf_emulator, receiver)
    csv = "Name,StageName,CloseDate\n" + "".join(f"Bulk {n},Prospecting,2026-12-01\n" for n in range(250))
    job = _ingest(sf, "insert", csv)
    eventually(lambda: sf("GET", f"/jobs/ingest/{job['id']}").json()["state"] == "JobComplete")

    def all_arrived() -> list[Received] | None:
        got = receiver.wait_count(1)
        return got if sum(len(notifications(m)[1]) for m in got) >= 250 else None

    got = eventually(all_arrived)
    sizes = [len(notifications(m)[1]) for m in got]
    assert sum(sizes) == 250 and max(sizes) <= 100
    assert {fields["Name"] for m in got for _, fields in notifications(m)[1]} == {f"Bulk {n}" for n in range(250)}
