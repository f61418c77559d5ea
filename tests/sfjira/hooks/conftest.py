"""Connections for the hook integration tests: `AIRFLOW_CONN_<ID>` JSON env vars pointing at the
emulator processes (from tests/conftest.py), the way a deployment would define them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulators.common.process import EmulatorProcess
from emulators.jira import defaults as jira_defaults
from emulators.salesforce import defaults as sf_defaults

# Fast retries so fault tests take milliseconds, not seconds.
FAST_RETRY = {"retry_base_delay": 0.02, "retry_max_delay": 0.1, "retry_max_total": 10}

ConnFactory = Callable[..., str]


def _set_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, body: dict[str, Any]) -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(body))
    return conn_id


@pytest.fixture
def sf_conn(sf_emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> ConnFactory:
    """`sf_conn(grant, login=..., password=..., **extras)` -> a connection id for SalesforceSyncHook."""

    def make(grant: str = "client_credentials", *, conn_id: str = "sf_test", login: str | None = None,
             password: str | None = None, **extras: Any) -> str:
        extra = {"grant_type": grant, "instance_url": sf_emulator.url, "ca_bundle": sf_emulator.ca_bundle,
                 **FAST_RETRY, **extras}
        if grant in ("client_credentials", "password", "refresh_token"):
            extra.setdefault("client_id", sf_defaults.CLIENT_ID)
            extra.setdefault("client_secret", sf_defaults.CLIENT_SECRET)
        if grant == "jwt_bearer":
            extra.setdefault("consumer_key", sf_defaults.CLIENT_ID)
            extra.setdefault("private_key_file_path", str(sf_emulator.data_dir / "jwt_private_key.pem"))
        if grant in ("password", "jwt_bearer"):
            login = login or sf_defaults.USERNAME
        if grant == "password":
            password = password or sf_defaults.PASSWORD
        return _set_conn(monkeypatch, conn_id, {"conn_type": "salesforce", "login": login, "password": password,
                                                "extra": extra})

    return make


@pytest.fixture
def jira_conn(jira_emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnFactory]:
    """`jira_conn(mode, auth, **extras)` -> a connection id for JiraSyncHook against the emulator in `mode`."""

    def make(mode: str = "cloud", auth: str = "basic", *, conn_id: str = "jira_test", **extras: Any) -> str:
        jira_emulator.configure(mode=mode)
        d = jira_defaults
        if mode == "cloud":
            login, password = d.CLOUD_EMAIL, {"basic": d.CLOUD_API_TOKEN, "oauth": d.CLOUD_OAUTH_TOKEN}[auth]
        else:
            login, password = d.DC_USERNAME, {"basic": d.DC_PASSWORD, "pat": d.DC_PAT}[auth]
        extra = {"auth": auth, "ca_bundle": jira_emulator.ca_bundle, **FAST_RETRY, **extras}
        return _set_conn(monkeypatch, conn_id, {"conn_type": "jira", "host": jira_emulator.url, "login": login,
                                                "password": password, "extra": extra})

    yield make
    jira_emulator.configure(mode=jira_defaults.DEFAULT_MODE)
