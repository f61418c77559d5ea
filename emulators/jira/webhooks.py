"""Admin webhooks: the registry behind Jira's `/rest/webhooks/1.0/webhook` (Cloud and Data Center).

A webhook is {name, url, events, filters: {"issue-related-events-section": JQL}, excludeBody, enabled,
secret}. The secret is write-only: it signs deliveries (`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the
raw body>`) and is never shown again, as in Jira. The JQL is checked with the emulator's own parser when
the webhook is saved, so a bad filter is a 400 then and not a silent non-delivery later. Webhooks are
site configuration: kept in SQLite across restarts, dropped by `reset` unless {"keep_config": true}.
What happens when an event fires is in webhook_delivery.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response

from emulators.jira.context import Call
from emulators.jira.errors import JiraError, JiraJSON, bad_request
from emulators.jira.search_api import compile_jql
from emulators.jira.store import Store

JQL_FILTER = "issue-related-events-section"
META_KEY = "webhooks"
# Events Jira Cloud lets an admin webhook subscribe to that touch issues. The emulator fires the first six
# (see webhook_delivery.py); the others are accepted, as Jira would, and never fire.
FIRED_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created",
                "comment_updated", "comment_deleted")
SILENT_EVENTS = ("worklog_created", "worklog_updated", "worklog_deleted", "issuelink_created",
                 "issuelink_deleted", "attachment_created", "attachment_deleted", "issue_property_set",
                 "issue_property_deleted")
KNOWN_EVENTS = (*FIRED_EVENTS, *SILENT_EVENTS)
NOT_FOUND = "Webhook with id '{0}' does not exist."


@dataclass
class Webhook:
    id: int
    name: str
    url: str
    events: list[str]
    jql: str = ""
    exclude_body: bool = False
    enabled: bool = True
    secret: str = ""
    updated_by: str = ""
    updated_ms: int = 0

    def wants(self, event: str) -> bool:
        return self.enabled and event in self.events


class Registry:
    """Webhooks in the `meta` table as one JSON document: a handful of rows, read on every event."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def all(self) -> list[Webhook]:
        data = self.store.meta_get(META_KEY, {"hooks": []})
        return [Webhook(**raw) for raw in data["hooks"]]

    def get(self, hook_id: str) -> Webhook:
        found = next((h for h in self.all() if str(h.id) == hook_id), None)
        if found is None:
            raise JiraError(404, [NOT_FOUND.format(hook_id)])
        return found

    def save(self, hook: Webhook | None, drop: int | None = None) -> Webhook | None:
        """Insert (id 0 takes the next id) or replace `hook`; `drop` deletes that id."""
        data = self.store.meta_get(META_KEY, {"hooks": [], "next_id": 1})
        hooks = [h for h in data["hooks"] if h["id"] not in (drop, hook.id if hook else None)]
        if hook is not None:
            if not hook.id:
                hook.id = int(data.get("next_id", 1))
                data["next_id"] = hook.id + 1
            hooks.append(asdict(hook))
        data["hooks"] = sorted(hooks, key=lambda h: h["id"])
        with self.store.tx():
            self.store.meta_set(META_KEY, data)
        return hook

    def clear(self) -> None:
        with self.store.tx():
            self.store.meta_set(META_KEY, {"hooks": [], "next_id": 1})

    def secrets(self) -> list[str]:
        return [h.secret for h in self.all() if h.secret]


# -- REST --------------------------------------------------------------------------------------------------

def render(call: Call, hook: Webhook) -> dict[str, Any]:
    me = call.me
    return {"name": hook.name, "url": hook.url, "excludeBody": hook.exclude_body,
            "filters": {JQL_FILTER: hook.jql}, "events": hook.events, "enabled": hook.enabled,
            "self": f"{call.env.base_url}/rest/webhooks/1.0/webhook/{hook.id}",
            "lastUpdatedUser": hook.updated_by, "lastUpdatedDisplayName": me.display_name,
            "lastUpdated": hook.updated_ms}


def _read(call: Call, body: dict[str, Any], hook: Webhook) -> Webhook:
    """Apply a create/update body onto `hook`, with Jira-style 400s for what it cannot accept."""
    if "name" in body or not hook.name:
        hook.name = _text(body.get("name"), "name")
    if "url" in body or not hook.url:
        hook.url = _text(body.get("url"), "url")
        parts = urlsplit(hook.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise bad_request(f"The webhook URL '{hook.url}' is not a valid http(s) URL.")
    if "events" in body or not hook.events:
        events = body.get("events")
        if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
            raise bad_request("Specify at least one event, e.g. [\"jira:issue_updated\"].")
        unknown = [e for e in events if e not in KNOWN_EVENTS]
        if unknown:
            raise bad_request(f"Unknown webhook events {unknown}; known: {', '.join(KNOWN_EVENTS)}.")
        hook.events = list(dict.fromkeys(events))
    filters = body.get("filters")
    if filters is not None:
        if not isinstance(filters, dict) or not isinstance(filters.get(JQL_FILTER, ""), str):
            raise bad_request(f"'filters' must be an object such as {{\"{JQL_FILTER}\": \"project = SUP\"}}.")
        hook.jql = filters.get(JQL_FILTER, "").strip()
        if hook.jql:
            compile_jql(call, hook.jql)  # a 400 with Jira's JQL message when it does not parse
    for key, attr in (("excludeBody", "exclude_body"), ("enabled", "enabled")):
        if key in body:
            if not isinstance(body[key], bool):
                raise bad_request(f"'{key}' must be true or false.")
            setattr(hook, attr, body[key])
    if "secret" in body:
        hook.secret = "" if body["secret"] is None else _text(body["secret"], "secret")
    hook.updated_by, hook.updated_ms = call.me.account_id, call.store.now_ms()
    return hook


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"The webhook '{name}' must be a non-empty string.")
    return value.strip()


async def create(call: Call) -> Response:
    hook = _read(call, await call.json_object(), Webhook(0, "", "", []))
    Registry(call.store).save(hook)
    return JiraJSON(render(call, hook), status_code=201)


async def list_all(call: Call) -> Response:
    return JiraJSON([render(call, h) for h in Registry(call.store).all()])


async def get_one(call: Call) -> Response:
    return JiraJSON(render(call, Registry(call.store).get(call.path("id"))))


async def update(call: Call) -> Response:
    body = await call.json_object()
    registry = Registry(call.store)
    hook = _read(call, body, registry.get(call.path("id")))
    registry.save(hook)
    return JiraJSON(render(call, hook))


async def delete(call: Call) -> Response:
    registry = Registry(call.store)
    hook = registry.get(call.path("id"))
    registry.save(None, drop=hook.id)
    return Response(status_code=204)
