"""A real HTTPS receiver on loopback for the emulators' outgoing deliveries (Jira webhooks, Salesforce
outbound messages): it records every request byte for byte and answers from a script, so a test can make
the first attempt fail and watch the retry arrive."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

import trustme

T = TypeVar("T")


def eventually(check: Callable[[], T | None], timeout: float = 20.0) -> T:
    """The first truthy result of `check`, polled until `timeout` (then AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "the condition the test waited for never came true"
        time.sleep(0.02)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    delay_s: float = 0.0  # hold the answer back (longer than the sender's timeout: a timed-out attempt)


class Receiver:
    def __init__(self, ca_file: Path, default: Answer) -> None:
        self.default = default
        self.script: list[Answer] = []
        self.received: list[Received] = []
        self.lock = threading.Lock()
        ca = trustme.CA(organization_name="receiver test CA")
        ca_file.write_bytes(ca.cert_pem.bytes())
        self.ca_file = str(ca_file)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                      body))
                    answer = receiver.script.pop(0) if receiver.script else receiver.default
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass  # the sender gave up waiting

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def answer(self, *answers: Answer) -> None:
        """The next requests get these answers, in order; after them, the default."""
        with self.lock:
            self.script.extend(answers)

    def wait_count(self, count: int, timeout: float = 20.0) -> list[Received]:
        """The requests received so far, once there are at least `count`."""
        def enough() -> list[Received] | None:
            with self.lock:
                return list(self.received) if len(self.received) >= count else None

        return eventually(enough, timeout)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.script.clear()


def serve(tmp_path: Path, default: Answer) -> Iterator[Receiver]:
    receiver = Receiver(tmp_path / "receiver-ca.pem", default)
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
