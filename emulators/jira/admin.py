"""Emulator-specific admin actions under /__emulator/: reset, seed, config, set_updated, state; and the
credentials it has accepted (GET /__emulator/credentials)."""

from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulators.common.control import Secret
from emulators.jira.context import Env
from emulators.jira.ratelimit import RateLimiter
from emulators.jira.seed import Seeder, SeedParams
from emulators.jira.settings import Settings
from emulators.jira.timefmt import format_ms, parse_ms
from emulators.jira.webhooks import Registry


class Admin:
    def __init__(self, env: Env, limiter: RateLimiter, cli_mode: str | None) -> None:
        self.env = env
        self.limiter = limiter
        self.cli_mode = cli_mode
        self.accepted: dict[tuple[str, str], None] = {}  # (kind, value) ever configured, in order
        self._remember_credentials()

    def handlers(self) -> dict[str, Any]:
        return {"reset": self.reset, "seed": self.seed, "config": self.config, "set_updated": self.set_updated,
                "state": self.state}

    def reset(self, body: dict[str, Any]) -> dict[str, Any]:
        """Drop all data; settings go back to the defaults too unless {"keep_config": true}."""
        self.env.store.clear()
        if self.env.webhooks:
            self.env.webhooks.outbox.clear()
        if not body.get("keep_config"):
            self.env.settings = Settings(mode=self.cli_mode) if self.cli_mode else Settings()
            self.env.save_settings()
            Registry(self.env.store).clear()
        self.limiter.reset()
        self._remember_credentials()
        return {"ok": True, "config": self.env.settings.to_dict()}

    def seed(self, body: dict[str, Any]) -> dict[str, Any]:
        params = SeedParams.from_body(body)
        return Seeder(self.env.store, self.env.directory.me.account_id, params).run()

    def config(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change settings (an empty body just reads them); the rate-limit window restarts."""
        if body:
            self.env.settings.apply(body)
            self.env.save_settings()
            self.limiter.reset()
            self._remember_credentials()
        return self.env.settings.to_dict()

    def set_updated(self, body: dict[str, Any]) -> dict[str, Any]:
        """Pin an issue's `updated` (and optionally `created`): {"key": "SUP-1", "updated": "<ISO instant>"}."""
        store = self.env.store
        issue = store.find_issue(str(body["key"]))
        if issue is None:
            raise ValueError(f"no issue {body['key']!r}")
        with store.tx():
            issue.updated = parse_ms(str(body["updated"]))
            if body.get("created"):
                issue.created = parse_ms(str(body["created"]))
            store.save_issue(issue)
            store.note_written(issue.updated)
        tz = self.env.settings.tz
        return {"key": issue.key, "created": format_ms(issue.created, tz), "updated": format_ms(issue.updated, tz)}

    def state(self, body: dict[str, Any]) -> dict[str, Any]:
        rows = self.env.store.conn.execute("SELECT project, count(*) FROM issues GROUP BY project").fetchall()
        return {"issues": {p: n for p, n in rows}, "total": sum(n for _, n in rows),
                "server_time": format_ms(self.env.store.now_ms(), self.env.settings.tz)}

    async def webhook_deliveries(self, request: Request) -> Response:
        """GET: every webhook delivery still remembered, oldest first, each with its attempts
        ({"retry", "t", "status", "error", "outcome"}); DELETE forgets them (pending retries included)."""
        hub = self.env.webhooks
        if hub is None:
            return JSONResponse({"deliveries": []})
        if request.method == "DELETE":
            hub.outbox.clear()
        return JSONResponse({"deliveries": hub.outbox.views()})

    def credentials(self) -> list[Secret]:
        """Every secret credential accepted since the process started: API token, OAuth token, PAT,
        password, the Basic header values a client sends for the two Basic logins, and the secrets of
        the registered webhooks."""
        hooks = [("webhook_secret", s) for s in Registry(self.env.store).secrets()]
        return [{"kind": kind, "value": value} for kind, value in [*self.accepted, *hooks]]

    def _remember_credentials(self) -> None:
        creds = self.env.settings.credentials
        for kind, value in (("api_token", creds.cloud_api_token), ("oauth_token", creds.cloud_oauth_token),
                            ("pat", creds.dc_pat), ("password", creds.dc_password),
                            ("basic_auth", _basic(creds.cloud_email, creds.cloud_api_token)),
                            ("basic_auth", _basic(creds.dc_username, creds.dc_password))):
            self.accepted[(kind, value)] = None


def _basic(user: str, secret: str) -> str:
    return base64.b64encode(f"{user}:{secret}".encode()).decode()
