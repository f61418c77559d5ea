"""The scripted server (tests/sfjira/scripted_http.py) over TLS, for the shared HTTP layer's tests:
each test queues its answers and drives a real `ResilientSession` against it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.sfjira.scripted_http import Scripted, serving


@dataclass
class ScriptedServer:
    url: str
    ca_bundle: str
    script: Scripted


@pytest.fixture(scope="module")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    ca = trustme.CA(organization_name="sfjira http tests")
    path = tmp_path_factory.mktemp("http-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


@pytest.fixture(scope="module")
def scripted_server(tls_ca: tuple[trustme.CA, Path]) -> Iterator[ScriptedServer]:
    ca, ca_path = tls_ca
    script = Scripted()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with serving(script, context) as url:
        yield ScriptedServer(url, str(ca_path), script)
