"""Firing admin webhooks the way Jira Cloud delivers them.

The REST handlers call the functions at the bottom from the same paths that change the data (issue create,
edit, transition, delete; comment add, edit, delete), after the write committed -- a delete before, while
the issue can still be rendered and matched. For every enabled webhook that subscribes to the event and
whose JQL filter matches the issue (run by the emulator's own JQL engine), a delivery is queued:

- body: `{"timestamp", "webhookEvent", "issue_event_type_name", "user", "issue", "changelog": {"id",
  "items": [...]}, "comment"}` for `jira:issue_*` events; `{"timestamp", "webhookEvent", "comment",
  "issue": {id, key, self, fields: {summary, status, priority, issuetype}}}` for `comment_*` events.
  Issues and comments are rendered as REST v2 renders them (plain-text descriptions), as Jira does;
  `excludeBody` sends an empty body;
- headers: `X-Atlassian-Webhook-Identifier` (one per delivery, the same on every retry),
  `X-Atlassian-Webhook-Retry: <n>` on the n-th retry only, `X-Atlassian-Webhook-Flow: Primary`, and with a
  secret `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>`;
- retries (emulators/common/outbox.py) on 408, 409, 425, 429, 5xx, timeouts and failed connections, on the
  `webhook_delivery` schedule from the settings; any other status ends the delivery. Several deliveries
  run at once (and `shuffle_s` delays each first send at random), so there is no ordering guarantee.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

from emulators.common.outbox import FAIL, OK, RETRY, Message, Outbox
from emulators.jira import render
from emulators.jira.context import Call, Env
from emulators.jira.errors import JiraError
from emulators.jira.search_api import compile_jql
from emulators.jira.store import Comment, Issue
from emulators.jira.webhooks import Registry, Webhook

RETRIED_STATUSES = (408, 409, 425, 429)


def judge(status: int | None, _: bytes) -> str:
    if status is not None and 200 <= status < 300:
        return OK
    if status is None or status in RETRIED_STATUSES or status >= 500:
        return RETRY
    return FAIL


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookHub:
    """One per emulator process: matches events to webhooks and hands deliveries to the outbox."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.outbox = Outbox(lambda: env.settings.webhook_delivery)

    def publish(self, call: Call, event: str, issue: Issue, type_name: str | None = None,
                items: list[dict[str, Any]] | None = None, comment: Comment | None = None) -> None:
        hooks = [h for h in Registry(call.store).all() if h.wants(event)]
        if not hooks:
            return
        current = call.store.find_issue(str(issue.id)) or issue  # after the write; a deleted one as it was
        hooks = [h for h in hooks if self._matches(call, h, current)]
        if not hooks:
            return
        payload = _payload(call, event, current, type_name, items, comment)
        for hook in hooks:
            self._queue(hook, event, current, b"" if hook.exclude_body else _dumps(payload))

    def _matches(self, call: Call, hook: Webhook, issue: Issue) -> bool:
        if not hook.jql:
            return True
        try:
            query = compile_jql(call, hook.jql)
        except JiraError:  # e.g. `key = SUP-9` once SUP-9 is gone: Jira's JQL would fail to match too
            return False
        return call.store.count(f"({query.where}) AND i.id = ?", [*query.params, issue.id]) > 0

    def _queue(self, hook: Webhook, event: str, issue: Issue, body: bytes) -> None:
        identifier = str(uuid.uuid4())
        secret = hook.secret

        def build(retry: int) -> tuple[bytes, dict[str, str]]:
            headers = {"Content-Type": "application/json; charset=UTF-8",
                       "X-Atlassian-Webhook-Identifier": identifier, "X-Atlassian-Webhook-Flow": "Primary"}
            if retry:
                headers["X-Atlassian-Webhook-Retry"] = str(retry)
            if secret:
                headers["X-Hub-Signature"] = signature(secret, body)
            return body, headers

        info = {"webhook_id": hook.id, "event": event, "issue": issue.key, "bytes": len(body)}
        self.outbox.submit(Message(identifier, hook.url, build, judge, info))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _payload(call: Call, event: str, issue: Issue, type_name: str | None, items: list[dict[str, Any]] | None,
             comment: Comment | None) -> dict[str, Any]:
    v2 = Call(call.request, call.env, 2)  # webhook bodies carry REST v2 representations
    body: dict[str, Any] = {"timestamp": call.store.now_ms(), "webhookEvent": event}
    if not event.startswith("jira:"):
        body["comment"] = render.comment(v2, comment) if comment else None
        body["issue"] = render.linked_issue(v2, issue)
        return body
    body["issue_event_type_name"] = type_name
    body["user"] = v2.user(call.me.account_id)
    renderer = render.IssueRenderer(v2, [issue], render.select_fields(None, "*all"), set())
    body["issue"] = renderer.render(issue)
    if items:
        histories = call.store.histories_for([issue.id]).get(issue.id, [])
        body["changelog"] = {"id": str(histories[-1].id) if histories else None, "items": items}
    if comment is not None:
        body["comment"] = render.comment(v2, comment)
    return body


# -- called from the REST handlers -------------------------------------------------------------------------

def _hub(call: Call) -> WebhookHub | None:
    return call.env.webhooks


def issue_created(call: Call, issue: Issue) -> None:
    if hub := _hub(call):
        hub.publish(call, "jira:issue_created", issue, "issue_created")


def issue_updated(call: Call, issue: Issue, items: list[dict[str, Any]], comments: list[Comment]) -> None:
    """An edit or transition: one `jira:issue_updated` with the changelog, and `comment_created` for each
    comment it added (`update.comment`)."""
    hub = _hub(call)
    if hub is None:
        return
    fields = {i.get("fieldId") for i in items}
    type_name = ("issue_generic" if "status" in fields else "issue_assigned" if fields == {"assignee"}
                 else "issue_updated" if items else "issue_commented")
    hub.publish(call, "jira:issue_updated", issue, type_name, items, comments[0] if not items and comments else None)
    for comment in comments:
        hub.publish(call, "comment_created", issue, comment=comment)


def issue_deleted(call: Call, issue: Issue) -> None:
    """Call before deleting: the filter and the payload need the issue as it was."""
    if hub := _hub(call):
        hub.publish(call, "jira:issue_deleted", issue, "issue_deleted")


COMMENT_TYPES = {"comment_created": "issue_commented", "comment_updated": "issue_comment_edited",
                 "comment_deleted": "issue_comment_deleted"}


def comment_changed(call: Call, event: str, issue: Issue, comment: Comment) -> None:
    """A comment added, edited or deleted through the comment resource: Jira sends the `comment_*` event
    and a `jira:issue_updated` whose issue_event_type_name says what happened."""
    if hub := _hub(call):
        hub.publish(call, event, issue, comment=comment)
        hub.publish(call, "jira:issue_updated", issue, COMMENT_TYPES[event], comment=comment)
