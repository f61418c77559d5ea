"""The ASGI app SfJiraPlugin hands to Airflow, which builds the dashboard's FastAPI app on its first request.

Airflow loads plugins in every component, task processes included, but only the api-server serves a
plugin's app. Building it lazily keeps FastAPI routes, Airflow's API security module and the metadata
models out of every other process's start-up (sfjira.dashboard.api imports them).
"""

from __future__ import annotations

import threading
from typing import Any

URL_PREFIX = "/sfjira"


class LazyDashboard:
    """An ASGI app: `sfjira.dashboard.api.create_app()` built once, then every call handed to it."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    def app(self) -> Any:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from sfjira.dashboard.api import create_app

                    self._app = create_app()
        return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app()(scope, receive, send)

    def __repr__(self) -> str:  # `airflow plugins` prints the app
        return "sfjira.dashboard.api:create_app (built on first request)"
