"""Bulk API 2.0 for SalesforceSyncHook: query jobs read as typed DataFrame parts, ingest jobs (update,
upsert by external id) answered as one WriteResult per input record, and jobs resumed by id.

It drives simple_salesforce's Bulk API 2.0 client (`sf.bulk2.<Object>`), over the hook's retrying,
counting session. The client's public helpers create a new job on every call; resuming a job a killed
task left behind needs its lower steps (create, upload, close, poll, results), which it keeps in
`SFBulk2Type._client`: that is the one private attribute used here.

CSV loses types: query results come back typed by the sObjects' describe (numbers, booleans, nulls,
datetimes in the REST API's `+0000` form), so a Bulk API part is the frame `records_to_frame` makes of
the same records from REST API pages. The typing is column by column (pandas), not cell by cell: a set
of 50,000 records with a few dozen fields is over a million cells. Ingest
results come back in no particular order: rows are matched to the input by the key column (Id for
updates, the external id for upserts), which is why one job never holds two rows with the same key.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from simple_salesforce.bulk2 import Operation

from sfjira.exceptions import ApiError
from sfjira.hooks.results import WriteError, WriteResult
from sfjira.hooks.salesforce_frames import shaped_frame
from sfjira.hooks.soql import check_fields, check_sobject

if TYPE_CHECKING:
    from simple_salesforce.bulk2 import _Bulk2Client

    from sfjira.hooks.salesforce import SalesforceSyncHook

log = logging.getLogger(__name__)

NULL = "#N/A"  # Bulk API CSV: an empty cell leaves a field alone, #N/A sets it to null
QUERY_PAGE = 50_000
DONE_STATES = ("JobComplete", "Failed", "Aborted")
_NUMBERS = {"int": int, "double": float, "currency": float, "percent": float, "long": int}

OnJob = Callable[[str], None]


@dataclass(frozen=True)
class BulkSettings:
    """Polling: first wait `poll_start` s, doubling to `poll_max` s, giving up after `timeout` s.
    `rounds`: ingest jobs tried for rows a job left unprocessed (the first one included)."""

    poll_start: float = 0.5
    poll_max: float = 10.0
    timeout: float = 3600.0
    rounds: int = 3
    query_page: int = QUERY_PAGE


def csv_value(value: Any) -> str:
    """A REST-shaped value as a Bulk API CSV cell: null (and "", which Salesforce stores as null) is #N/A."""
    if value is None or (isinstance(value, str) and value == "") or (isinstance(value, float) and value != value):
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def parse_error(text: str) -> WriteError:
    """sf__Error `CODE:message:Field1,Field2 --` -> WriteError."""
    body = text.strip().removesuffix("--").strip()
    code, _, rest = body.partition(":")
    message, _, fields = rest.rpartition(":")
    if not message or " " in fields:  # no field list: the last colon belongs to the message
        message, fields = rest, ""
    return WriteError(code=code or "UNKNOWN_EXCEPTION", message=message,
                      fields=tuple(f for f in fields.split(",") if f))


