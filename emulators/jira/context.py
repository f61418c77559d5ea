"""What every handler gets: the emulator environment and the current call (API version, query, body)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from emulators.jira.errors import bad_request
from emulators.jira.settings import Settings
from emulators.jira.store import Store
from emulators.jira.timefmt import format_ms
from emulators.jira.users import Directory, User, api_user, render_user

if TYPE_CHECKING:
    from emulators.jira.webhook_delivery import WebhookHub


@dataclass
class Env:
    store: Store
    settings: Settings
    base_url: str
    webhooks: WebhookHub | None = None  # set by the app; None: writes fire no webhooks

    @property
    def directory(self) -> Directory:
        return Directory(api_user(self.settings.credentials.cloud_email, self.settings.time_zone))

    def save_settings(self) -> None:
        with self.store.tx():
            self.store.meta_set("settings", self.settings.to_dict(masked=False))
        self.store.clock_offset_ms = int(self.settings.clock_offset_s * 1000)


@dataclass
class Call:
    request: Request
    env: Env
    version: int

    @property
    def store(self) -> Store:
        return self.env.store

    @property
    def settings(self) -> Settings:
        return self.env.settings

    @property
    def cloud(self) -> bool:
        return self.env.settings.cloud

    @property
    def rich_text(self) -> bool:
        """v3 speaks Atlassian Document Format; v2 speaks plain strings."""
        return self.version == 3

    @property
    def me(self) -> User:
        return self.env.directory.me

    def api(self, path: str) -> str:
        return f"{self.env.base_url}/rest/api/{self.version}/{path}"

    def ts(self, ms: int | None) -> str | None:
        return None if ms is None else format_ms(ms, self.settings.tz)

    def user(self, account_id: str | None) -> dict[str, Any] | None:
        found = self.env.directory.by_account_id(account_id) if account_id else None
        return render_user(found, self.env.base_url, self.cloud, self.version)

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    def param(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def list_param(self, name: str) -> list[str] | None:
        """A comma-separated and/or repeated query parameter, or None when absent."""
        raw = self.request.query_params.getlist(name)
        if not raw:
            return None
        return [part.strip() for value in raw for part in value.split(",") if part.strip()]

    def int_param(self, name: str, default: int) -> int:
        raw = self.param(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise bad_request(f"The '{name}' parameter must be an integer, got '{raw}'.") from None

    def bool_param(self, name: str, default: bool = False) -> bool:
        raw = self.param(name)
        return default if raw is None else raw.lower() == "true"

    async def json(self, required: bool = True) -> Any:
        raw = await self.request.body()
        if not raw.strip():
            if required:
                raise bad_request("No content to map due to end-of-input")
            return None
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise bad_request(f"Unexpected character in the request body: it is not valid JSON ({exc}).") from None

    async def json_object(self) -> dict[str, Any]:
        body = await self.json()
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        return body
