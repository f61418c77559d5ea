"""Backends for the state-store tests: every test taking `store` runs on SQLite and on PostgreSQL.

PostgreSQL tests get their own schema (dropped afterwards) in database `test` on 127.0.0.1:5432, and
are skipped with the reason when that server does not answer."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from sfjira.state import StateStore

PG_URL = os.environ.get("SFJIRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Backend:
    """Where one test's store lives; `open()` gives a fresh StateStore on it (as another process would)."""

    name: str
    url: str
    schema: str | None

    def open(self, **kwargs: object) -> StateStore:
        return StateStore(self.url, schema=self.schema, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pg_unreachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg2://"),
                                  connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as err:  # noqa: BLE001 - any failure means "not reachable", with the reason
        return str(err).strip().splitlines()[0]
    return None


def _drop_schema(schema: str) -> None:
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path, pg_unreachable: str | None) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'state.db'}", None)
        return
    if pg_unreachable is not None:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {pg_unreachable}")
    schema = f"sfjira_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        yield Backend("postgresql", PG_URL, schema)
    finally:
        _drop_schema(schema)


@pytest.fixture
def store(backend: Backend) -> Iterator[StateStore]:
    with backend.open() as opened:
        yield opened


@pytest.fixture
def run_id(store: StateStore) -> str:
    return store.begin_run("accounts", "manual__2024-05-01T00:00:00+00:00")
