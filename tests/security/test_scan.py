"""The leak scanner finds a planted needle in every kind of place a run leaves things -- so a clean
leak scan means something."""

from __future__ import annotations

import gzip
import json
import sqlite3
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from tests.e2e.conftest import PG, postgres_problem  # noqa: F401 - the session fixture
from tests.security.scan import Needle, needles_from_secrets, scan_file, scan_paths, scan_postgres

SECRET = Needle("jira api_token", "Tok-9f3a1c77e2b04d")
EMAIL = Needle("PII Contact.Email", "Grace.Hopper@Navy.example")
NEEDLES = [SECRET, EMAIL]


def where(hits: list) -> set[tuple[str, str]]:
    return {(h.where, h.needle.label) for h in hits}


def test_a_clean_tree_has_no_hits(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text("| jira_create | 4 |\n\"customfield_10054\": \"***\"\n")
    pd.DataFrame({"email": ["gAAAAABencrypted"], "n": [1]}).to_parquet(tmp_path / "frame.parquet")
    assert scan_paths([tmp_path], NEEDLES) == []


def test_raw_text_any_case_and_nested_folders(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "task.log").write_text(f"INFO token={SECRET.value}\n")
    (tmp_path / "summary.json").write_text(json.dumps({"to": EMAIL.value.lower()}))
    hits = scan_paths([tmp_path], NEEDLES)
    assert {(Path(h.path).name, h.needle.label) for h in hits} == {("task.log", SECRET.label),
                                                                    ("summary.json", EMAIL.label)}
    assert hits[0].where == "bytes at offset 11"  # after "INFO token="
    assert SECRET.value not in str(hits[0])  # the failure message names the needle without printing it


def test_gzipped_log(tmp_path: Path) -> None:
    path = tmp_path / "attempt=1.log.gz"
    path.write_bytes(gzip.compress(f"Authorization: Bearer {SECRET.value}".encode()))
    assert where(scan_file(path, NEEDLES)) == {("gzip content at offset 22", SECRET.label)}


def test_sqlite_rows_name_table_column_and_row(tmp_path: Path) -> None:
    path = tmp_path / "airflow.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE xcom (id INTEGER PRIMARY KEY, key TEXT, value BLOB)")
        db.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
        db.execute("INSERT INTO xcom VALUES (1, 'return_value', '{}'), (7, 'return_value', ?)",
                   (zlib.compress(json.dumps({"email": EMAIL.value}).encode()),))
        db.execute("INSERT INTO kv VALUES ('token', ?)", (SECRET.value,))
    found = where(scan_file(path, NEEDLES))
    # The compressed cell is invisible in the raw bytes; the row scan inflates it.
    assert ("table xcom, column value, row 1 (rowid 7)", EMAIL.label) in found
    assert ("table kv, column v, row 0", SECRET.label) in found
    assert not any(w.startswith("bytes") and label == EMAIL.label for w, label in found)


def test_sqlite_rows_still_in_the_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE ledger (after TEXT)")
    db.execute("INSERT INTO ledger VALUES (?)", (EMAIL.value,))
    db.commit()  # left open: the row lives only in state.db-wal
    try:
        assert ("table ledger, column after, row 0 (rowid 1)", EMAIL.label) in where(scan_file(path, NEEDLES))
        assert {Path(h.path).name for h in scan_paths([tmp_path], NEEDLES)} >= {"state.db", "state.db-wal"}
    finally:
        db.close()


def test_parquet_cells_behind_compression(tmp_path: Path) -> None:
    path = tmp_path / "sf_records.parquet"
    frame = pd.DataFrame({"Id": ["500A", "500B"], "Contact.Email": [None, EMAIL.value],
                          "nested": [{"x": "1"}, {"x": SECRET.value}]})
    # Deflate codes literals bitwise (and without statistics no min/max copy sits in the footer).
    pq.write_table(pa.Table.from_pandas(frame), path, compression="gzip", write_statistics=False)
    assert EMAIL.key not in path.read_bytes().lower()  # compressed: only a cell scan can see it
    found = where(scan_file(path, NEEDLES))
    assert ("parquet column 'Contact.Email', row 1", EMAIL.label) in found
    assert ("parquet column 'nested', row 1", SECRET.label) in found


def test_parquet_schema_and_field_metadata(tmp_path: Path) -> None:
    path = tmp_path / "plan.parquet"
    schema = pa.schema([pa.field("id", pa.string(), metadata={"sample": EMAIL.value})],
                       metadata={"sfjira": json.dumps({"conn": SECRET.value})})
    pq.write_table(pa.table({"id": ["a"]}, schema=schema), path, compression="zstd")
    found = where(scan_file(path, NEEDLES))
    assert ("parquet metadata 'sfjira'", SECRET.label) in found
    assert ("parquet metadata 'id.sample'", EMAIL.label) in found


def test_pem_keys_become_line_needles() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(["A" * 64, "B" * 64, "C" * 12]) + "\n-----END PRIVATE KEY-----\n"
    needles = needles_from_secrets("salesforce", [{"kind": "jwt_private_key", "value": pem},
                                                  {"kind": "password", "value": "pw-1"}, {"kind": "x", "value": ""}])
    assert [(n.label, n.value) for n in needles] == [("salesforce jwt_private_key", "A" * 64),
                                                      ("salesforce jwt_private_key", "B" * 64),
                                                      ("salesforce password", "pw-1")]


@pytest.fixture
def pg_schema(postgres_problem: str | None) -> Iterator[str]:  # noqa: F811
    if postgres_problem is not None:
        pytest.skip(f"no PostgreSQL at {PG.render_as_string(hide_password=True)}: {postgres_problem}")
    schema = f"sfjira_scan_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(PG.set(drivername="postgresql+psycopg2"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        yield schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.mark.postgres
def test_postgres_rows(pg_schema: str) -> None:
    url = PG.set(drivername="postgresql+psycopg2")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE TABLE "{pg_schema}".rejects (id int PRIMARY KEY, payload jsonb, raw bytea)'))
        conn.execute(sa.text(f'INSERT INTO "{pg_schema}".rejects VALUES (1, \'{{}}\', NULL), '
                             f'(2, :p, :r)'), {"p": json.dumps({"v": EMAIL.value}), "r": SECRET.value.encode()})
    engine.dispose()
    found = where(scan_postgres(url, pg_schema, NEEDLES))
    assert found == {("table rejects, row 1 (id=2), column payload", EMAIL.label),
                     ("table rejects, row 1 (id=2), column raw", SECRET.label)}
