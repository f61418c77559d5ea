"""When the sync uses Salesforce Bulk API 2.0 instead of REST, and what each path costs at the least.

The extract counts its window first (`SELECT COUNT()` with the window's own condition, through queryAll
as the extract itself, so deleted records count) and reads through a query job when the count is above
`[sfjira] bulk_query_threshold`; the Salesforce load writes its updates through ingest jobs when it holds
more records than `[sfjira] bulk_write_threshold`. Below the thresholds REST is cheaper: a job costs
several calls (create, status, results...) before the first record, a REST page one.

Protocol minimum of each path (sfjira.sync.report), calls:
- REST read: one query page per 2,000 records (at least one).
- Bulk read: one describe of each object the fields reach (CSV carries no types; the hook types the
  cells back by the describes: the queried object and the distinct parents of its relationship fields),
  the job create, one status read (the job done), one results read per result set (at least one). A set
  is `[sfjira] part_records` records, as the extract asks for sets of a part's size (`bulk_page` in its
  figures; reports that predate it read `QUERY_PAGE`). Further status polls while the job runs are the
  server's pace, not the protocol's need, so they are above the minimum.
- Bulk write, per job of at most `WRITE_CHUNK` records: create, upload, close, one status read, the
  successful and the failed results (six). A job sent again for rows left unprocessed is above it.
"""

from __future__ import annotations

import math

from sfjira import settings
from sfjira.hooks.salesforce_bulk import QUERY_PAGE

WRITE_CHUNK = 10_000
"""Records per ingest job and per write-ahead intent (Bulk API 2.0 takes 150,000,000 per job; 10,000
keeps a chunk's ledger, state and reject rows one transaction of reasonable size)."""
INGEST_JOB_CALLS = 6  # create, upload, close, status, successfulResults, failedResults
QUERY_JOB_CALLS = 2  # create, status


def use_bulk_query(window_count: int) -> bool:
    return window_count > settings.get_int("bulk_query_threshold")


def use_bulk_write(records: int) -> bool:
    return records > settings.get_int("bulk_write_threshold")


def query_read_calls(path: str, records: int, describes: int, rest_page: int, bulk_page: int | None = None) -> int:
    """The fewest calls the extract's read of `records` records needs on `path` ("rest" or "bulk"); a query
    job's results are read `bulk_page` records at a time (the size the extract asked for)."""
    if path == "bulk":
        return describes + QUERY_JOB_CALLS + max(1, math.ceil(records / (bulk_page or QUERY_PAGE)))
    return max(1, math.ceil(records / rest_page))


def write_calls(records: int) -> int:
    """Calls of a bulk write of `records` records: six per ingest job."""
    return INGEST_JOB_CALLS * math.ceil(records / WRITE_CHUNK)
