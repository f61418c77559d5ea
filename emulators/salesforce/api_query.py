"""/query and /queryAll with paging through query locators (`nextRecordsUrl`).

A query's result is computed once and kept as a snapshot, so paging through it is stable while other
calls write: page N shows the records as they were when the query ran, as in a real org.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from emulators.salesforce.defaults import QUERY_BATCH_MAX, QUERY_BATCH_MIN
from emulators.salesforce.errors import ApiError, SfError, json_response
from emulators.salesforce.ids import base62, to18
from emulators.salesforce.rest import Call
from emulators.salesforce.soql_engine import Engine

_BATCH_RE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)
_LOCATOR_RE = re.compile(r"^(01g[0-9A-Za-z]{15})-(\d+)$")
_MAX_OPEN_CURSORS = 200


@dataclass
class Cursor:
    records: list[dict[str, Any]]
    batch: int


class Cursors:
    """Open query locators, least recently used dropped first (real ones expire after 15 minutes idle)."""

    def __init__(self) -> None:
        self.open: OrderedDict[str, Cursor] = OrderedDict()
        self.sequence = 0

    def add(self, cursor: Cursor) -> str:
        self.sequence += 1
        locator = to18("01gKj" + base62(self.sequence, 10))
        self.open[locator] = cursor
        while len(self.open) > _MAX_OPEN_CURSORS:
            self.open.popitem(last=False)
        return locator

    def get(self, locator: str) -> Cursor | None:
        cursor = self.open.get(locator)
        if cursor is not None:
            self.open.move_to_end(locator)
        return cursor

    def clear(self) -> None:
        self.open.clear()


def batch_size(call: Call, default: int = QUERY_BATCH_MAX) -> int:
    match = _BATCH_RE.search(call.request.headers.get("sforce-query-options", ""))
    return default if not match else min(max(int(match.group(1)), QUERY_BATCH_MIN), QUERY_BATCH_MAX)


def page(call: Call, locator: str, cursor: Cursor, start: int, batch: int) -> dict[str, Any]:
    chunk = cursor.records[start:start + batch]
    end = start + len(chunk)
    body: dict[str, Any] = {"totalSize": len(cursor.records), "done": end >= len(cursor.records)}
    if not body["done"]:
        body["nextRecordsUrl"] = f"/services/data/v{call.version}/query/{locator}-{end}"
    body["records"] = chunk
    return body


class QueryApi:
    def __init__(self, cursors: Cursors) -> None:
        self.cursors = cursors

    async def query(self, call: Call) -> Response:
        return self._run(call, include_deleted=False)

    async def query_all(self, call: Call) -> Response:
        return self._run(call, include_deleted=True)

    def _run(self, call: Call, include_deleted: bool) -> Response:
        text = call.request.query_params.get("q")
        if not text:
            raise SfError(400, ApiError("MALFORMED_QUERY", "A query string has to be specified"))
        org = call.org
        result = Engine(org.schema, org.store, org.clock.now_ms(), call.version).run(text, include_deleted)
        batch = batch_size(call)
        if len(result.records) <= batch:
            return json_response({"totalSize": result.total_size, "done": True, "records": result.records})
        cursor = Cursor(result.records, batch)
        return json_response(page(call, self.cursors.add(cursor), cursor, 0, batch))

    async def more(self, call: Call) -> Response:
        match = _LOCATOR_RE.match(call.request.path_params["locator"])
        cursor = self.cursors.get(match.group(1)) if match else None
        if match is None or cursor is None or int(match.group(2)) > len(cursor.records):
            raise SfError(400, ApiError("INVALID_QUERY_LOCATOR", "invalid query locator"))
        return json_response(page(call, match.group(1), cursor, int(match.group(2)), batch_size(call, cursor.batch)))
