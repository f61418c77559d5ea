"""Where the state store lives (Airflow connection or a SQLite file) and how to talk to it safely.

SQLite is shared by several Airflow task processes, so it runs in WAL mode (readers never block the
writer), with foreign keys on and a busy timeout; write transactions start with BEGIN IMMEDIATE so a
writer waits for the lock up front instead of failing half-way when it upgrades a read lock.
Statement parameters are hidden from SQLAlchemy's errors and logs: they can hold record values. A
SQLite file (and the folder sfjira creates for it) is readable by its owner only.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event

from sfjira.exceptions import StateStoreError
from sfjira.files import make_private, private_file
from sfjira.state.errors import db_error
from sfjira.state.types import json_dumps

if TYPE_CHECKING:
    from airflow.sdk import Connection

DEFAULT_CONN_ID = "sfjira_state"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# Connection extras that configure sfjira rather than the database driver.
_OWN_EXTRAS = ("state_schema", "__extra__")


def default_url() -> str:
    """`sqlite:///$AIRFLOW_HOME/sfjira/state.db` (AIRFLOW_HOME defaults to ~/airflow, as in Airflow)."""
    home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow").expanduser()
    return f"sqlite:///{home / 'sfjira' / 'state.db'}"


def normalize_url(url: str | sa.URL) -> sa.URL:
    """Parse a URL and pin the driver: Airflow writes `postgres://`, which SQLAlchemy does not know."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as err:
        raise StateStoreError(f"not a database URL: {err}", code="STATE_URL_INVALID",
                              fix="use e.g. sqlite:////path/state.db or postgresql://user@host/db") from None
    if parsed.drivername in ("postgres", "postgresql", "postgres+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StateStoreError(
            f"unsupported state store backend `{parsed.get_backend_name()}`", code="STATE_URL_INVALID",
            fix="use a sqlite or postgresql URL for the `sfjira_state` connection")
    return parsed


def url_from_connection(conn: Connection) -> tuple[sa.URL, str | None]:
    """URL and optional PostgreSQL schema (extra `state_schema`) of an Airflow Connection."""
    schema = (conn.extra_dejson or {}).get("state_schema")
    if (conn.conn_type or "").lower() == "sqlite":
        # Airflow's get_uri percent-encodes a sqlite path into the host; the path is the host itself.
        return normalize_url(f"sqlite:///{conn.host}"), schema
    url = normalize_url(conn.get_uri())
    return url.difference_update_query(_OWN_EXTRAS), schema


def url_from_airflow(conn_id: str = DEFAULT_CONN_ID) -> tuple[sa.URL, str | None] | None:
    """The connection's URL, or None when no such connection is defined."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    return url_from_connection(conn)


def masked(url: sa.URL) -> str:
    return url.render_as_string(hide_password=True)


def create_state_engine(url: sa.URL, schema: str | None = None, echo: bool = False) -> sa.Engine:
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise StateStoreError(f"invalid schema name {schema!r}", code="STATE_URL_INVALID",
                              fix="use letters, digits and underscores, starting with a letter")
    if url.get_backend_name() == "sqlite":
        if schema is not None:
            raise StateStoreError("a schema can only be set for PostgreSQL", code="STATE_URL_INVALID",
                                  fix="drop `state_schema` from the connection, or use PostgreSQL")
        return _sqlite_engine(url, echo)
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    return sa.create_engine(url, echo=echo, json_serializer=json_dumps, pool_pre_ping=True,
                            hide_parameters=True, connect_args=connect_args)


def _sqlite_engine(url: sa.URL, echo: bool) -> sa.Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        _private_database(Path(url.database).expanduser())
    engine = sa.create_engine(url, echo=echo, json_serializer=json_dumps, hide_parameters=True,
                              connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _private_database(path: Path) -> None:
    """Created 0600 before SQLite opens it; SQLite gives its -wal, -shm and -journal files the same mode.

    An existing file is only chmod-ed, never opened: closing any descriptor of the file drops every POSIX
    lock this process holds on it, including the SHARED lock each open WAL-mode connection keeps (a
    second store in a process that has one open). Another process closing last would then take itself for
    the only user, checkpoint and reset the WAL under the live connections: "database disk image is
    malformed"."""
    if path.exists():
        make_private(path)
    else:
        private_file(path)


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control from the sqlite3 module so BEGIN IMMEDIATE and transactional DDL work.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    _enable_wal(cursor)
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _enable_wal(cursor: Any) -> None:
    """WAL is a property of the file, set once. Switching to it needs an exclusive lock and SQLite does not
    wait for that with busy_timeout, so processes opening a new file together retry until one has set it."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            cursor.execute("PRAGMA journal_mode = WAL")  # an in-memory database answers "memory": fine
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_on_begin(conn: sa.Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get("sfjira_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def transaction(engine: sa.Engine, *, write: bool) -> Iterator[sa.Connection]:
    """One transaction; committed when the block ends, rolled back if it raises."""
    try:
        with engine.connect() as conn:
            conn.execution_options(sfjira_write=write)
            with conn.begin():
                yield conn
    except sa.exc.DBAPIError as err:
        raise db_error(err, masked(engine.url)) from err
    except sa.exc.StatementError as err:  # raised before the database saw it, e.g. a value JSON cannot hold
        raise StateStoreError(f"a value could not be sent to the state store: {err.orig}",
                              code="STATE_INPUT_INVALID",
                              fix="pass JSON-compatible values (str, number, bool, None, list, dict, datetime)") \
            from err
