"""Outbound Messages: SOAP notifications to an endpoint when records of a configured object change.

In Salesforce a workflow rule's outbound-message action does this; here `PUT /__emulator/outbound_messages`
defines them: {"messages": [{"name", "object", "fields", "endpoint_url", "action_id"?, "organization_id"?}],
"delivery": {RetryPolicy keys}, "batch_window_s": 0}. Every record of that object created or updated through
the API (REST, collections, Bulk -- the `Transaction` commit) queues a notification with its own id (prefix
04l). Notifications are sent up to 100 to a message (commits within `batch_window_s` share messages) as the
documented SOAP 1.1 `notifications` call. As documented, the record's fields are read when a message is
sent, not when it was queued (a record changed meanwhile arrives with its latest data, a deleted one with its
Id only), a message counts as delivered only when the endpoint answers 200 with `<Ack>true</Ack>`, and
anything else is retried with a growing interval (capped at two hours) until the message is 24 hours old,
with the same notification ids, in no particular order. `GET /__emulator/outbound_deliveries` lists the
messages and their attempts.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulators.common.control import AdminHandler
from emulators.common.outbox import OK, RETRY, Message, Outbox, RetryPolicy
from emulators.salesforce import defaults
from emulators.salesforce.ids import make_id
from emulators.salesforce.org import Org
from emulators.salesforce.store import Record

MAX_NOTIFICATIONS = 100
CONFIG_KEY = "outbound_messages"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"


def salesforce_retry_policy() -> RetryPolicy:
    """Intervals doubling up to two hours, until the message is 24 hours old; 60 s to answer."""
    return RetryPolicy(delays_s=[15.0 * 2 ** n for n in range(9)] + [7200.0], max_retries=None,
                       max_age_s=86_400.0, timeout_s=60.0)


@dataclass
class Definition:
    name: str
    object: str
    fields: list[str]
    endpoint_url: str
    action_id: str
    organization_id: str


def judge(status: int | None, body: bytes) -> str:
    """Only `<notificationsResponse><Ack>true</Ack>` acknowledges; an error, a fault or no answer is retried."""
    if status != 200:
        return RETRY
    try:
        root = ET.fromstring(body)  # noqa: S314 - the receiver is the test's own loopback server
    except ET.ParseError:
        return RETRY
    acked = any(el.tag.rsplit("}", 1)[-1] == "Ack" and (el.text or "").strip().lower() == "true"
                for el in root.iter())
    return OK if acked else RETRY


def soap_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


class OutboundMessages:
    def __init__(self, org: Org) -> None:
        self.org = org
        self.outbox = Outbox(self.policy)
        self.lock = threading.Lock()
        self.queued: dict[str, list[tuple[str, str]]] = {}  # action id -> [(notification id, record id)]
        org.write_listeners.append(self.saved)

    # -- configuration -------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        return dict(self.org.config.get(CONFIG_KEY) or {})

    def definitions(self) -> list[Definition]:
        return [Definition(**raw) for raw in self.settings().get("messages", [])]

    def policy(self) -> RetryPolicy:
        return RetryPolicy.from_dict(self.settings().get("delivery") or {}, base=salesforce_retry_policy())

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the definitions and delivery settings ({} reads them); ValueError names what is wrong."""
        if body:
            unknown = sorted(set(body) - {"messages", "delivery", "batch_window_s"})
            if unknown:
                raise ValueError(f"unknown keys {unknown}; allowed: messages, delivery, batch_window_s")
            raw = body.get("messages", [])
            if not isinstance(raw, list):
                raise ValueError("messages must be a list of outbound message definitions")
            messages = [asdict(self._definition(m, n)) for n, m in enumerate(raw, start=1)]
            RetryPolicy.from_dict(body.get("delivery") or {}, base=salesforce_retry_policy())  # ValueError if bad
            window = body.get("batch_window_s", 0)
            if not isinstance(window, int | float) or isinstance(window, bool) or window < 0:
                raise ValueError("batch_window_s must be a number of seconds >= 0")
            # The delivery keys are stored as given, so the ones left out keep following the defaults.
            self.org.configure({CONFIG_KEY: {"messages": messages, "delivery": body.get("delivery") or {},
                                             "batch_window_s": float(window)}})
        current = self.settings()
        return {"messages": current.get("messages", []), "delivery": self.policy().to_dict(),
                "batch_window_s": current.get("batch_window_s", 0.0)}

    def _definition(self, raw: Any, number: int) -> Definition:
        if not isinstance(raw, dict):
            raise ValueError("each outbound message is an object with object, fields and endpoint_url")
        unknown = sorted(set(raw) - set(Definition.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown outbound message keys {unknown}")
        obj = self.org.schema.get(str(raw.get("object")))
        if obj is None:
            raise ValueError(f"unknown object {raw.get('object')!r}")
        fields = raw.get("fields") or ["Id"]
        found = [obj.field(f) if isinstance(f, str) else None for f in fields]
        missing = [f for f, fdef in zip(fields, found, strict=True) if fdef is None]
        if missing:
            raise ValueError(f"{obj.name} has no fields {missing}")
        url = str(raw.get("endpoint_url", ""))
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise ValueError(f"endpoint_url must be an http(s) URL, got {url!r}")
        names = [fdef.name for fdef in found if fdef is not None]
        return Definition(name=str(raw.get("name") or f"{obj.name} outbound message {number}"), object=obj.name,
                          fields=["Id", *(n for n in dict.fromkeys(names) if n != "Id")], endpoint_url=url,
                          action_id=str(raw.get("action_id") or make_id("04k", number)),
                          organization_id=str(raw.get("organization_id") or defaults.ORG_ID))

    # -- queueing --------------------------------------------------------------------------------------

    def saved(self, records: list[tuple[str, Record]]) -> None:
        """A committed write: queue a notification per live record of each configured object."""
        for definition in self.definitions():
            ids = [r["Id"] for sobject, r in records if sobject == definition.object and not r.get("IsDeleted")]
            if not ids:
                continue
            notes = [(make_id("04l", self.org.next_sequence("04l")), record_id) for record_id in ids]
            with self.lock:
                first = not self.queued.get(definition.action_id)
                self.queued.setdefault(definition.action_id, []).extend(notes)
            window = float(self.settings().get("batch_window_s") or 0)
            if not window:
                self.flush(definition)
            elif first:
                timer = threading.Timer(window, self.flush, [definition])
                timer.daemon = True
                timer.start()

    def flush(self, definition: Definition) -> None:
        with self.lock:
            notes = self.queued.pop(definition.action_id, [])
        for start in range(0, len(notes), MAX_NOTIFICATIONS):
            chunk = notes[start:start + MAX_NOTIFICATIONS]
            info = {"action_id": definition.action_id, "object": definition.object,
                    "notifications": [{"id": n, "record": r} for n, r in chunk]}
            self.outbox.submit(Message(chunk[0][0], definition.endpoint_url, self._builder(definition, chunk),
                                       judge, info))

    def _builder(self, definition: Definition, notes: list[tuple[str, str]]) -> Callable[
            [int], tuple[bytes, dict[str, str]]]:
        def build(_: int) -> tuple[bytes, dict[str, str]]:
            return self.envelope(definition, notes), {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}

        return build

    # -- the SOAP message ------------------------------------------------------------------------------

    def envelope(self, definition: Definition, notes: list[tuple[str, str]]) -> bytes:
        org15 = definition.organization_id[:15]
        soap = f"{self.org.base_url}/services/Soap"
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
            "<soapenv:Body>",
            f'<notifications xmlns="{OUTBOUND_NS}">',
            f"<OrganizationId>{escape(definition.organization_id)}</OrganizationId>",
            f"<ActionId>{escape(definition.action_id)}</ActionId>",
            '<SessionId xsi:nil="true"/>',
            f"<EnterpriseUrl>{escape(f'{soap}/c/{defaults.API_VERSION}/{org15}')}</EnterpriseUrl>",
            f"<PartnerUrl>{escape(f'{soap}/u/{defaults.API_VERSION}/{org15}')}</PartnerUrl>",
        ]
        for note_id, record_id in notes:
            parts += ["<Notification>", f"<Id>{note_id}</Id>", self._sobject(definition, record_id), "</Notification>"]
        parts += ["</notifications>", "</soapenv:Body>", "</soapenv:Envelope>"]
        return "\n".join(parts).encode("utf-8")

    def _sobject(self, definition: Definition, record_id: str) -> str:
        found = self.org.store.get(record_id)  # the record as it is now, not as it was when queued
        record = found[1] if found and not found[1].get("IsDeleted") else {"Id": record_id}
        values = [f"<sf:{name}>{soap_value(record[name])}</sf:{name}>" for name in definition.fields
                  if record.get(name) is not None]
        return (f'<sObject xsi:type={quoteattr("sf:" + definition.object)} xmlns:sf="{SOBJECT_NS}">'
                + "".join(values) + "</sObject>")

    # -- admin surface ---------------------------------------------------------------------------------

    async def deliveries(self, request: Request) -> Response:
        """GET: the messages sent or still being retried, each with its notifications and attempts;
        DELETE forgets them (pending retries included)."""
        if request.method == "DELETE":
            self.clear()
        return JSONResponse({"messages": self.outbox.views()})

    def clear(self) -> None:
        with self.lock:
            self.queued.clear()
        self.outbox.clear()

    def on_reset(self, reset: AdminHandler) -> AdminHandler:
        """The org's reset also drops queued and unacknowledged messages (the definitions go with the config)."""
        def run(body: dict[str, Any]) -> Any:
            self.clear()
            return reset(body)

        return run