class SalesforceBulk:
    """Bulk API 2.0 through one SalesforceSyncHook (its token, session, call counter and describe)."""

    def __init__(self, hook: SalesforceSyncHook, settings: BulkSettings | None = None) -> None:
        self.hook = hook
        self.settings = settings or BulkSettings()
        self._types: dict[str, dict[str, dict[str, Any]]] = {}

    @property
    def objects_described(self) -> int:
        """sObjects described so far to type query results (one describe call each)."""
        return len(self._types)

    # -- queries ---------------------------------------------------------------------------------

    def query(self, soql: str, *, fields: Sequence[str] | None = None, include_deleted: bool = False,
              on_job: OnJob | None = None, page: int | None = None) -> Iterator[pd.DataFrame]:
        """Run SOQL as a query job and yield its results one set (<= `page` records, by default the settings'
        `query_page`) at a time, as DataFrames typed like `records_to_frame` of REST pages. `on_job` gets
        the job id as soon as it exists. A set is held whole while it is typed, so `page` bounds the memory."""
        sobject = _sobject_of(soql)
        client = self._client(sobject)
        operation = Operation.query_all if include_deleted else Operation.query
        job = self.hook._call("bulk query job", client.create_job, operation, soql)
        if on_job is not None:
            on_job(str(job["id"]))
        yield from self.resume_query(str(job["id"]), sobject, fields=fields, page=page)

    def resume_query(self, job_id: str, sobject: str, *, fields: Sequence[str] | None = None,
                     page: int | None = None) -> Iterator[pd.DataFrame]:
        """The results of an existing query job (waited for if still running), without creating another,
        in sets of <= `page` records as `query` reads them."""
        client = self._client(check_sobject(sobject))
        page = page or self.settings.query_page
        info = self._wait(client, job_id, is_query=True)
        if info["state"] != "JobComplete":
            raise ApiError(f"Salesforce Bulk API query job {job_id} ended {info['state']}: "
                           f"{info.get('errorMessage') or 'no message'}", code="BULK_JOB_FAILED", transient=True,
                           fix="run the task again: a new query job is created")
        locator = ""
        while True:
            result = self.hook._call("bulk query results", client.get_query_results, job_id, locator, page)
            frame = self.result_frame(sobject, result["records"], fields)
            if len(frame):
                yield frame
            locator = result["locator"]
            if not locator:
                return

    def result_frame(self, sobject: str, text: str, fields: Sequence[str] | None = None) -> pd.DataFrame:
        """One result set (CSV `text` of `sobject` records) as `records_to_frame` makes the same records of
        REST pages: same columns, dtypes and nulls. No records: a frame without rows."""
        cells = _cells(text)
        return shaped_frame(self._typed(sobject, cells), fields) if len(cells) else cells

    def _typed(self, sobject: str, cells: pd.DataFrame) -> pd.DataFrame:
        """A result set's cells (strings) typed by the describe, as `records_to_frame` types REST records."""
        return pd.DataFrame({column: typed_column(cells[column], self._field_type(sobject, column.split(".")))
                             for column in cells.columns})

    def _field_type(self, sobject: str, path: list[str]) -> str:
        fields = self._describe_fields(sobject)
        if len(path) == 1:
            return str((fields.get(path[0].lower()) or {}).get("type") or "string")
        relation = next((f for f in fields.values() if str(f.get("relationshipName") or "").lower()
                         == path[0].lower()), None)
        targets = (relation or {}).get("referenceTo") or []
        return self._field_type(str(targets[0]), path[1:]) if len(targets) == 1 else "string"

    def _describe_fields(self, sobject: str) -> dict[str, dict[str, Any]]:
        if sobject not in self._types:
            described = self.hook.describe(sobject)
            self._types[sobject] = {str(f["name"]).lower(): f for f in described.get("fields") or []}
        return self._types[sobject]

    # -- ingest ----------------------------------------------------------------------------------

    def update(self, sobject: str, records: Sequence[Mapping[str, Any]], *, on_job: OnJob | None = None,
               resume: str | None = None) -> list[WriteResult]:
        """Update records by Id. One WriteResult per record, in input order; refused rows are results."""
        return self._ingest(Operation.update, sobject, "Id", records, on_job, resume)

    def upsert(self, sobject: str, ext_id_field: str, records: Sequence[Mapping[str, Any]], *,
               on_job: OnJob | None = None, resume: str | None = None) -> list[WriteResult]:
        """Create-or-update by external id. `resume`: the id of a job a killed task created for these
        records; it is polled and collected (or, never closed, aborted and replaced) instead of duplicated."""
        check_fields([ext_id_field])
        return self._ingest(Operation.upsert, sobject, ext_id_field, records, on_job, resume)

    def _ingest(self, operation: Operation, sobject: str, key: str, records: Sequence[Mapping[str, Any]],
                on_job: OnJob | None, resume: str | None) -> list[WriteResult]:
        check_sobject(sobject)
        results: dict[int, WriteResult] = {}
        todo: list[int] = []
        for index, record in enumerate(records):
            if _blank(record.get(key)):
                results[index] = WriteResult.failed(index, "MISSING_ID" if key == "Id" else "MISSING_EXTERNAL_ID",
                                                    f"{key} is empty", (key,))
            else:
                todo.append(index)
        rounds, last_error = 0, ""
        while todo and rounds < self.settings.rounds:
            rounds += 1
            batch, todo = _unique_keys(todo, records, key)
            job_id = resume if resume and rounds == 1 else None
            outcome = self._run_job(operation, sobject, key, [(i, records[i]) for i in batch], job_id, on_job)
            results.update(outcome.results)
            last_error = outcome.error or last_error
            if outcome.unprocessed:
                log.warning("Salesforce Bulk API job %s left %d row(s) unprocessed (%s); sending them again",
                            outcome.job_id, len(outcome.unprocessed), outcome.error or "no message")
            if outcome.unprocessed and len(outcome.unprocessed) == len(batch) and not outcome.results:
                todo = outcome.unprocessed + todo
                break  # nothing moved: another job would fail the same way
            todo = outcome.unprocessed + todo
        for index in todo:
            results[index] = WriteResult.failed(index, "BULK_ROW_UNPROCESSED", f"the Bulk API job left the row "
                                                f"unprocessed: {last_error or 'no message'}")
        return [results[index] for index in range(len(records))]

    def _run_job(self, operation: Operation, sobject: str, key: str, items: list[tuple[int, Mapping[str, Any]]],
                 job_id: str | None, on_job: OnJob | None) -> _Outcome:
        client = self._client(sobject)
        data = _to_csv([record for _, record in items])
        if job_id is not None:
            state = self.hook._call("bulk job", client.get_job, job_id, False)["state"]
            if state == "Open":  # the task died before closing it: nothing ran, so start over cleanly
                self.hook._call("bulk abort", client.abort_job, job_id, False)
                job_id = None
        if job_id is None:
            job = self.hook._call("bulk ingest job", client.create_job, operation,
                                  external_id_field=key if operation == Operation.upsert else None)
            job_id = str(job["id"])
            if on_job is not None:
                on_job(job_id)
            self.hook._call("bulk upload", client.upload_job_data, job_id, data)
            self.hook._call("bulk close", client.close_job, job_id)
        info = self._wait(client, job_id, is_query=False)
        return self._collect(client, job_id, key, items, info)

    def _collect(self, client: _Bulk2Client, job_id: str, key: str, items: list[tuple[int, Mapping[str, Any]]],
                 info: Mapping[str, Any]) -> _Outcome:
        by_key = {csv_value(record[key]): index for index, record in items}
        outcome = _Outcome(job_id=job_id, error=str(info.get("errorMessage") or ""))
        for row in self._rows(client, job_id, "successfulResults"):
            index = by_key.pop(row.get(key, ""), None)
            if index is not None:
                outcome.results[index] = WriteResult(index=index, success=True, id=row.get("sf__Id") or None,
                                                     created=row.get("sf__Created") == "true")
        for row in self._rows(client, job_id, "failedResults"):
            index = by_key.pop(row.get(key, ""), None)
            if index is not None:
                outcome.results[index] = WriteResult(index=index, success=False, id=row.get("sf__Id") or None,
                                                     errors=(parse_error(row.get("sf__Error", "")),))
        # Whatever the job did not report (unprocessed, or results it never recorded) goes again.
        outcome.unprocessed = sorted(by_key.values())
        return outcome

    def _rows(self, client: _Bulk2Client, job_id: str, kind: str) -> list[dict[str, str]]:
        text = self.hook._call(f"bulk {kind}", client.get_ingest_results, job_id, kind)
        return list(csv.DictReader(io.StringIO(text))) if text.strip() else []

    # -- both ------------------------------------------------------------------------------------

    def _client(self, sobject: str) -> _Bulk2Client:
        # A fresh handler each time: it reads the hook's current token (refreshed after an expiry).
        return getattr(self.hook.conn.bulk2, sobject)._client

    def _wait(self, client: _Bulk2Client, job_id: str, is_query: bool) -> dict[str, Any]:
        delay, waited = self.settings.poll_start, 0.0
        while True:
            info: dict[str, Any] = self.hook._call("bulk job", client.get_job, job_id, is_query)
            if info.get("state") in DONE_STATES:
                return info
            if waited >= self.settings.timeout:
                raise ApiError(f"Salesforce Bulk API job {job_id} is still {info.get('state')} after {waited:.0f}s",
                               code="BULK_JOB_TIMEOUT", transient=True,
                               fix="run the task again: it resumes the same job from its id")
            self.hook.http.sleep(delay)
            waited += delay
            delay = min(delay * 2, self.settings.poll_max)


