"""The admin surface shared by both emulators: call counters, latency, fault injection.

Everything under `/__emulator/` is for tests, the demo and the benchmarks; no real client uses
that prefix. Calls to it are neither counted, delayed nor faulted. When the emulator runs with an admin
token, each of them needs it (`Authorization: Bearer TOKEN` or `X-Emulator-Admin-Token: TOKEN`), else 401.

`GET /__emulator/credentials` lists every credential the emulator accepts or has issued so far
(`{"secrets": [{"kind": ..., "value": ...}]}`), so a test can prove none of them was left anywhere.

Fault rules (PUT /__emulator/faults):
    {"seed": 7, "rules": [{"fault": "503", "probability": 0.5, "path": "/query", "method": "GET",
                           "times": 3, "delay_s": 5.0}]}
`fault` is one of the names in the emulator's fault table (for example 503, 500, 429,
request_limit, expired_session) plus the transport faults every emulator has:
`reset` (the TCP connection is reset before the request is handled), `lost_response` (the request
IS handled -- a write lands -- then the connection is reset before the response: the ambiguous case
a client must not blindly resend), `slow` (the response is held back for `delay_s` seconds,
longer than the client timeout) and `late_response` (the request IS handled, then its answer is held
back for `delay_s` seconds: a test kills the client in that gap, after the write landed and before the
client could record it). `path` is a regular expression searched in the request path,
`skip` lets that many matching calls through before the rule may fire (e.g. fail the 2nd chunk of a
bulk write), `times` caps how often the rule fires (default unlimited).

`GET /__emulator/requests` is the request log: the last 5,000 non-admin calls in order, each
`{"t": <epoch seconds>, "method", "path", "fault"}` (`fault`: the injected fault's name, or null), so a
test can prove a client waited between two calls from the emulator's own clock. `DELETE` clears it
(as does `DELETE /__emulator/calls`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import random
import re
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

TRANSPORT_FAULTS = ("reset", "lost_response", "slow", "late_response")
ADMIN_PREFIX = "/__emulator"
ADMIN_TOKEN_HEADER = "X-Emulator-Admin-Token"
REQUEST_LOG_MAX = 5_000

FaultResponder = Callable[[Request], Response]
Secret = dict[str, str]  # {"kind": "client_secret", "value": "..."}


@dataclass
class FaultRule:
    fault: str
    probability: float = 1.0
    path: str = ""
    method: str = ""
    times: int | None = None
    delay_s: float = 30.0
    skip: int = 0
    fired: int = 0
    matched: int = 0

    def applies(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        return not self.path or re.search(self.path, path) is not None


@dataclass
class Control:
    """Mutable emulator-wide test controls. One instance per emulator process."""

    fault_table: dict[str, FaultResponder]
    calls: Counter[str] = field(default_factory=Counter)
    latency_ms: float = 0.0
    rules: list[FaultRule] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    faults_fired: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    admin_token: str | None = None
    request_log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REQUEST_LOG_MAX))
    # API calls being answered now that came in since the counters were last cleared, and the most at once.
    # Calls from before a clear are left out: a previous test's held answer (a late_response fault sleeps long
    # after its client was killed) would otherwise count as a second call at once in the next test's measure.
    in_flight: int = 0
    max_in_flight: int = 0
    generation: int = 0  # bumped by each clear

    def admits(self, headers: dict[str, str]) -> bool:
        """Whether an admin call carries the admin token (always, when none is configured)."""
        if not self.admin_token:
            return True
        scheme, _, bearer = headers.get("authorization", "").partition(" ")
        given = headers.get(ADMIN_TOKEN_HEADER.lower()) or (bearer.strip() if scheme.lower() == "bearer" else "")
        return hmac.compare_digest(given.encode(), self.admin_token.encode())

    def set_faults(self, body: dict[str, Any]) -> None:
        rules = []
        allowed = sorted([*self.fault_table, *TRANSPORT_FAULTS])
        for raw in body.get("rules", []):
            if raw.get("fault") not in allowed:
                raise ValueError(f"unknown fault {raw.get('fault')!r}; allowed: {', '.join(allowed)}")
            rules.append(FaultRule(**{k: v for k, v in raw.items() if k not in ("fired", "matched")}))
        self.rules = rules
        self.rng = random.Random(body.get("seed", 0))

    def pick_fault(self, method: str, path: str) -> FaultRule | None:
        for rule in self.rules:
            if not rule.applies(method, path):
                continue
            rule.matched += 1
            if rule.matched > rule.skip and self.rng.random() < rule.probability:
                rule.fired += 1
                self.faults_fired[rule.fault] += 1
                return rule
        return None


def endpoint_key(routes: list[BaseRoute], scope: Scope) -> str:
    """`METHOD /route/{template}`: counters group calls by the route, not by the concrete id."""
    method = scope.get("method", "GET")
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL and isinstance(route, Route):
            return f"{method} {route.path}"
    return f"{method} <unrouted>"


def _reset_connection(receive: Receive) -> None:
    # The ASGI receive callable is bound to uvicorn's request cycle, which holds the transport.
    transport = receive.__self__.transport  # type: ignore[attr-defined]
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        raw = socket.socket(fileno=sock.fileno())
        try:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            raw.detach()
    transport.abort()


async def _discard(message: Any) -> None:
    """An ASGI `send` that drops the response (the `lost_response` fault)."""


class ControlMiddleware:
    """Outermost ASGI layer: counts, delays and faults every non-admin call."""

    def __init__(self, app: ASGIApp, control: Control, routes: list[BaseRoute]) -> None:
        self.app = app
        self.control = control
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(ADMIN_PREFIX):
            await self._admin(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        control = self.control
        with control.lock:
            control.calls[endpoint_key(self.routes, scope)] += 1
            rule = control.pick_fault(scope["method"], scope["path"])
            control.request_log.append({"t": time.time(), "method": scope["method"], "path": scope["path"],
                                        "fault": rule.fault if rule else None})
            control.in_flight += 1
            control.max_in_flight = max(control.max_in_flight, control.in_flight)
            generation = control.generation
        answered = False

        def done() -> None:
            nonlocal answered
            with control.lock:
                if not answered:
                    answered = True
                    if generation == control.generation:
                        control.in_flight -= 1

        async def count_then_send(message: Any) -> None:
            # The call stops counting as its last bytes are handed over, not when this task next runs: a
            # client may read the answer and send its next call before then, and that is not two at once.
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                done()
            await send(message)

        try:
            await self._answer(scope, receive, count_then_send, rule)
        finally:
            done()

    async def _answer(self, scope: Scope, receive: Receive, send: Send, rule: FaultRule | None) -> None:
        control = self.control
        if control.latency_ms:
            await asyncio.sleep(control.latency_ms / 1000)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.fault == "reset":
            _reset_connection(receive)
        elif rule.fault == "lost_response":
            await self.app(scope, receive, _discard)
            _reset_connection(receive)
        elif rule.fault == "slow":
            await asyncio.sleep(rule.delay_s)
            await self.app(scope, receive, send)
        elif rule.fault == "late_response":
            held: list[Any] = []

            async def hold(message: Any) -> None:
                held.append(message)

            await self.app(scope, receive, hold)
            await asyncio.sleep(rule.delay_s)
            for message in held:
                await send(message)
        else:
            response = control.fault_table[rule.fault](Request(scope, receive))
            await response(scope, receive, send)

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.control.admits(headers):
            await self.app(scope, receive, send)
            return
        response = JSONResponse({"error": f"admin token required: send Authorization: Bearer <token> or "
                                          f"{ADMIN_TOKEN_HEADER}: <token>"}, status_code=401,
                                headers={"WWW-Authenticate": 'Bearer realm="emulator admin"'})
        await response(scope, receive, send)


AdminHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]] | dict[str, Any]]


def admin_routes(control: Control, handlers: dict[str, AdminHandler],
                 secrets: Callable[[], list[Secret]]) -> list[Route]:
    """Routes under /__emulator/. `handlers` adds emulator-specific POST/PUT actions
    (reset, seed, config, ...), each taking the JSON body and returning a JSON-able dict; `secrets`
    lists the emulator's credentials for GET /__emulator/credentials."""

    async def calls(request: Request) -> Response:
        if request.method == "DELETE":
            with control.lock:
                control.calls.clear()
                control.faults_fired.clear()
                control.request_log.clear()
                control.in_flight = control.max_in_flight = 0
                control.generation += 1
            return JSONResponse({"total": 0, "by_endpoint": {}})
        by_endpoint = dict(sorted(control.calls.items()))
        return JSONResponse({"total": sum(by_endpoint.values()), "by_endpoint": by_endpoint,
                             "faults_fired": dict(control.faults_fired), "in_flight": control.in_flight,
                             "max_in_flight": control.max_in_flight})

    async def requests(request: Request) -> Response:
        with control.lock:
            if request.method == "DELETE":
                control.request_log.clear()
            return JSONResponse({"requests": list(control.request_log)})

    async def latency(request: Request) -> Response:
        if request.method == "PUT":
            control.latency_ms = float((await request.json()).get("ms", 0))
        return JSONResponse({"ms": control.latency_ms})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            control.set_faults({})
        elif request.method == "PUT":
            try:
                control.set_faults(await request.json())
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"rules": [r.__dict__ for r in control.rules]})

    async def health(_: Request) -> Response:
        return JSONResponse({"ok": True})

    async def credentials(_: Request) -> Response:
        admin = [{"kind": "admin_token", "value": control.admin_token}] if control.admin_token else []
        return JSONResponse({"secrets": [*secrets(), *admin]})

    def action(handler: AdminHandler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            raw = await request.body()
            try:
                result = handler(json.loads(raw) if raw else {})
                if asyncio.iscoroutine(result):
                    result = await result
            except (ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse(result)

        return run

    routes = [
        Route(f"{ADMIN_PREFIX}/health", health, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/credentials", credentials, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/calls", calls, methods=["GET", "DELETE"]),
        Route(f"{ADMIN_PREFIX}/requests", requests, methods=["GET", "DELETE"]),
        Route(f"{ADMIN_PREFIX}/latency", latency, methods=["GET", "PUT"]),
        Route(f"{ADMIN_PREFIX}/faults", faults, methods=["GET", "PUT", "DELETE"]),
    ]
    routes += [Route(f"{ADMIN_PREFIX}/{name}", action(h), methods=["POST", "PUT"]) for name, h in handlers.items()]
    return routes
