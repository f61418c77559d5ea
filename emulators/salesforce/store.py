"""Persistence: every record lives in memory as a dict and is written through to SQLite.

Queries run over the in-memory dicts (fast enough for tens of thousands of records); each save is one
SQLite transaction, so a restart finds exactly what was last confirmed to a client. A saved record
dict is never mutated afterwards (updates replace it), so query snapshots can hold references safely.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from emulators.common.sqlite import open_database
from emulators.salesforce.schema import FieldDef, Schema

Record = dict[str, Any]

_TABLES = """
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, sobject TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_by_sobject ON records (sobject);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT NOT NULL, client_id TEXT NOT NULL,
    expires_ms INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
"""


def unique_key(field: FieldDef, value: Any) -> str:
    text = str(value)
    return text if field.case_sensitive else text.lower()


class Store:
    def __init__(self, path: Path, schema: Schema) -> None:
        self.db = open_database(path, _TABLES)
        self.schema = schema
        self.tables: dict[str, dict[str, Record]] = {name: {} for name in schema.objects}
        self.type_of: dict[str, str] = {}
        self.unique: dict[tuple[str, str], dict[str, str]] = {}
        self.meta: dict[str, Any] = {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}
        self._dirty_meta: set[str] = set()
        for record_id, sobject, data in self.db.execute("SELECT id, sobject, data FROM records"):
            self.tables.setdefault(sobject, {})[record_id] = json.loads(data)
            self.type_of[record_id] = sobject
        self.rebuild_unique()

    # -- reading -------------------------------------------------------------------------------
    def table(self, sobject: str) -> dict[str, Record]:
        return self.tables.setdefault(sobject, {})

    def get(self, record_id: str) -> tuple[str, Record] | None:
        sobject = self.type_of.get(record_id)
        return None if sobject is None else (sobject, self.tables[sobject][record_id])

    def find_unique(self, sobject: str, field: FieldDef, value: Any) -> str | None:
        return self.unique.get((sobject, field.name), {}).get(unique_key(field, value))

    def live(self, sobject: str) -> Iterator[Record]:
        return (r for r in self.table(sobject).values() if not r.get("IsDeleted"))

    # -- writing -------------------------------------------------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        """Kept in memory now, written with the next save (or `flush_meta`)."""
        self.meta[key] = value
        self._dirty_meta.add(key)

    def flush_meta(self) -> None:
        self.save([])

    def save(self, records: Iterable[tuple[str, Record]]) -> None:
        records = list(records)
        rows = [(r["Id"], sobject, json.dumps(r, ensure_ascii=False)) for sobject, r in records]
        meta_rows = [(k, json.dumps(self.meta[k])) for k in self._dirty_meta]
        with self.db:  # one transaction: records and counters land together or not at all
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO records (id, sobject, data) VALUES (?, ?, ?)", rows)
            self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", meta_rows)
        self._dirty_meta.clear()
        for sobject, record in records:
            self._index(sobject, record["Id"], record)

    def clear_records(self) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM records")
        self.tables = {name: {} for name in self.schema.objects}
        self.type_of.clear()
        self.unique.clear()

    def set_schema(self, schema: Schema) -> None:
        self.schema = schema
        for name in schema.objects:
            self.tables.setdefault(name, {})
        self.rebuild_unique()

    def rebuild_unique(self) -> None:
        self.unique = {}
        for name, obj in self.schema.objects.items():
            for field in obj.unique_fields:
                index = self.unique.setdefault((name, field.name), {})
                for record in self.live(name):
                    if record.get(field.name) is not None:
                        index[unique_key(field, record[field.name])] = record["Id"]

    def _index(self, sobject: str, record_id: str, record: Record) -> None:
        table = self.table(sobject)
        old = table.get(record_id)
        table[record_id] = record
        self.type_of[record_id] = sobject
        obj = self.schema.objects.get(sobject)
        for field in obj.unique_fields if obj else ():
            index = self.unique.setdefault((sobject, field.name), {})
            if old is not None and old.get(field.name) is not None:
                key = unique_key(field, old[field.name])
                if index.get(key) == record_id:
                    del index[key]
            if record.get(field.name) is not None and not record.get("IsDeleted"):
                index[unique_key(field, record[field.name])] = record_id