@dataclass
class _Outcome:
    job_id: str
    error: str = ""
    results: dict[int, WriteResult] = field(default_factory=dict)
    unprocessed: list[int] = field(default_factory=list)


def _cells(text: str) -> pd.DataFrame:
    """A Bulk API CSV result set as strings, "" where a field is null; its dotted headers (`Account.Name`)
    are flat column names, as `records_to_frame` makes of a REST record's nested parent."""
    if not text.strip():
        return pd.DataFrame()
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)


def typed_column(cells: pd.Series, kind: str) -> pd.Series:
    """One column of CSV cells as the REST API would have typed its values (describe type `kind`), with the
    dtype pandas infers for such values from REST records (json_normalize of dicts): "" is null; a
    column of nulls only stays None (object); booleans are `== "true"`, bool or, with nulls, Python bools
    and None (object); numbers float64, int kinds truncated and int64 unless a null makes them float64
    NaN; datetimes in the REST API's `+0000` form; strings str, NaN for null."""
    null = (cells == "").to_numpy(dtype=bool)
    if null.all():
        return pd.Series(np.full(len(cells), None, dtype=object), index=cells.index)
    if kind == "boolean":
        return _with_nulls((cells == "true").to_numpy(dtype=bool), null, cells.index)
    if kind in _NUMBERS:
        return _numbers(cells, null, whole=_NUMBERS[kind] is int)
    if kind == "datetime":
        zulu = cells.str.endswith("Z")
        cells = cells.where(~zulu, cells.str[:-1] + "+0000")  # the REST API's form, as the REST pages have it
    return cells.where(~null) if null.any() else cells


