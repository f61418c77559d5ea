"""The ASGI apps SfJiraPlugin hands to Airflow, each building its FastAPI app on its first request.

Airflow loads plugins in every component, task processes included, but only the api-server serves a
plugin's app. Building them lazily keeps FastAPI routes, Airflow's API security module and the metadata
models out of every other process's start-up (sfjira.dashboard.api and sfjira.webhooks.app import them).
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

URL_PREFIX = "/sfjira"
WEBHOOKS_PREFIX = f"{URL_PREFIX}/webhooks"


class LazyApp:
    """An ASGI app: `factory` ("module:function") called once, then every call handed to what it built."""

    def __init__(self, factory: str) -> None:
        self.factory = factory
        self._app: Any = None
        self._lock = threading.Lock()

    def app(self) -> Any:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    module, function = self.factory.split(":")
                    self._app = getattr(importlib.import_module(module), function)()
        return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app()(scope, receive, send)

    def __repr__(self) -> str:  # `airflow plugins` prints the app
        return f"{self.factory} (built on first request)"


class LazyDashboard(LazyApp):
    def __init__(self) -> None:
        super().__init__("sfjira.dashboard.api:create_app")


class LazyWebhooks(LazyApp):
    def __init__(self) -> None:
        super().__init__("sfjira.webhooks.app:create_app")
