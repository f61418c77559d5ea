"""Process model shared by the emulators: `python -m emulators.<name> --port 0 --data-dir DIR`.

The process binds the port itself (0 picks a free one), then prints one line
`EMULATOR_READY {"name": ..., "url": ..., "ca_bundle": ...}` and writes the same JSON to
`DIR/endpoint.json`, so scripts and fixtures know where it listens and which CA to trust.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from emulators.common.tls import ensure_tls

AppFactory = Callable[[Path, str, argparse.Namespace], ASGIApp]


def argument_parser(name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m emulators.{name}", description=f"{name} REST API emulator")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument("--data-dir", type=Path, required=True, help="SQLite data lives here")
    parser.add_argument("--tls-dir", type=Path, default=None,
                        help="CA and server certificate (default: the data dir); share it to trust one CA")
    return parser


class _QuietInjectedResets(logging.Filter):
    """An injected `reset` fault ends the ASGI call without a response on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        # The bounded graceful shutdown below logs an error for the idle keep-alive connections it drops.
        return "without starting response" not in message and "timeout graceful shutdown exceeded" not in message


def serve(name: str, factory: AppFactory, args: argparse.Namespace) -> None:
    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    tls_dir = (args.tls_dir or data_dir).resolve()
    tls_dir.mkdir(parents=True, exist_ok=True)
    tls = ensure_tls(tls_dir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    url = f"https://{args.host}:{sock.getsockname()[1]}"
    app = factory(data_dir, url, args)
    ready = {"name": name, "url": url, "ca_bundle": str(tls.ca_bundle), "pid": os.getpid()}
    (data_dir / "endpoint.json").write_text(json.dumps(ready))
    config = uvicorn.Config(
        app,
        ssl_certfile=str(tls.server_pem),
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_keep_alive=30,
        # An idle keep-alive TLS connection would otherwise hold the exit for the SSL shutdown timeout.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    logging.getLogger("uvicorn.error").addFilter(_QuietInjectedResets())
    print("EMULATOR_READY " + json.dumps(ready), flush=True)
    sys.stdout.flush()
    server.run(sockets=[sock])

