"""SQLite persistence under the data dir: issues and everything hanging off them, plus settings.

One connection, used from the event loop only (handlers are async and call in synchronously), so
writes are serialised without locks. Hot search columns (project, type, status, priority, parent,
created, updated) are real columns with indexes; every other field value lives in the `fields`
JSON document and JQL reaches it with json_extract.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.common.sqlite import open_database
from emulators.jira import adf
from emulators.jira.timefmt import wall_ms

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS issues (
    id INTEGER PRIMARY KEY, project TEXT NOT NULL, num INTEGER NOT NULL, key TEXT NOT NULL UNIQUE,
    issuetype TEXT NOT NULL, status TEXT NOT NULL, priority TEXT, parent_id INTEGER,
    created INTEGER NOT NULL, updated INTEGER NOT NULL, fields TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_issues_project_num ON issues(project, num);
CREATE INDEX IF NOT EXISTS ix_issues_updated ON issues(updated);
CREATE INDEX IF NOT EXISTS ix_issues_created ON issues(created);
CREATE INDEX IF NOT EXISTS ix_issues_parent ON issues(parent_id);
CREATE TABLE IF NOT EXISTS properties (
    issue_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (issue_id, key));
CREATE INDEX IF NOT EXISTS ix_properties_key ON properties(key);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL, author TEXT NOT NULL, update_author TEXT NOT NULL,
    body TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ix_comments_issue ON comments(issue_id);
CREATE TABLE IF NOT EXISTS worklogs (
    id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL, author TEXT NOT NULL, comment TEXT,
    started INTEGER NOT NULL, seconds INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ix_worklogs_issue ON worklogs(issue_id);
CREATE TABLE IF NOT EXISTS links (
    id INTEGER PRIMARY KEY, type_id TEXT NOT NULL, inward_id INTEGER NOT NULL, outward_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ix_links_inward ON links(inward_id);
CREATE INDEX IF NOT EXISTS ix_links_outward ON links(outward_id);
CREATE TABLE IF NOT EXISTS changelog (
    id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL, author TEXT NOT NULL, created INTEGER NOT NULL,
    items TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_changelog_issue ON changelog(issue_id);
"""
DATA_TABLES = ("issues", "properties", "comments", "worklogs", "links", "changelog")
ISSUE_COLUMNS = "id, key, project, num, issuetype, status, priority, parent_id, created, updated, fields"
FIRST_ID = 10000


@dataclass
class Issue:
    id: int
    key: str
    project: str
    num: int
    issuetype: str
    status: str
    priority: str | None
    parent_id: int | None
    created: int
    updated: int
    fields: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: sqlite3.Row | tuple[Any, ...]) -> Issue:
        *head, fields = row
        return cls(*head, fields=json.loads(fields))

    def as_row(self) -> tuple[Any, ...]:
        return (self.id, self.key, self.project, self.num, self.issuetype, self.status, self.priority,
                self.parent_id, self.created, self.updated, json.dumps(self.fields, ensure_ascii=False))


@dataclass
class Comment:
    id: int
    issue_id: int
    author: str
    update_author: str
    body: dict[str, Any]
    created: int
    updated: int


@dataclass
class Worklog:
    id: int
    issue_id: int
    author: str
    comment: dict[str, Any] | None
    started: int
    seconds: int
    created: int
    updated: int


@dataclass
class Link:
    id: int
    type_id: str
    inward_id: int
    outward_id: int


@dataclass
class History:
    id: int
    issue_id: int
    author: str
    created: int
    items: list[dict[str, Any]]


