"""Start an emulator as a real process and talk to its admin surface (tests, demo, benchmarks)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from emulators.common.control import ADMIN_TOKEN_HEADER
from emulators.common.server import ADMIN_TOKEN_ENV

READY = "EMULATOR_READY "


class EmulatorProcess:
    """One emulator process on loopback. `start()` blocks until it prints its URL.

    Its admin surface is locked with `admin_token` (a random one unless given; kept across restarts),
    handed over in the environment rather than on the command line, where other users could read it.
    `new_session` keeps it out of the terminal's process group, so a Ctrl-C reaches only the program
    that started it, which stops it in its own time (`make airflow`)."""

    def __init__(self, module: str, data_dir: Path, port: int = 0, extra_args: list[str] | None = None,
                 tls_dir: Path | None = None, admin_token: str | None = None, new_session: bool = False) -> None:
        self.module = module
        self.data_dir = Path(data_dir)
        self.port = port
        self.extra_args = extra_args or []
        self.tls_dir = tls_dir
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.new_session = new_session
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.ca_bundle = ""
        self.session = requests.Session()
        self.session.headers[ADMIN_TOKEN_HEADER] = self.admin_token

    @classmethod
    def attach(cls, module: str, url: str, ca_bundle: str, admin_token: str) -> EmulatorProcess:
        """A handle on an emulator another process started (its admin calls work; start/stop do not)."""
        handle = cls(module, Path(ca_bundle).parent, admin_token=admin_token)
        handle.url, handle.ca_bundle = url, ca_bundle
        return handle

    def start(self, timeout: float = 60.0) -> EmulatorProcess:
        root = Path(__file__).resolve().parents[2]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
               ADMIN_TOKEN_ENV: self.admin_token}
        cmd = [sys.executable, "-m", self.module, "--port", str(self.port), "--data-dir", str(self.data_dir),
               *(["--tls-dir", str(self.tls_dir)] if self.tls_dir else []), *self.extra_args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=root,
                                     start_new_session=self.new_session)
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(READY):
                info = json.loads(line[len(READY):])
                self.url, self.ca_bundle = info["url"], info["ca_bundle"]
                self.port = int(self.url.rsplit(":", 1)[1])
                break
            if time.monotonic() > deadline:
                break
        if not self.url:
            self.stop()
            raise RuntimeError(f"{self.module} did not start: {' '.join(cmd)}")
        self._wait_healthy(deadline)
        return self

    def _wait_healthy(self, deadline: float) -> None:
        while True:
            try:
                self.admin("GET", "health")
                return
            except requests.ConnectionError:  # not listening yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None

    def restart(self) -> EmulatorProcess:
        """Stop and start again on the same port and data directory (persistence tests)."""
        self.stop()
        self.url = ""
        return self.start()

    def admin(self, method: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        # verify= per request: a session-level verify loses to REQUESTS_CA_BUNDLE from the environment.
        resp = self.session.request(method, f"{self.url}/__emulator/{action}", json=body, timeout=120,
                                    verify=self.ca_bundle)
        resp.raise_for_status()
        return resp.json()

    # Convenience wrappers over the shared admin surface.
    def reset(self) -> dict[str, Any]:
        return self.admin("POST", "reset", {})

    def seed(self, **params: Any) -> dict[str, Any]:
        return self.admin("POST", "seed", params)

    def calls(self) -> dict[str, Any]:
        return self.admin("GET", "calls")

    def credentials(self) -> list[dict[str, str]]:
        """Every credential the emulator accepts or has issued so far, as {"kind", "value"}."""
        return list(self.admin("GET", "credentials")["secrets"])

    def requests(self) -> list[dict[str, Any]]:
        """The request log: non-admin calls in order, each {"t", "method", "path", "fault"}."""
        return list(self.admin("GET", "requests")["requests"])

    def clear_calls(self) -> None:
        self.admin("DELETE", "calls")

    def set_latency(self, ms: float) -> None:
        self.admin("PUT", "latency", {"ms": ms})

    def set_faults(self, rules: list[dict[str, Any]], seed: int = 0) -> None:
        self.admin("PUT", "faults", {"seed": seed, "rules": rules})

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")

    def configure(self, **settings: Any) -> dict[str, Any]:
        return self.admin("PUT", "config", settings)

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
