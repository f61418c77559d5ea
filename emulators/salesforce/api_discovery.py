"""Discovery: API versions, the version's resources, the sObject list, describe, and /limits."""

from __future__ import annotations

from starlette.responses import Response

from emulators.salesforce.bulk_jobs import BulkJobs
from emulators.salesforce.defaults import API_VERSIONS
from emulators.salesforce.errors import json_response
from emulators.salesforce.rest import Call

_RESOURCES = ("sobjects", "query", "queryAll", "composite", "limits", "search", "tooling", "jobs", "recent")


async def versions(call: Call) -> Response:
    return json_response([{"label": label, "url": f"/services/data/v{v}", "version": v}
                          for v, label in API_VERSIONS.items()])


async def resources(call: Call) -> Response:
    return json_response({name: f"/services/data/v{call.version}/{name}" for name in _RESOURCES})


async def sobjects(call: Call) -> Response:
    return json_response({"encoding": "UTF-8", "maxBatchSize": 200,
                          "sobjects": [o.summary(call.version) for o in call.org.schema.objects.values()]})


async def sobject(call: Call) -> Response:
    return json_response({"objectDescribe": call.sobject().summary(call.version), "recentItems": []})


async def describe(call: Call) -> Response:
    return json_response(call.org.schema.describe(call.sobject(), call.version))


async def limits(call: Call, jobs: BulkJobs) -> Response:
    config, used = call.org.config, call.org.usage.used
    jobs.roll()

    def entry(maximum: int, remaining: int) -> dict[str, int]:
        return {"Max": int(maximum), "Remaining": int(max(remaining, 0))}

    return json_response({
        "DailyApiRequests": entry(config["api_daily_max"], config["api_daily_max"] - used),
        # Bulk API 2.0 ingest jobs spend batches (one per 10,000 records); query jobs spend query jobs.
        "DailyBulkApiRequests": entry(config["bulk_daily_max"], config["bulk_daily_max"] - jobs.batches_today),
        "DailyBulkV2QueryJobs": entry(config["bulk_v2_query_jobs_max"],
                                      config["bulk_v2_query_jobs_max"] - jobs.query_jobs_today),
        "DailyBulkV2QueryFileStorageMB": entry(976_562, 976_562),
        "DailyAsyncApexExecutions": entry(250_000, 250_000),
        "DataStorageMB": entry(1_024, 1_024 - len(call.org.store.type_of) * 2 // 1_024),
        "ConcurrentAsyncGetReportInstances": entry(200, 200),
        "HourlyODataCallout": entry(10_000, 10_000),
    })
