"""The one way both emulators open their SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_database(path: Path, schema: str) -> sqlite3.Connection:
    """Autocommit connection (the stores run their own BEGIN/COMMIT), shared by the server's threads,
    WAL so readers never wait on a writer; NORMAL in WAL mode survives a process crash (only an OS
    crash could lose the last commit). `schema` is the idempotent CREATE script."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(schema)
    return conn
