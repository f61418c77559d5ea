"""Replication feeds: `/sobjects/{type}/updated/` and `/sobjects/{type}/deleted/` (getUpdated / getDeleted).

As documented: seconds in start and end are ignored, the covered window ends no later than now, and a
start older than the reach (15 days for deleted records, 30 for updated ones) is INVALID_REPLICATION_DATE.
"""

from __future__ import annotations

from starlette.responses import Response

from emulators.salesforce.errors import ApiError, SfError, json_response
from emulators.salesforce.rest import Call
from emulators.salesforce.timefmt import DAY_MS, format_datetime, parse_datetime

_MINUTE = 60_000


def _replication_error(message: str) -> SfError:
    return SfError(400, ApiError("INVALID_REPLICATION_DATE", message))


def _instant(call: Call, name: str) -> int:
    raw = call.request.query_params.get(name)
    if not raw:
        raise SfError(400, ApiError("MISSING_ARGUMENT", f"{name} is required: an ISO 8601 dateTime such as "
                                                        "2026-11-28T15:04:05Z"))
    try:
        # An unencoded '+' in a query string arrives as a space.
        return parse_datetime(raw.replace(" ", "+"))
    except ValueError:
        raise _replication_error(f"{name}: '{raw}' is not a valid dateTime") from None


def _window(call: Call, reach_days: float) -> tuple[int, int, int]:
    """(start, latest covered, earliest available), all on whole minutes."""
    start = _instant(call, "start") // _MINUTE * _MINUTE
    end = _instant(call, "end") // _MINUTE * _MINUTE
    if start >= end:
        raise _replication_error("startDate must chronologically precede endDate by more than one minute")
    now = call.org.clock.now_ms()
    earliest = int(now - reach_days * DAY_MS) // _MINUTE * _MINUTE
    if start < earliest:
        raise _replication_error(f"startDate cannot be more than {reach_days:g} days ago")
    return start, min(end, now // _MINUTE * _MINUTE), earliest


async def updated(call: Call) -> Response:
    obj = call.sobject()
    start, latest, _ = _window(call, call.org.config["updated_reach_days"])
    low, high = format_datetime(start), format_datetime(latest)
    rows = sorted((r["SystemModstamp"], r["Id"]) for r in call.org.store.live(obj.name)
                  if low <= r["SystemModstamp"] < high)
    return json_response({"ids": [record_id for _, record_id in rows], "latestDateCovered": high})


async def deleted(call: Call) -> Response:
    obj = call.sobject()
    start, latest, earliest = _window(call, call.org.config["deleted_reach_days"])
    low, high = format_datetime(start), format_datetime(latest)
    rows = sorted((r["SystemModstamp"], r["Id"]) for r in call.org.store.table(obj.name).values()
                  if r.get("IsDeleted") and low <= r["SystemModstamp"] < high)
    return json_response({"deletedRecords": [{"id": record_id, "deletedDate": stamp} for stamp, record_id in rows],
                          "earliestDateAvailable": format_datetime(earliest), "latestDateCovered": high})
