"""A tiny scripted HTTPS server on loopback for the shared HTTP layer's tests.

Each test queues the answers it wants (status, headers, body, or a connection reset) and then
drives a real `ResilientSession` over TLS against it. No mocks: real sockets, real TLS, real requests.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme


@dataclass
class Scripted:
    """Answers handed out in order; the last one repeats. `seen` records (method, path, headers)."""

    answers: list[dict[str, Any]] = field(default_factory=list)
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, *answers: dict[str, Any]) -> None:
        with self.lock:
            self.answers = list(answers)
            self.seen = []

    def next(self, method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            self.seen.append((method, path, headers))
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _handler(script: Scripted) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            answer = script.next(self.command, self.path, dict(self.headers))
            if answer.get("reset"):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            body = json.dumps(answer.get("json", {})).encode()
            self.send_response(answer.get("status", 200))
            for name, value in answer.get("headers", {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    return Handler


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
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ScriptedServer(f"https://127.0.0.1:{server.server_address[1]}", str(ca_path), script)
    finally:
        server.shutdown()
        server.server_close()
