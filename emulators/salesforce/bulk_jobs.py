"""Bulk API 2.0 jobs: their states, the CSV they take and give, and the work they do on the org.

A query job runs its SOQL through the same engine as /query and keeps the rows as a snapshot; an ingest
job applies its rows through the same `Transaction` as the REST API, 200 rows to a DML batch, so a row
fails with exactly the error code a REST write of the same values gets. Jobs live in memory (an
emulator restart forgets them, as a real org forgets jobs after seven days).

States follow the Bulk API 2.0 guide: a query job is created `UploadComplete`; an ingest job is created
`Open`, takes CSV uploads, and is closed with `UploadComplete`. Then `InProgress` for `bulk_job_polls`
polls of the job (config, default 0) and `JobComplete`, `Failed` or `Aborted`. Tests make jobs fail
through `BulkFaults` (admin action `bulk_faults`).
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass, field
from typing import Any

from emulators.salesforce.errors import ApiError, RecordError, SfError
from emulators.salesforce.ids import make_id
from emulators.salesforce.org import Org
from emulators.salesforce.schema import FieldDef, SObjectDef
from emulators.salesforce.soql_engine import Engine
from emulators.salesforce.soql_parser import Path, parse
from emulators.salesforce.timefmt import format_datetime
from emulators.salesforce.writes import MultipleMatches, Transaction

JOB_PREFIX = "750"
DELIMITERS = {"BACKQUOTE": "`", "CARET": "^", "COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "TAB": "\t"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
INGEST_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
QUERY_OPERATIONS = ("query", "queryAll")
TERMINAL = ("JobComplete", "Failed", "Aborted")
NULL_TOKEN = "#N/A"             # "To set a field value to null, use a field value of #N/A"
UPLOAD_MAX_BYTES = 150_000_000  # "Maximum file size: 150 MB" per upload
RECORDS_PER_BATCH = 10_000      # "Salesforce creates a separate batch for every 10,000 records"
DML_CHUNK = 200                 # rows per transaction inside a batch
QUERY_PAGE_DEFAULT = 50_000     # rows per result set when the client gives no maxRecords


def invalid_state(message: str) -> SfError:
    return SfError(400, ApiError("INVALIDJOBSTATE", message))


def bulk_datetime(value: str) -> str:
    """The REST API's `...000+0000` is `...000Z` in Bulk API CSV."""
    return value[:-5] + "Z" if value.endswith("+0000") else value


def csv_cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(value)  # 1000.0 stays 1000.0, as Salesforce prints doubles
    return bulk_datetime(value) if isinstance(value, str) else str(value)


def write_csv(header: list[str], rows: list[list[str | None]], delimiter: str = ",", line_ending: str = "\n") -> str:
    out = io.StringIO()
    # Salesforce quotes every value in result CSV; a null is an empty quoted value.
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_ending, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue()


def encode_locator(offset: int) -> str:
    """Since API 49.0 the locator is an opaque string such as MTAwMDA (base64 of the offset, no padding)."""
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int | None:
    try:
        offset = int(base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode())
    except (ValueError, UnicodeDecodeError):
        return None
    return offset if offset >= 0 else None


@dataclass
class BulkFaults:
    """What the next jobs suffer. `ingest_stop_after`: the next `ingest_times` ingest jobs process only that
    many rows, then go Failed with the rest left unprocessed; `query_failures`: that many query jobs go Failed."""

    ingest_stop_after: int | None = None
    ingest_times: int = 0
    query_failures: int = 0
    message: str = "InternalServerError : the job was interrupted before all rows were processed"

    def as_dict(self) -> dict[str, Any]:
        return {"ingest_stop_after": self.ingest_stop_after, "ingest_times": self.ingest_times,
                "query_failures": self.query_failures, "message": self.message}