def _with_nulls(values: np.ndarray[Any, Any], null: np.ndarray[Any, Any], index: pd.Index) -> pd.Series:
    if not null.any():
        return pd.Series(values, index=index)
    boxed = values.astype(object)  # Python bools, as REST records hold them; pandas keeps them beside None
    boxed[null] = None
    return pd.Series(boxed, index=index, dtype=object)


def _numbers(cells: pd.Series, null: np.ndarray[Any, Any], whole: bool) -> pd.Series:
    values = np.full(len(cells), np.nan)
    values[~null] = cells.to_numpy(dtype=object)[~null].astype(float)  # float() of each string, as before
    if whole:
        values = np.trunc(values) + 0.0  # int(float(cell)): toward zero; + 0.0 turns -0.0 into int's 0
    return pd.Series(values.astype(np.int64) if whole and not null.any() else values, index=cells.index)


def _sobject_of(soql: str) -> str:
    words = soql.replace("\n", " ").split()
    upper = [w.upper() for w in words]
    if "FROM" not in upper:
        raise ValueError(f"not a SOQL query (no FROM): {soql[:80]!r}")
    return check_sobject(words[upper.index("FROM") + 1])


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _unique_keys(indexes: list[int], records: Sequence[Mapping[str, Any]], key: str) -> tuple[list[int], list[int]]:
    """(one record per key, the rest): results are matched by key, so a job never holds a key twice."""
    seen: set[str] = set()
    batch: list[int] = []
    rest: list[int] = []
    for index in indexes:
        value = csv_value(records[index][key]).lower()
        (rest if value in seen else batch).append(index)
        seen.add(value)
    return batch, rest


def _to_csv(records: Sequence[Mapping[str, Any]]) -> str:
    header = list(dict.fromkeys(name for record in records for name in record if name != "attributes"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    # A field a record lacks is an empty cell: left as it is, as a REST write leaves an absent field.
    writer.writerows([csv_value(record[name]) if name in record else "" for name in header] for record in records)
    return out.getvalue()
