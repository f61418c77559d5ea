"""Fixtures for the Salesforce emulator tests: a session token, a raw REST helper, and the real clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from emulators.common.process import EmulatorProcess
from emulators.salesforce.testing import access_token

VERSION = "62.0"


class Rest:
    """Raw HTTPS calls to the emulator with a bearer token, for asserting exact statuses and bodies."""

    def __init__(self, emulator: EmulatorProcess, token: str) -> None:
        self.emulator = emulator
        self.token = token
        self.session = requests.Session()

    def __call__(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("https://") else self.emulator.url + \
            (path if path.startswith("/services") else f"/services/data/v{VERSION}{path}")
        headers = {"Authorization": f"Bearer {token or self.token}", **kwargs.pop("headers", {})}
        return self.session.request(method, url, headers=headers, verify=self.emulator.ca_bundle,
                                    timeout=kwargs.pop("timeout", 30), **kwargs)

    def create(self, sobject: str, **fields: Any) -> str:
        response = self("POST", f"/sobjects/{sobject}/", json=fields)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def get(self, sobject: str, record_id: str) -> dict[str, Any]:
        response = self("GET", f"/sobjects/{sobject}/{record_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def query(self, soql: str, all_rows: bool = False) -> dict[str, Any]:
        response = self("GET", "/queryAll/" if all_rows else "/query/", params={"q": soql})
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture(scope="session")
def sf_token(sf_emulator: EmulatorProcess) -> str:
    return access_token(sf_emulator.url, sf_emulator.ca_bundle)


@pytest.fixture
def sf(sf_emulator: EmulatorProcess, sf_token: str) -> Iterator[Rest]:
    """A clean org (reset, no faults, no latency, call counters at zero) and a REST helper for it."""
    sf_emulator.clear_faults()
    sf_emulator.clear_calls()
    sf_emulator.set_latency(0)
    sf_emulator.reset()
    yield Rest(sf_emulator, sf_token)
    sf_emulator.clear_faults()


@pytest.fixture
def simple_sf(sf_emulator: EmulatorProcess, sf_token: str, trust_emulator_ca: Path) -> Salesforce:
    """The stock simple_salesforce client given a session from our own OAuth call (certificates verified
    against the emulator CA through REQUESTS_CA_BUNDLE, as a user of the stock client would)."""
    return Salesforce(instance_url=sf_emulator.url, session_id=sf_token, version=VERSION)
