"""A tiny scripted HTTP(S) server on loopback: real sockets, real requests, no mocks.

Each test queues the answers it wants (status, headers, JSON body, or a connection reset). The
server records every request it received -- method, path and headers in `seen`, bodies in `bodies`
-- so a test can prove what was, or was not, sent to it.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Scripted:
    """Answers handed out in order; the last one repeats."""

    answers: list[dict[str, Any]] = field(default_factory=lambda: [{}])
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, *answers: dict[str, Any]) -> None:
        with self.lock:
            self.answers = list(answers)
            self.seen = []
            self.bodies = []

    def next(self, method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        with self.lock:
            self.seen.append((method, path, headers))
            self.bodies.append(body)
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _handler(script: Scripted) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            answer = script.next(self.command, self.path, dict(self.headers), self.rfile.read(length))
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


@contextmanager
def serving(script: Scripted, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve `script` on 127.0.0.1 (over TLS when given a server context); yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
