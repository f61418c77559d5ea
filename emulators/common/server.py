"""Process model shared by the emulators: `python -m emulators.<name> --port 0 --data-dir DIR`.

The process binds the port itself (0 picks a free one), then prints one line
`EMULATOR_READY {"name": ..., "url": ..., "ca_bundle": ...}` and writes the same JSON to
`DIR/endpoint.json`, so scripts and fixtures know where it listens and which CA to trust.

The emulators are test tools: they publish their credentials and let anyone reset or seed them through
`/__emulator/*`. So they bind to loopback unless `--allow-non-loopback` says otherwise (and then an admin
token is required), the admin surface takes a token (`--admin-token` or $EMULATOR_ADMIN_TOKEN), and
everything they write is owner-only (umask 077: keys and SQLite files 0600, folders 0700).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from emulators.common.files import private_dir
from emulators.common.tls import ensure_tls

ADMIN_TOKEN_ENV = "EMULATOR_ADMIN_TOKEN"

AppFactory = Callable[[Path, str, argparse.Namespace], ASGIApp]


def argument_parser(name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m emulators.{name}", description=f"{name} REST API emulator")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1); a non-loopback one needs --allow-non-loopback")
    parser.add_argument("--allow-non-loopback", action="store_true",
                        help="bind a non-loopback --host anyway. This is a test tool with published credentials: "
                             "never on an exposed network. Requires --admin-token")
    parser.add_argument("--admin-token", default=os.environ.get(ADMIN_TOKEN_ENV) or None,
                        help=f"require this token on /__emulator/* (Authorization: Bearer TOKEN or "
                             f"X-Emulator-Admin-Token: TOKEN); default ${ADMIN_TOKEN_ENV}, else no token")
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


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost: it may resolve anywhere
        return False


def check_bind(args: argparse.Namespace) -> None:
    """Exits (status 2) when the bind address is not loopback and nobody said so explicitly."""
    if is_loopback(args.host):
        return
    if not args.allow_non_loopback:
        _refuse(f"--host {args.host} is not a loopback address: the emulators are test tools with published "
                f"credentials and an open admin surface, not for exposed networks. Bind 127.0.0.1, or pass "
                f"--allow-non-loopback (with --admin-token) if you really mean it")
    if not args.admin_token:
        _refuse(f"--allow-non-loopback needs --admin-token (or ${ADMIN_TOKEN_ENV}): anyone who can reach "
                f"{args.host} could otherwise reset, seed and read the emulator's credentials")


def _advertised(host: str) -> str:
    """The host in the printed URL: 0.0.0.0 is no address to connect to; loopback is, and the certificate has it."""
    try:
        return "127.0.0.1" if ipaddress.ip_address(host).is_unspecified else host
    except ValueError:
        return host


def _refuse(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def serve(name: str, factory: AppFactory, args: argparse.Namespace) -> None:
    check_bind(args)
    os.umask(0o077)  # this process's SQLite files, WAL, keys and endpoint.json: owner-only
    data_dir: Path = private_dir(args.data_dir.resolve())
    tls_dir = private_dir((args.tls_dir or data_dir).resolve())
    tls = ensure_tls(tls_dir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    url = f"https://{_advertised(args.host)}:{sock.getsockname()[1]}"
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

