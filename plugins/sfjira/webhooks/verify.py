"""Who may post to the receiver, and what their deliveries say: pure checks, no Airflow, no I/O.

Jira signs each delivery with the webhook's secret (`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw
body>`). Salesforce outbound messages cannot sign: the endpoint URL configured in Salesforce carries a shared
secret (`?token=`, a query parameter Airflow's access log redacts by its name), and the message's
OrganizationId must be the org's. Secrets are compared in constant time (hmac.compare_digest).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET  # authenticated senders only; DTDs are refused before parsing
from dataclasses import dataclass, field

from sfjira.exceptions import SfJiraError
from sfjira.identity.keys import ISSUE_ID, is_jira_key

MAX_BODY_BYTES = 4 * 1024 * 1024
"""Larger than any Jira issue event or 100-notification Salesforce message the shipped mappings produce."""

OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
_LOGGABLE = re.compile(r"[^A-Za-z0-9._:@-]")
MAPPING_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")  # the mapping schema's `name` (sfjira.mapping.model)


class WebhookRejected(SfJiraError):
    """A request the receiver refuses; `status` is the HTTP answer. The message never holds a secret."""

    code = "WEBHOOK_REJECTED"

    def __init__(self, status: int, message: str, *, code: str, fix: str = "", transient: bool = False) -> None:
        super().__init__(message, code=code, fix=fix, transient=transient)
        self.status = status


def too_large(size: int | None = None) -> WebhookRejected:
    got = f" ({size} bytes)" if size is not None else ""
    return WebhookRejected(413, f"the body is larger than {MAX_BODY_BYTES} bytes{got}", code="WEBHOOK_BODY_TOO_LARGE",
                           fix="send smaller deliveries (fewer notifications per message, excludeBody for Jira)")


def not_configured(conn_id: str, what: str) -> WebhookRejected:
    return WebhookRejected(403, f"the receiver has no {what}: Airflow connection {conn_id}",
                           code="WEBHOOK_NOT_CONFIGURED",
                           fix=f"create the Airflow connection {conn_id} (README, 'Webhooks (near-real-time)')")


def loggable(value: str | None, limit: int = 80) -> str:
    """A sender-chosen string (delivery id, mapping) safe for one log line."""
    return _LOGGABLE.sub("?", value or "-")[:limit]


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def check_jira_signature(secret: str, body: bytes, header: str | None) -> None:
    if not header:
        raise WebhookRejected(401, "the delivery is not signed (no X-Hub-Signature header)", code="WEBHOOK_UNSIGNED",
                              fix="give the Jira webhook the secret of the connection sfjira_webhook_jira")
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(header.encode("latin-1", "replace"), expected.encode()):
        raise WebhookRejected(403, "the delivery's signature does not match", code="WEBHOOK_SIGNATURE_INVALID",
                              fix="set the same secret in the Jira webhook and the connection sfjira_webhook_jira")


def check_token(secret: str, given: str | None) -> None:
    if not given:
        raise WebhookRejected(401, "the request carries no token", code="WEBHOOK_UNSIGNED",
                              fix="end the outbound message's endpoint URL with ?token=<the connection's password>")
    if not hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode()):
        raise WebhookRejected(403, "the request's token does not match", code="WEBHOOK_SIGNATURE_INVALID",
                              fix="use the password of the connection sfjira_webhook_salesforce as ?token=")


def same_org(expected: str, given: str) -> bool:
    """Salesforce ids come in 15 (case-sensitive) and 18 characters (with a checksum suffix)."""
    return len(expected) >= 15 and hmac.compare_digest(expected[:15].encode(), given[:15].encode())


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    action_id: str
    notification_ids: list[str]
    record_ids: list[str] = field(default_factory=list)
    object: str = ""


@dataclass(frozen=True)
class DeletedIssue:
    """The issue a `jira:issue_deleted` delivery names: its id and key where each has the right shape."""

    jira_id: str | None
    jira_key: str | None


def deleted_issue(event: dict[str, object]) -> DeletedIssue | None:
    """The issue of a `jira:issue_deleted` event, or None (another event, or neither id nor key well-formed:
    values from the payload are data, never used unchecked)."""
    if event.get("webhookEvent") != "jira:issue_deleted":
        return None
    issue = event.get("issue")
    if not isinstance(issue, dict):
        return None
    raw_id, raw_key = issue.get("id"), issue.get("key")
    jira_id = str(raw_id) if isinstance(raw_id, str | int) and ISSUE_ID.fullmatch(str(raw_id)) else None
    jira_key = raw_key if is_jira_key(raw_key) else None
    return DeletedIssue(jira_id, jira_key) if jira_id or jira_key else None


def invalid_body(what: str) -> WebhookRejected:
    return WebhookRejected(400, f"the body is not {what}", code="WEBHOOK_BODY_INVALID",
                           fix="send the sender's own payload unchanged")


def parse_outbound(body: bytes) -> OutboundMessage:
    """The SOAP `notifications` call (Salesforce SOAP API Developer Guide, Outbound Messaging WSDL)."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise invalid_body("a SOAP message (a DTD is not allowed)")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as err:
        raise invalid_body("XML") from err
    found = root.find(f".//{{{OUTBOUND_NS}}}notifications")
    if found is None:
        raise invalid_body("an outbound message (no notifications element)")
    ids, records, objects = [], [], set()
    for note in found.findall(f"{{{OUTBOUND_NS}}}Notification"):
        ids.append((note.findtext(f"{{{OUTBOUND_NS}}}Id") or "").strip())
        sobject = note.find(f"{{{OUTBOUND_NS}}}sObject")
        if sobject is not None:
            records.append((sobject.findtext(f"{{{SOBJECT_NS}}}Id") or "").strip())
            kind = sobject.get("{http://www.w3.org/2001/XMLSchema-instance}type", "")
            objects.add(kind.split(":")[-1])
    if not ids or not all(ids):
        raise invalid_body("an outbound message (a notification without an Id)")
    return OutboundMessage(organization_id=(found.findtext(f"{{{OUTBOUND_NS}}}OrganizationId") or "").strip(),
                           action_id=(found.findtext(f"{{{OUTBOUND_NS}}}ActionId") or "").strip(),
                           notification_ids=ids, record_ids=[r for r in records if r],
                           object=",".join(sorted(o for o in objects if o)))


ACK = (b'<?xml version="1.0" encoding="UTF-8"?>'
       b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
       b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>'
       b'</notificationsResponse></soapenv:Body></soapenv:Envelope>')
"""The acknowledgement Salesforce needs, or it sends the message again."""
