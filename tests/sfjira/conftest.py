"""Fixtures shared by the unit and hook tests under tests/sfjira."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.sfjira.scripted_http import Scripted, serving


@dataclass
class PlainServer:
    url: str
    script: Scripted

    @property
    def received(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        """Every request that reached the listener: method, path, headers, body."""
        return [(*seen, body) for seen, body in zip(self.script.seen, self.script.bodies, strict=True)]


@pytest.fixture
def plain_server() -> Iterator[PlainServer]:
    """A plain-HTTP listener on 127.0.0.1 that records whatever reaches it: a test of the TLS rules
    asserts it received nothing (or, where plain HTTP is allowed, what it received)."""
    script = Scripted()
    with serving(script) as url:
        yield PlainServer(url, script)