@dataclass
class Job:
    id: str
    kind: str  # "query" | "ingest"
    operation: str
    object: str
    created_by: str
    created: str
    api_version: str
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    external_id: str | None = None
    query: str | None = None
    state: str = "Open"
    modstamp: str = ""
    polls_left: int = 0
    error_message: str | None = None
    uploads: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)  # query results, or the uploaded data rows
    successful: list[list[str | None]] = field(default_factory=list)
    failed: list[list[str | None]] = field(default_factory=list)
    unprocessed: list[list[str | None]] = field(default_factory=list)
    processed: int = 0
    failures: int = 0
    started_ms: int = 0
    finished_ms: int = 0

    @property
    def delimiter(self) -> str:
        return DELIMITERS[self.column_delimiter]

    @property
    def newline(self) -> str:
        return LINE_ENDINGS[self.line_ending]

    def info(self) -> dict[str, Any]:
        base: dict[str, Any] = {
            "id": self.id, "operation": self.operation, "object": self.object, "createdById": self.created_by,
            "createdDate": self.created, "systemModstamp": self.modstamp or self.created, "state": self.state,
            "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(self.api_version),
            "jobType": "V2Query" if self.kind == "query" else "V2Ingest", "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter, "numberRecordsProcessed": self.processed,
            "retries": 0, "totalProcessingTime": max(self.finished_ms - self.started_ms, 0),
        }
        if self.kind == "ingest":
            base.update(numberRecordsFailed=self.failures, apiActiveProcessingTime=base["totalProcessingTime"],
                        apexProcessingTime=0)
            if self.external_id:
                base["externalIdFieldName"] = self.external_id
            if self.state == "Open":
                base["contentUrl"] = f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches"
        else:
            base["query"] = self.query
        if self.error_message:
            base["errorMessage"] = self.error_message
        return base


