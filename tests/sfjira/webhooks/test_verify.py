"""The receiver's checks on their own: Jira's signature, Salesforce's token, org id and SOAP message."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from sfjira.webhooks import verify
from sfjira.webhooks.verify import WebhookRejected

SECRET = "s3cret-for-tests"
BODY = b'{"webhookEvent": "jira:issue_updated"}'


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def refused(call: object, *args: object) -> WebhookRejected:
    with pytest.raises(WebhookRejected) as caught:
        call(*args)  # type: ignore[operator]
    assert SECRET not in str(caught.value)
    return caught.value


def test_jira_signature() -> None:
    verify.check_jira_signature(SECRET, BODY, signed(BODY))
    assert (refused(verify.check_jira_signature, SECRET, BODY, None).status,
            refused(verify.check_jira_signature, SECRET, BODY, "").code) == (401, "WEBHOOK_UNSIGNED")
    for wrong in (signed(BODY, "other"), signed(BODY + b" "), signed(BODY).replace("sha256", "sha1"), "sha256=ü"):
        err = refused(verify.check_jira_signature, SECRET, BODY, wrong)
        assert (err.status, err.code) == (403, "WEBHOOK_SIGNATURE_INVALID")


def test_salesforce_token_and_org() -> None:
    verify.check_token(SECRET, SECRET)
    assert refused(verify.check_token, SECRET, None).status == 401
    assert refused(verify.check_token, SECRET, SECRET[:-1]).status == 403
    assert verify.same_org("00DKj0000000001", "00DKj0000000001AAA")
    assert verify.same_org("00DKj0000000001AAA", "00DKj0000000001")
    assert not verify.same_org("00DKj0000000002", "00DKj0000000001AAA")
    assert not verify.same_org("", "")


MESSAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound">
<OrganizationId>00DKj0000000001AAA</OrganizationId><ActionId>04kKj0000000001AAA</ActionId>
<SessionId xsi:nil="true"/>
<Notification><Id>04lKj0000000001AAA</Id><sObject xsi:type="sf:Opportunity"
  xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>006Kj0000000001AAA</sf:Id><sf:Name>A</sf:Name></sObject>
</Notification>
<Notification><Id>04lKj0000000002AAA</Id><sObject xsi:type="sf:Opportunity"
  xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>006Kj0000000002AAA</sf:Id></sObject></Notification>
</notifications></soapenv:Body></soapenv:Envelope>"""


def test_an_outbound_message_is_read() -> None:
    message = verify.parse_outbound(MESSAGE)
    assert message.organization_id == "00DKj0000000001AAA" and message.action_id == "04kKj0000000001AAA"
    assert message.notification_ids == ["04lKj0000000001AAA", "04lKj0000000002AAA"]
    assert message.record_ids == ["006Kj0000000001AAA", "006Kj0000000002AAA"]
    assert message.object == "Opportunity"


@pytest.mark.parametrize("body", [b"not xml", b"<a/>", MESSAGE.replace(b"<Id>04lKj0000000002AAA</Id>", b""),
                                  b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'])
def test_anything_else_is_a_bad_body(body: bytes) -> None:
    err = refused(verify.parse_outbound, body)
    assert (err.status, err.code) == (400, "WEBHOOK_BODY_INVALID")


def test_sender_strings_are_logged_tamed() -> None:
    assert verify.loggable("abc\nFAKE LOG LINE") == "abc?FAKE?LOG?LINE"
    assert len(verify.loggable("x" * 500)) == 80
    assert verify.loggable(None) == "-"


def test_a_deleted_issue_is_read_only_from_a_delete_event_with_well_formed_ids() -> None:
    from sfjira.webhooks.verify import DeletedIssue, deleted_issue

    event = {"webhookEvent": "jira:issue_deleted", "issue": {"id": "10001", "key": "SUP-1"}}
    assert deleted_issue(event) == DeletedIssue("10001", "SUP-1")
    assert deleted_issue({**event, "webhookEvent": "jira:issue_updated"}) is None
    assert deleted_issue({**event, "issue": {"id": 10001, "key": "sup-1"}}) == DeletedIssue("10001", None)
    assert deleted_issue({**event, "issue": {"id": "1 OR 1=1", "key": "SUP-1/../2"}}) is None
    assert deleted_issue({**event, "issue": ["SUP-1"]}) is None