class Store:
    def __init__(self, path: Path) -> None:
        self.conn = open_database(path, SCHEMA)
        # SQLite's lower() only folds ASCII; JQL text search is case-insensitive for all scripts.
        self.conn.create_function("casefold", 1, lambda v: v.casefold() if isinstance(v, str) else v,
                                  deterministic=True)
        # Text search on rich-text fields looks at the document's text, not at its JSON markup.
        self.conn.create_function("adf_text", 1, lambda v: adf.to_plain(json.loads(v)) if v else None,
                                  deterministic=True)
        self._depth = 0
        self.clock_offset_ms = 0

    # -- transactions, settings, ids, clock -------------------------------------------------------

    @contextmanager
    def tx(self) -> Iterator[None]:
        """One write transaction; nested calls join the outer one."""
        self._depth += 1
        if self._depth == 1:
            self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.conn.execute("ROLLBACK")
            raise
        self._depth -= 1
        if self._depth == 0:
            self.conn.execute("COMMIT")

    def meta_get(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def meta_set(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = "
                          "excluded.value", (key, json.dumps(value)))

    def next_id(self, name: str, count: int = 1) -> int:
        """Reserve `count` ids of a sequence and return the first (ids are never reused)."""
        first = int(self.meta_get(f"seq:{name}", FIRST_ID))
        self.meta_set(f"seq:{name}", first + count)
        return first

    def now_ms(self) -> int:
        return wall_ms() + self.clock_offset_ms

    def write_ms(self) -> int:
        """The timestamp of a write: the clock, but strictly after every earlier write."""
        last = int(self.meta_get("clock:last", 0))
        stamp = max(self.now_ms(), last + 1)
        self.meta_set("clock:last", stamp)
        return stamp

    def note_written(self, stamp: int) -> None:
        """Keep the write clock ahead of a timestamp set from outside (seed, admin)."""
        if stamp > int(self.meta_get("clock:last", 0)):
            self.meta_set("clock:last", stamp)

    def clear(self) -> None:
        with self.tx():
            for table in DATA_TABLES:
                self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            self.conn.execute("DELETE FROM meta WHERE key LIKE 'seq:%' OR key LIKE 'clock:%'")

    # -- issues ---------------------------------------------------------------------------------------

    def insert_issues(self, issues: Iterable[Issue]) -> None:
        self.conn.executemany(f"INSERT INTO issues({ISSUE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                              [i.as_row() for i in issues])

    def save_issue(self, issue: Issue) -> None:
        self.conn.execute(
            "UPDATE issues SET issuetype=?, status=?, priority=?, parent_id=?, created=?, updated=?, fields=? "
            "WHERE id=?",
            (issue.issuetype, issue.status, issue.priority, issue.parent_id, issue.created, issue.updated,
             json.dumps(issue.fields, ensure_ascii=False), issue.id))

    def delete_issue(self, issue_id: int) -> None:
        for table in ("properties", "comments", "worklogs", "changelog"):
            self.conn.execute(f"DELETE FROM {table} WHERE issue_id = ?", (issue_id,))  # noqa: S608
        self.conn.execute("DELETE FROM links WHERE inward_id = ? OR outward_id = ?", (issue_id, issue_id))
        self.conn.execute("UPDATE issues SET parent_id = NULL WHERE parent_id = ?", (issue_id,))
        self.conn.execute("DELETE FROM issues WHERE id = ?", (issue_id,))

    def find_issue(self, id_or_key: str) -> Issue | None:
        if id_or_key.isdigit():
            sql, arg = f"SELECT {ISSUE_COLUMNS} FROM issues WHERE id = ?", int(id_or_key)  # noqa: S608
        else:
            sql, arg = f"SELECT {ISSUE_COLUMNS} FROM issues WHERE key = ?", id_or_key.upper()  # noqa: S608
        row = self.conn.execute(sql, (arg,)).fetchone()
        return Issue.from_row(row) if row else None

    def issues_by_ids(self, ids: list[int]) -> list[Issue]:
        """Issues in the order of `ids` (missing ones skipped)."""
        rows = self._rows_for(f"SELECT {ISSUE_COLUMNS} FROM issues WHERE id IN ({{marks}})", ids)  # noqa: S608
        found = {row[0]: Issue.from_row(row) for row in rows}
        return [found[i] for i in ids if i in found]

    def next_issue_numbers(self, project: str, count: int) -> int:
        return self.next_id(f"issue-num:{project}", count) - FIRST_ID + 1

    def search_ids(self, where: str, params: list[Any], order: str, limit: int, offset: int) -> list[int]:
        sql = f"SELECT i.id FROM issues i WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"  # noqa: S608
        return [r[0] for r in self.conn.execute(sql, [*params, limit, offset])]

    def count(self, where: str, params: list[Any]) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM issues i WHERE {where}", params).fetchone()[0])  # noqa: S608

    def _rows_for(self, sql: str, ids: list[int], size: int = 500) -> Iterator[Any]:
        """Rows of `sql` (with `{marks}` where the id placeholders go), querying the ids in chunks."""
        for chunk in _chunks(ids, size):
            marks = ",".join("?" * len(chunk))
            yield from self.conn.execute(sql.format(marks=marks), chunk * sql.count("{marks}"))

    # -- entity properties ----------------------------------------------------------------------------

    def property_keys(self, issue_id: int) -> list[str]:
        rows = self.conn.execute("SELECT key FROM properties WHERE issue_id = ? ORDER BY key", (issue_id,))
        return [r[0] for r in rows]

    def get_property(self, issue_id: int, key: str) -> tuple[bool, Any]:
        row = self.conn.execute("SELECT value FROM properties WHERE issue_id = ? AND key = ?",
                                (issue_id, key)).fetchone()
        return (True, json.loads(row[0])) if row else (False, None)

    def set_property(self, issue_id: int, key: str, value: Any) -> bool:
        """Store the value; True when the property is new."""
        created = not self.get_property(issue_id, key)[0]
        self.conn.execute("INSERT INTO properties(issue_id, key, value) VALUES (?, ?, ?) ON CONFLICT(issue_id, key) "
                          "DO UPDATE SET value = excluded.value", (issue_id, key, json.dumps(value, ensure_ascii=False)))
        return created

    def delete_property(self, issue_id: int, key: str) -> bool:
        cur = self.conn.execute("DELETE FROM properties WHERE issue_id = ? AND key = ?", (issue_id, key))
        return cur.rowcount > 0

    def properties_for(self, issue_ids: list[int], keys: list[str] | None) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = defaultdict(dict)
        for issue_id, key, value in self._rows_for("SELECT issue_id, key, value FROM properties WHERE issue_id IN "
                                                   "({marks})", issue_ids):
            if keys is None or key in keys:
                out[issue_id][key] = json.loads(value)
        return out

    # -- comments, worklogs, links, changelog ---------------------------------------------------------

    def add_comment(self, c: Comment) -> None:
        self.conn.execute("INSERT INTO comments VALUES (?,?,?,?,?,?,?)",
                          (c.id, c.issue_id, c.author, c.update_author, json.dumps(c.body, ensure_ascii=False),
                           c.created, c.updated))

    def add_comments(self, comments: list[Comment]) -> None:
        self.conn.executemany("INSERT INTO comments VALUES (?,?,?,?,?,?,?)", [
            (c.id, c.issue_id, c.author, c.update_author, json.dumps(c.body, ensure_ascii=False), c.created, c.updated)
            for c in comments])

    def save_comment(self, c: Comment) -> None:
        self.conn.execute("UPDATE comments SET body = ?, update_author = ?, updated = ? WHERE id = ?",
                          (json.dumps(c.body, ensure_ascii=False), c.update_author, c.updated, c.id))

    def delete_comment(self, comment_id: int) -> None:
        self.conn.execute("DELETE FROM comments WHERE id = ?", (comment_id,))

    def comments_for(self, issue_ids: list[int]) -> dict[int, list[Comment]]:
        out: dict[int, list[Comment]] = defaultdict(list)
        for row in self._rows_for("SELECT * FROM comments WHERE issue_id IN ({marks}) ORDER BY created, id", issue_ids):
            out[row[1]].append(Comment(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6]))
        return out

    def add_worklog(self, w: Worklog) -> None:
        self.conn.execute("INSERT INTO worklogs VALUES (?,?,?,?,?,?,?,?)",
                          (w.id, w.issue_id, w.author, json.dumps(w.comment, ensure_ascii=False) if w.comment else None,
                           w.started, w.seconds, w.created, w.updated))

    def worklogs_for(self, issue_ids: list[int]) -> dict[int, list[Worklog]]:
        out: dict[int, list[Worklog]] = defaultdict(list)
        for row in self._rows_for("SELECT * FROM worklogs WHERE issue_id IN ({marks}) ORDER BY started, id", issue_ids):
            comment = json.loads(row[3]) if row[3] else None
            out[row[1]].append(Worklog(row[0], row[1], row[2], comment, *row[4:]))
        return out

    def add_link(self, link: Link) -> None:
        self.conn.execute("INSERT INTO links VALUES (?,?,?,?)",
                          (link.id, link.type_id, link.inward_id, link.outward_id))

    def get_link(self, link_id: int) -> Link | None:
        row = self.conn.execute("SELECT * FROM links WHERE id = ?", (link_id,)).fetchone()
        return Link(*row) if row else None

    def delete_link(self, link_id: int) -> None:
        self.conn.execute("DELETE FROM links WHERE id = ?", (link_id,))

    def links_for(self, issue_ids: list[int]) -> dict[int, list[Link]]:
        out: dict[int, list[Link]] = defaultdict(list)
        wanted = set(issue_ids)
        for row in self._rows_for("SELECT * FROM links WHERE inward_id IN ({marks}) OR outward_id IN ({marks}) "
                                  "ORDER BY id", issue_ids, size=250):
            link = Link(*row)
            for side in {link.inward_id, link.outward_id} & wanted:
                if link not in out[side]:
                    out[side].append(link)
        return out

    def add_history(self, issue_id: int, author: str, created: int, items: list[dict[str, Any]]) -> None:
        hid = self.next_id("changelog")
        self.conn.execute("INSERT INTO changelog VALUES (?,?,?,?,?)",
                          (hid, issue_id, author, created, json.dumps(items, ensure_ascii=False)))

    def histories_for(self, issue_ids: list[int]) -> dict[int, list[History]]:
        out: dict[int, list[History]] = defaultdict(list)
        for row in self._rows_for("SELECT * FROM changelog WHERE issue_id IN ({marks}) ORDER BY created, id",
                                  issue_ids):
            out[row[1]].append(History(row[0], row[1], row[2], row[3], json.loads(row[4])))
        return out


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
