"""A leak scanner for what sync runs leave behind: files (raw bytes, gzip'd content), SQLite databases
(every row of every table), Parquet files (every cell, the schema and file metadata) and PostgreSQL
schemas (every row), searched for needles -- credentials and PII values -- case-insensitively.

A hit names the file (or schema), the place in it (table/column/row, Parquet column/row or metadata key,
byte offset) and the needle's label, never the whole value, so a failing test does not print a secret.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import sqlalchemy as sa

SQLITE_MAGIC = b"SQLite format 3\x00"
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
PEM_LINE_MIN = 40  # a full line of a PEM body is 64 base64 characters; a shorter last line is skipped


@dataclass(frozen=True)
class Needle:
    label: str   # what it is, e.g. "salesforce access_token" or "PII Contact.Email"
    value: str

    @property
    def key(self) -> bytes:
        return self.value.lower().encode()

    def masked(self) -> str:
        return f"{self.value[:4]}…({len(self.value)} chars)"


@dataclass(frozen=True)
class Hit:
    path: str    # the file, or `postgresql <schema>`
    where: str   # e.g. "table xcom, column value, row 3 (rowid 7)" or "bytes at offset 120"
    needle: Needle

    def __str__(self) -> str:
        return f"{self.path} [{self.where}]: {self.needle.label} {self.needle.masked()}"


def needles_from_secrets(source: str, secrets: Iterable[dict[str, str]]) -> list[Needle]:
    """The admin endpoint's {"kind", "value"} list as needles. A PEM key becomes one needle per body
    line: a leak of a key in JSON, a log or a Parquet cell keeps its lines even when newlines are escaped."""
    found: dict[tuple[str, str], None] = {}
    for secret in secrets:
        label, value = f"{source} {secret['kind']}", secret["value"]
        if value.startswith("-----BEGIN"):
            for line in value.splitlines():
                if len(line) >= PEM_LINE_MIN and not line.startswith("-----"):
                    found[(label, line)] = None
        elif value:
            found[(label, value)] = None
    return [Needle(label, value) for label, value in found]


def _find(blob: bytes, needles: Iterable[Needle]) -> Iterator[tuple[Needle, int]]:
    lowered = blob.lower()
    for needle in needles:
        at = lowered.find(needle.key)
        if at >= 0:
            yield needle, at


def _text(value: Any) -> bytes | None:
    """A cell as bytes to search: text as UTF-8, binary as is, nested values by their repr."""
    if value is None or isinstance(value, bool | int | float):
        return None
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return str(value).encode("utf-8", "replace")


def _inflated(blob: bytes) -> bytes | None:
    """A zlib or gzip body decompressed (Airflow may compress serialized DAGs), else None."""
    for decompress in (zlib.decompress, gzip.decompress):
        try:
            return decompress(blob)
        except (zlib.error, OSError, EOFError):
            continue
    return None


def scan_cell(value: Any, needles: list[Needle]) -> list[Needle]:
    blob = _text(value)
    if blob is None:
        return []
    found = [n for n, _ in _find(blob, needles)]
    inflated = _inflated(blob) if isinstance(value, bytes | bytearray | memoryview) else None
    return found + ([n for n, _ in _find(inflated, needles) if n not in found] if inflated else [])


# -- files -----------------------------------------------------------------------------------------

def scan_paths(paths: Iterable[Path], needles: list[Needle]) -> list[Hit]:
    """Every file under `paths` (files or folders, recursively)."""
    hits: list[Hit] = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            hits += scan_file(path, needles)
    return hits


def scan_file(path: Path, needles: list[Needle]) -> list[Hit]:
    data = path.read_bytes()
    hits = [Hit(str(path), f"bytes at offset {at}", n) for n, at in _find(data, needles)]
    if data.startswith(GZIP_MAGIC):
        inflated = _inflated(data) or b""
        hits += [Hit(str(path), f"gzip content at offset {at}", n) for n, at in _find(inflated, needles)]
    if data.startswith(SQLITE_MAGIC):
        hits += scan_sqlite(path, needles)
    if data.startswith(PARQUET_MAGIC) and data.endswith(PARQUET_MAGIC):
        hits += scan_parquet(path, needles)
    return hits


def scan_sqlite(path: Path, needles: list[Needle]) -> list[Hit]:
    """Every row of every table. Read from a copy (with its -wal), so the scan never changes what it scans."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.db"
        shutil.copy(path, copy)
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            shutil.copy(wal, copy.with_name("copy.db-wal"))
        conn = sqlite3.connect(copy)
        try:
            conn.text_factory = bytes  # undecodable text must not stop the scan
            return list(_sqlite_hits(conn, str(path), needles))
        finally:
            conn.close()


def _sqlite_hits(conn: sqlite3.Connection, path: str, needles: list[Needle]) -> Iterator[Hit]:
    tables = [r[0].decode() for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        try:
            cursor = conn.execute(f'SELECT rowid, * FROM "{table}"')
            offset = 1
        except sqlite3.OperationalError:  # WITHOUT ROWID, or a virtual table
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            offset = 0
        columns = [d[0] for d in cursor.description][offset:]
        for number, row in enumerate(cursor):
            rowid = f" (rowid {row[0]})" if offset else ""
            for column, value in zip(columns, row[offset:], strict=True):
                for needle in scan_cell(value, needles):
                    yield Hit(path, f"table {table}, column {column}, row {number}{rowid}", needle)


def scan_parquet(path: Path, needles: list[Needle]) -> list[Hit]:
    """Every cell, every column name, and the schema and file metadata (incl. the base64 Arrow schema)."""
    source = pq.ParquetFile(path)
    hits: list[Hit] = []
    metadata = dict(source.metadata.metadata or {})
    for field in source.schema_arrow:
        metadata.update({f"{field.name}.{k.decode()}".encode(): v for k, v in (field.metadata or {}).items()})
        hits += [Hit(str(path), f"parquet column name {field.name!r}", n) for n in scan_cell(field.name, needles)]
    for key, value in metadata.items():
        for blob in (value, _b64(value)):
            hits += [Hit(str(path), f"parquet metadata {key.decode()!r}", n) for n in scan_cell(blob, needles)]
    table = source.read()
    for name, column in zip(table.column_names, table.columns, strict=True):
        for number, value in enumerate(column.to_pylist()):
            hits += [Hit(str(path), f"parquet column {name!r}, row {number}", n) for n in scan_cell(value, needles)]
    return hits


def _b64(value: bytes) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


# -- PostgreSQL --------------------------------------------------------------------------------------

def scan_postgres(url: str | sa.URL, schema: str, needles: list[Needle]) -> list[Hit]:
    """Every row of every table in `schema`, each cell as text."""
    engine = sa.create_engine(url)
    hits: list[Hit] = []
    try:
        inspector = sa.inspect(engine)
        with engine.connect() as conn:
            for table in inspector.get_table_names(schema=schema):
                keys = inspector.get_pk_constraint(table, schema=schema).get("constrained_columns") or []
                result = conn.execute(sa.text(f'SELECT * FROM "{schema}"."{table}"'))
                columns = list(result.keys())
                for number, row in enumerate(result):
                    where = f"table {table}, row {number}" + (
                        f" ({', '.join(f'{k}={row._mapping[k]}' for k in keys)})" if keys else "")
                    for column, value in zip(columns, row, strict=True):
                        hits += [Hit(f"postgresql {schema}", f"{where}, column {column}", n)
                                 for n in scan_cell(value, needles)]
    finally:
        engine.dispose()
    return hits