class BulkJobs:
    """Every job of the org, the daily allocations they use, and the faults tests ask for."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.jobs: dict[str, Job] = {}
        self.faults = BulkFaults()
        self.query_jobs_today = 0
        self.batches_today = 0
        self.day = org.clock.now_ms() // 86_400_000

    def clear(self) -> None:
        self.jobs.clear()
        self.faults = BulkFaults()
        self.query_jobs_today = self.batches_today = 0

    def roll(self) -> None:
        today = self.org.clock.now_ms() // 86_400_000
        if today != self.day:
            self.day, self.query_jobs_today, self.batches_today = today, 0, 0

    def new_job(self, kind: str, operation: str, sobject: str, user_id: str, version: str, **options: Any) -> Job:
        self.roll()
        now = format_datetime(self.org.clock.now_ms())
        job = Job(id=make_id(JOB_PREFIX, self.org.next_sequence(JOB_PREFIX)), kind=kind, operation=operation,
                  object=sobject, created_by=user_id, created=now, api_version=version, **options)
        self.org.store.flush_meta()  # the job id sequence survives a restart: no id is ever handed out twice
        self.jobs[job.id] = job
        return job

    def get(self, job_id: str, kind: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.kind != kind:
            raise SfError(404, ApiError("NOT_FOUND", "The requested resource does not exist"))
        return job

    # -- state machine ---------------------------------------------------------------------------
    def queue(self, job: Job) -> None:
        """UploadComplete: processing starts after `bulk_job_polls` polls (at once when 0)."""
        job.state = "UploadComplete"
        job.polls_left = int(self.org.config.get("bulk_job_polls", 0))
        job.started_ms = self.org.clock.now_ms()
        self._touch(job)

    def poll(self, job: Job) -> Job:
        """A GET of the job: the clock of an asynchronous job."""
        if job.state in ("UploadComplete", "InProgress"):
            if job.polls_left > 0:
                job.polls_left -= 1
                job.state = "InProgress"
                self._touch(job)
            else:
                self.run(job)
        return job

    def abort(self, job: Job) -> None:
        if job.state in TERMINAL:
            raise invalid_state(f"Aborting already {'Completed' if job.state == 'JobComplete' else job.state} "
                                f"Job not allowed")
        if job.kind == "ingest":
            self._split_rows(job)
            job.unprocessed = list(job.rows)
        job.state = "Aborted"
        self._touch(job)

    def run(self, job: Job) -> None:
        try:
            if job.kind == "query":
                self._run_query(job)
            else:
                self._run_ingest(job)
        except SfError as exc:  # a job-level problem: the whole job fails with the API's message
            job.state, job.error_message = "Failed", f"{exc.errors[0].code} : {exc.errors[0].message}"
        job.finished_ms = self.org.clock.now_ms()
        self._touch(job)

    def _touch(self, job: Job) -> None:
        job.modstamp = format_datetime(self.org.clock.now_ms())

    # -- query -----------------------------------------------------------------------------------
    def check_query(self, text: str) -> str:
        """The queried sObject; refuses what Bulk API 2.0 cannot run (aggregates, OFFSET, child subqueries)."""
        query = parse(text)
        obj = self.org.schema.get(query.sobject)
        if obj is None:
            raise SfError(400, ApiError("INVALID_TYPE", f"sObject type '{query.sobject}' is not supported."))
        refused = ("Aggregate functions such as COUNT()" if query.count else
                   "OFFSET" if query.offset is not None else
                   "Parent-to-child relationship queries" if query.subqueries else None)
        if refused:
            raise SfError(400, ApiError("API_ERROR", f"{refused} are not supported in Bulk API 2.0 query jobs"))
        return obj.name

    def _run_query(self, job: Job) -> None:
        if self.faults.query_failures > 0:
            self.faults.query_failures -= 1
            job.state, job.error_message = "Failed", self.faults.message
            return
        assert job.query is not None
        engine = Engine(self.org.schema, self.org.store, self.org.clock.now_ms(), job.api_version)
        result = engine.run(job.query, include_deleted=job.operation == "queryAll")
        obj = self.org.schema.objects[job.object]
        paths = [_canonical_path(self.org, obj, p) for p in engine.query.fields]
        job.header = [".".join(p) for p in paths]
        job.rows = [[csv_cell(_dig(record, p)) for p in paths] for record in result.records]
        job.processed = len(job.rows)
        job.state = "JobComplete"

    # -- ingest ----------------------------------------------------------------------------------
    def _split_rows(self, job: Job) -> None:
        if job.header or not job.uploads:
            return
        for text in job.uploads:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=job.delimiter)
            header = next(reader, [])
            if job.header and header != job.header:
                raise SfError(400, ApiError("INVALIDBATCH", "InvalidBatch : every upload of a job needs the "
                                                            "same header row"))
            job.header = header
            job.rows.extend(list(r) for r in reader if r)

    def _run_ingest(self, job: Job) -> None:
        self._split_rows(job)
        obj = self.org.schema.objects[job.object]
        unknown = [c for c in job.header if obj.field(c) is None]
        if unknown:
            job.unprocessed = list(job.rows)
            raise SfError(400, ApiError("InvalidBatch", f"Field name not found : {unknown[0]}"))
        stop = len(job.rows)
        if self.faults.ingest_times > 0 and self.faults.ingest_stop_after is not None:
            self.faults.ingest_times -= 1
            if self.faults.ingest_stop_after < stop:
                stop = self.faults.ingest_stop_after
                job.error_message = self.faults.message
        self.roll()
        allowed_batches = max(int(self.org.config["bulk_daily_max"]) - self.batches_today, 0)
        if -(-stop // RECORDS_PER_BATCH) > allowed_batches:
            stop = allowed_batches * RECORDS_PER_BATCH
            job.error_message = "Exceeded the daily batch allocation (DailyBulkApiRequests)"
        self.batches_today += -(-stop // RECORDS_PER_BATCH)
        for start in range(0, stop, DML_CHUNK):
            self._apply_chunk(job, obj, job.rows[start:min(start + DML_CHUNK, stop)])
        job.unprocessed = job.rows[stop:]
        job.state = "Failed" if job.unprocessed else "JobComplete"

    def _apply_chunk(self, job: Job, obj: SObjectDef, rows: list[list[str | None]]) -> None:
        txn = Transaction(self.org, job.created_by)
        for row in rows:
            values = dict(zip(job.header, row, strict=False))
            try:
                record_id, created = self._apply_row(job, obj, txn, values)
            except RecordError as exc:
                job.failed.append([_row_id(values), _error_text(exc.errors[0]), *row])
                job.failures += 1
            else:
                job.successful.append([record_id, "true" if created else "false", *row])
            job.processed += 1
        txn.commit()

    def _apply_row(self, job: Job, obj: SObjectDef, txn: Transaction, values: dict[str, str | None]
                   ) -> tuple[str, bool]:
        body = _body(obj, values)
        try:
            if job.operation == "insert":
                return txn.create(obj, body), True
            if job.operation in ("delete", "hardDelete"):
                return txn.delete(_required_id(values), obj), False
            if job.operation == "update":
                record_id = _required_id(values)
                return txn.update(obj, record_id, {k: v for k, v in body.items() if k.lower() != "id"}), False
            assert job.external_id is not None
            key = next((v for k, v in values.items() if k.lower() == job.external_id.lower()), None)
            if not key:
                raise RecordError(ApiError("MISSING_ARGUMENT", f"{job.external_id} not specified",
                                           (job.external_id,)))
            try:
                return txn.upsert(obj, job.external_id, key, body)
            except MultipleMatches as exc:
                raise RecordError(ApiError("DUPLICATE_EXTERNAL_ID", f"More than 1 record found for external id "
                                                                    f"field: {exc.ids}", (job.external_id,))) from None
        except SfError as exc:  # a value the field cannot hold: in a bulk job that fails the row, not the job
            raise RecordError(*exc.errors) from None


def _body(obj: SObjectDef, values: dict[str, str | None]) -> dict[str, Any]:
    """CSV cells as field values: an empty cell is ignored, #N/A sets null; values are typed by the field."""
    body: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        fdef = obj.field(name)
        if value == NULL_TOKEN:
            body[name] = None
        elif fdef is not None and fdef.type in ("int", "double", "currency", "percent") \
                and not _is_number(value):
            raise RecordError(ApiError("INVALID_FIELD", f"'{value}' is not a valid value for the type xsd:"
                                                        f"{'int' if fdef.type == 'int' else 'double'}", (fdef.name,)))
        else:
            body[name] = value
    return body


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _required_id(values: dict[str, str | None]) -> str:
    record_id = _row_id(values)
    if not record_id:
        raise RecordError(ApiError("MISSING_ARGUMENT", "Id not specified in an update call", ("Id",)))
    return record_id


def _row_id(values: dict[str, str | None]) -> str:
    return next((v or "" for k, v in values.items() if k.lower() == "id"), "")


def _error_text(error: ApiError) -> str:
    """sf__Error: `CODE:message:field,field --` (the Bulk API's row error format)."""
    return f"{error.code}:{error.message}:{','.join(error.fields)} --"


def _canonical_path(org: Org, obj: SObjectDef, path: Path) -> tuple[str, ...]:
    """`account.name` -> ("Account", "Name"): result columns carry the API names, whatever case was asked."""
    out: list[str] = []
    current: SObjectDef | None = obj
    for index, part in enumerate(path.parts):
        last = index == len(path.parts) - 1
        if current is None:
            out.append(part)
            continue
        if last:
            fdef: FieldDef | None = current.field(part)
            out.append(fdef.name if fdef else part)
        else:
            rel = current.relationship(part)
            out.append(rel.relationship_name or part if rel else part)
            target = rel.reference_to[0] if rel and len(rel.reference_to) == 1 else None
            current = org.schema.objects.get(target) if target else None
    return tuple(out)


def _dig(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for part in path:
        if not isinstance(value, dict):
            return None
        value = next((v for k, v in value.items() if k.lower() == part.lower()), None)
    return value
