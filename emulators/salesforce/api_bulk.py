"""Bulk API 2.0 resources under /services/data/vXX.X/jobs/: query jobs with CSV results paged by
`Sforce-Locator`, and ingest jobs with CSV uploads and successful / failed / unprocessed results.

JSON in and out except where the guide says CSV (uploads, results). Errors have the REST shape
`[{"errorCode", "message"}]`. The work itself is in `bulk_jobs`.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from emulators.salesforce.bulk_jobs import (
    DELIMITERS,
    INGEST_OPERATIONS,
    LINE_ENDINGS,
    QUERY_OPERATIONS,
    QUERY_PAGE_DEFAULT,
    TERMINAL,
    UPLOAD_MAX_BYTES,
    BulkFaults,
    BulkJobs,
    Job,
    decode_locator,
    encode_locator,
    invalid_state,
    write_csv,
)
from emulators.salesforce.errors import ApiError, SfError, json_response
from emulators.salesforce.rest import Call
from emulators.salesforce.writes import external_id_field

CSV_TYPE = "text/csv; charset=UTF-8"


def _invalid_job(message: str) -> SfError:
    return SfError(400, ApiError("INVALIDJOB", message))


def _csv(text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text.encode("utf-8"), media_type=CSV_TYPE, headers=headers)


async def _json_object(call: Call) -> dict[str, Any]:
    body, _ = await call.body()
    if not isinstance(body, dict):
        raise SfError(400, ApiError("JSON_PARSER_ERROR", "The request body must be a JSON object"))
    return body


def _format_options(body: dict[str, Any]) -> dict[str, str]:
    delimiter, ending = body.get("columnDelimiter", "COMMA"), body.get("lineEnding", "LF")
    if delimiter not in DELIMITERS:
        raise _invalid_job(f"InvalidJob : Invalid column delimiter: {delimiter}")
    if ending not in LINE_ENDINGS:
        raise _invalid_job(f"InvalidJob : Invalid line ending: {ending}")
    if body.get("contentType", "CSV") != "CSV":
        raise _invalid_job(f"InvalidJob : Unsupported content type: {body.get('contentType')}")
    return {"column_delimiter": delimiter, "line_ending": ending}


class BulkApi:
    def __init__(self, jobs: BulkJobs) -> None:
        self.jobs = jobs

    # -- query jobs ------------------------------------------------------------------------------
    async def create_query(self, call: Call) -> Response:
        body = await _json_object(call)
        operation, text = body.get("operation", "query"), body.get("query")
        if operation not in QUERY_OPERATIONS:
            raise _invalid_job(f"InvalidJob : Invalid operation for a query job: {operation}")
        if not isinstance(text, str) or not text.strip():
            raise SfError(400, ApiError("MALFORMED_QUERY", "A query string has to be specified"))
        options = _format_options(body)
        sobject = self.jobs.check_query(text)
        self.jobs.roll()
        if self.jobs.query_jobs_today >= int(call.org.config["bulk_v2_query_jobs_max"]):
            raise SfError(400, ApiError("LIMIT_EXCEEDED", "Max number of query jobs per 24 hour rolling window "
                                                          "(DailyBulkV2QueryJobs) exceeded"))
        self.jobs.query_jobs_today += 1
        job = self.jobs.new_job("query", operation, sobject, call.user_id, call.version, query=text, **options)
        self.jobs.queue(job)
        return json_response(job.info())

    async def query_info(self, call: Call) -> Response:
        return json_response(self.jobs.poll(self._job(call, "query")).info())

    async def query_results(self, call: Call) -> Response:
        job = self._job(call, "query")
        if job.state != "JobComplete":
            raise SfError(400, ApiError("JOB_NOT_COMPLETE", "can only download query results of successfully "
                                                            "completed bulk job with status: JOB_COMPLETE. Current "
                                                            f"status: {_upper_state(job.state)}"))
        params = call.request.query_params
        start = decode_locator(params["locator"]) if params.get("locator") else 0
        if start is None or start > len(job.rows):
            raise SfError(400, ApiError("INVALID_LOCATOR", f"Invalid locator: {params.get('locator')}"))
        size = _max_records(params.get("maxRecords"))
        page = job.rows[start:start + size]
        end = start + len(page)
        headers = {"Sforce-NumberOfRecords": str(len(page)),
                   "Sforce-Locator": encode_locator(end) if end < len(job.rows) else "null"}
        return _csv(write_csv(job.header, page, job.delimiter, job.newline), headers)

    # -- ingest jobs -----------------------------------------------------------------------------
    async def create_ingest(self, call: Call) -> Response:
        body = await _json_object(call)
        operation, name = body.get("operation"), body.get("object")
        if operation not in INGEST_OPERATIONS:
            raise _invalid_job(f"InvalidJob : Invalid operation: {operation}")
        obj = call.org.schema.get(name) if isinstance(name, str) else None
        if obj is None:
            raise _invalid_job(f"InvalidJob : Unable to find object: {name}")
        options: dict[str, Any] = _format_options(body)
        if operation == "upsert":
            ext = body.get("externalIdFieldName")
            if not isinstance(ext, str):
                raise _invalid_job("InvalidJob : External ID was blank for upsert")
            try:
                options["external_id"] = external_id_field(obj, ext).name
            except SfError:
                raise _invalid_job(f"InvalidJob : Field name provided, {ext} does not match an External ID for "
                                   f"{obj.name}") from None
        job = self.jobs.new_job("ingest", operation, obj.name, call.user_id, call.version, **options)
        return json_response(job.info())

    async def upload(self, call: Call) -> Response:
        job = self._job(call, "ingest")
        if job.state != "Open":
            raise invalid_state(f"Uploading data to a job in state {job.state} is not allowed")
        raw = await call.request.body()
        if len(raw) > UPLOAD_MAX_BYTES:
            raise SfError(400, ApiError("INVALIDBATCH", f"InvalidBatch : the upload is {len(raw)} bytes, more "
                                                        f"than the {UPLOAD_MAX_BYTES} bytes a job takes"))
        if not raw.strip():
            raise SfError(400, ApiError("INVALIDBATCH", "InvalidBatch : the upload is empty"))
        job.uploads.append(raw.decode("utf-8", errors="replace"))
        return Response(status_code=201)

    async def ingest_info(self, call: Call) -> Response:
        return json_response(self.jobs.poll(self._job(call, "ingest")).info())

    async def ingest_results(self, call: Call) -> Response:
        job = self._job(call, "ingest")
        kind = call.request.path_params["kind"].lower()
        if kind == "successfulresults":
            return _csv(write_csv(["sf__Id", "sf__Created", *job.header], job.successful))
        if kind == "failedresults":
            return _csv(write_csv(["sf__Id", "sf__Error", *job.header], job.failed))
        if kind == "unprocessedrecords":
            return _csv(write_csv(job.header, job.unprocessed) if job.header else "")
        raise SfError(404, ApiError("NOT_FOUND", "The requested resource does not exist"))

    # -- both ------------------------------------------------------------------------------------
    async def set_state(self, call: Call) -> Response:
        kind = _kind(call)
        job = self._job(call, kind)
        state = (await _json_object(call)).get("state")
        if state == "Aborted":
            self.jobs.abort(job)
        elif state == "UploadComplete" and kind == "ingest":
            if job.state != "Open":
                raise invalid_state(f"Closing already {job.state} Job not allowed")
            self.jobs.queue(job)
        else:
            raise invalid_state(f"Changing the state of a {kind} job to {state} is not allowed")
        return json_response(job.info())

    async def delete(self, call: Call) -> Response:
        job = self._job(call, _kind(call))
        if job.state not in (*TERMINAL, "UploadComplete"):
            raise invalid_state(f"Deleting a job in state {job.state} is not allowed")
        del self.jobs.jobs[job.id]
        return Response(status_code=204)

    async def list_jobs(self, call: Call) -> Response:
        kind = _kind(call)
        return json_response({"done": True, "nextRecordsUrl": None,
                              "records": [j.info() for j in self.jobs.jobs.values() if j.kind == kind]})

    def _job(self, call: Call, kind: str) -> Job:
        return self.jobs.get(call.request.path_params["job_id"], kind)


def _kind(call: Call) -> str:
    return "query" if "/jobs/query" in call.request.url.path else "ingest"


def _upper_state(state: str) -> str:
    return {"UploadComplete": "UPLOAD_COMPLETE", "InProgress": "IN_PROGRESS", "JobComplete": "JOB_COMPLETE",
            "Failed": "FAILED", "Aborted": "ABORTED", "Open": "OPEN"}[state]


def _max_records(raw: str | None) -> int:
    if raw is None:
        return QUERY_PAGE_DEFAULT
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise SfError(400, ApiError("INVALIDREQUEST", f"maxRecords must be a positive integer, got {raw}"))
    return value


def bulk_faults(jobs: BulkJobs, body: dict[str, Any]) -> dict[str, Any]:
    """Admin action: {"ingest_stop_after": 2, "ingest_times": 1, "query_failures": 1, "message": "..."};
    {} reads the current faults, {"clear": true} clears them."""
    if body.get("clear"):
        jobs.faults = BulkFaults()
    elif body:
        unknown = sorted(set(body) - set(BulkFaults().as_dict()))
        if unknown:
            raise ValueError(f"unknown bulk fault(s) {unknown}; allowed: {', '.join(BulkFaults().as_dict())}")
        jobs.faults = BulkFaults(**{**jobs.faults.as_dict(), **body})
    return jobs.faults.as_dict()
