"""Reading named records: SOQL `Id IN (...)` queries and JQL `key in (...)` searches, chunked and quoted.

Used where the ids are known rather than a time window: the reconciliation's counterparts and the
sync's replay of open rejects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sfjira.batching import batches
from sfjira.exceptions import ApiError
from sfjira.hooks.jql import jql_string
from sfjira.hooks.soql import check_fields, check_sobject, soql_literal
from sfjira.hooks.soql_condition import where_clause

log = logging.getLogger(__name__)

CHUNK = 200  # ids per SOQL `Id IN (...)` (well inside SOQL's 100,000-character limit), keys per JQL search


def by_id_soqls(sobject: str, fields: Sequence[str], ids: Sequence[str], where: str | None = None,
                chunk: int = CHUNK) -> list[str]:
    """`SELECT <fields> FROM <object> WHERE Id IN (...)`, `chunk` quoted ids per query, ANDed with the
    mapping's `where` condition (checked to be one condition) when given."""
    check_sobject(sobject)
    columns = ", ".join(check_fields(fields))
    clause = where_clause(where)
    extra = f" AND {clause}" if clause is not None else ""
    return [f"SELECT {columns} FROM {sobject} WHERE Id IN ({', '.join(soql_literal(i) for i in part)}){extra}"
            for part in batches(ids, chunk)]


def pages_by_key(search: Callable[[str], Iterable[Sequence[Any]]], keys: Sequence[str],
                 chunk: int = CHUNK, workers: int = 1) -> Iterator[Sequence[Any]]:
    """Issue pages by key, `chunk` quoted keys per `key in (...)` search. JQL refuses a whole search
    naming one issue that does not exist, so a refused chunk is asked key by key and the keys Jira does
    not know are skipped (they are gone). The searches are independent of each other: `workers` of them
    run at once, their pages yielded in key order."""
    parts = list(batches(keys, chunk))
    if workers <= 1 or len(parts) <= 1:
        for part in parts:
            yield from _pages_of(search, part)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(parts)), thread_name_prefix="sfjira-by-key") as pool:
        for pages in pool.map(lambda part: _pages_of(search, part), parts):
            yield from pages


def _pages_of(search: Callable[[str], Iterable[Sequence[Any]]], part: Sequence[str]) -> list[Sequence[Any]]:
    try:
        return list(search(f"key in ({', '.join(jql_string(k) for k in part)})"))
    except ApiError as exc:
        if exc.status != 400:
            raise
    pages: list[Sequence[Any]] = []
    for key in part:
        try:
            pages += list(search(f"key = {jql_string(key)}"))
        except ApiError as one:
            if one.status != 400:
                raise
            log.info("Jira: %s does not exist (any more)", key)
    return pages
