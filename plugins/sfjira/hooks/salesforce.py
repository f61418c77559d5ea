"""SalesforceSyncHook: OAuth against the connection's token URL, paged and incremental SOQL,
the deleted feed, and sObject Collections writes, over the shared retrying HTTP session.

Connection (type `salesforce`): see `sfjira.hooks.salesforce_oauth` for the grant fields; besides:
`instance_url` (extra, or host), `version` (extra, default 62.0), `ca_bundle` (extra: PEM file pinned
for every call, winning over REQUESTS_CA_BUNDLE), `verify` / `allow_insecure_tls` / `allow_insecure_http`
(extras, as for Jira: see sfjira.http.transport), `retry_max_attempts` / `retry_base_delay` /
`retry_max_delay` / `retry_max_total` (extras), `timeout` (extra, read timeout in seconds).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
import requests
from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceMalformedRequest

from sfjira import error_catalog
from sfjira.batching import batches
from sfjira.exceptions import ApiError, ApiLimitExceeded
from sfjira.hooks.chunks import ChunkRejected, write_isolating
from sfjira.hooks.payload import dumps, salesforce_wire
from sfjira.hooks.results import WriteError, WriteResult
from sfjira.hooks.salesforce_bulk import OnJob, SalesforceBulk
from sfjira.hooks.salesforce_frames import records_to_frame
from sfjira.hooks.salesforce_oauth import OAuthSettings, Token, extra, request_token
from sfjira.hooks.secrets import mask
from sfjira.hooks.soql import check_fields, check_sobject, deleted_soql, incremental_soql, require_aware
from sfjira.http import CallCounter, ResilientSession, RetryPolicy, TransportPolicy, transport_transient
from sfjira.identity.keys import is_sfid, preview, segment
from sfjira.values.missing import is_missing

__all__ = ["SalesforceSyncHook", "records_to_frame"]

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from sfjira.mapping.model import FieldMapping

T = TypeVar("T")
Page = list[dict[str, Any]]

DEFAULT_API_VERSION = "62.0"
DELETED_FEED_DAYS = 15  # the getDeleted feed answers for no more than 15 days back
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


def _errors_of(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, list):
        return [e for e in content if isinstance(e, dict)]
    return [content] if isinstance(content, dict) else []


def _error_codes(response: requests.Response) -> set[str]:
    try:
        return {str(e.get("errorCode")) for e in _errors_of(response.json())}
    except ValueError:
        return set()


def _parse_sf_datetime(value: str) -> datetime:
    """2013-05-07T22:07:19.000+0000 (Salesforce) or any ISO 8601 form."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _floor_minute(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(second=0, microsecond=0)


class SalesforceSyncHook(SalesforceHook):
    """Salesforce for the sync: lazy, OAuth-capable, retrying, and counting its API calls.

    :param salesforce_conn_id: Airflow connection of type `salesforce`.
    :param api_version: REST API version, e.g. "62.0" (default: connection extra `version`, else 62.0).

    After calls, `api_usage` holds the org's daily API usage from `Sforce-Limit-Info`
    (`{"used": int, "max": int}`) and `calls` the number of HTTP calls per endpoint.
    """

    hook_name = "Salesforce (sfjira sync)"
    # Protocol limits, defined here only (the loads and the report's protocol minimum read them).
    COLLECTION_MAX = 200    # records per sObject Collections request
    QUERY_PAGE_MAX = 2000   # records per SOQL query page (Sforce-Query-Options batchSize)

    def __init__(self, salesforce_conn_id: str = SalesforceHook.default_conn_name, *,
                 api_version: str | None = None) -> None:
        super().__init__(salesforce_conn_id=salesforce_conn_id)
        if api_version is not None and not re.fullmatch(r"\d{2,3}\.0", str(api_version)):
            raise ValueError(f"api_version must look like '62.0', got {api_version!r}")
        self.api_version = api_version
        self.counter = CallCounter()
        self.api_usage: dict[str, int | None] = {"used": None, "max": None}
        self._settings: OAuthSettings | None = None
        self._http: ResilientSession | None = None
        self._token: Token | None = None
        self._refresh_token: str | None = None  # rotated refresh token: memory only, never persisted
        self._prefixes: dict[str, str] = {}

    # -- connection and auth -------------------------------------------------------------------

    @property
    def calls(self) -> dict[str, int]:
        """HTTP calls made so far, per endpoint (`METHOD /path/{id}`)."""
        return dict(self.counter.calls)

    @property
    def http(self) -> ResilientSession:
        if self._http is None:
            connection = self.get_connection(self.conn_id)
            extras = connection.extra_dejson
            transport = TransportPolicy.from_extras("Salesforce", self.conn_id, extras)
            self._settings = OAuthSettings.from_connection(connection.login, connection.password, extras,
                                                           connection.host)
            transport.check_url(self._settings.token_url, "token_url")
            if self._settings.instance_url:
                transport.check_url(self._settings.instance_url, "instance_url")
            self.api_version = self.api_version or str(extra(extras, "version") or DEFAULT_API_VERSION)
            read_timeout = float(extra(extras, "timeout") or 120)
            http = ResilientSession(system="Salesforce", transport=transport, policy=RetryPolicy.from_extras(extras),
                                    counter=self.counter, timeout=(10.0, read_timeout))
            http.auth_refresher = self._refresh_on_expiry
            http.limit_detector = self._daily_limit_spent
            http.observers.append(self._read_limit_info)
            self._http = http
        return self._http

    def authenticate(self) -> Token:
        """Get a new access token with the connection's grant (also used on INVALID_SESSION_ID)."""
        http = self.http
        assert self._settings is not None
        token = request_token(http, self._settings, self._refresh_token)
        mask(token.access_token, token.refresh_token)
        http.transport.check_url(token.instance_url, "instance_url returned by the token endpoint")
        if token.refresh_token:
            self._refresh_token = token.refresh_token
        self._token = token
        self.session_id = token.access_token
        log.info("Salesforce: authenticated with the %s grant at %s", self._settings.grant_type,
                 self._settings.token_url)
        return token

    @cached_property
    def conn(self) -> Salesforce:
        """simple_salesforce client on our token and session (no login of its own)."""
        token = self._token or self.authenticate()
        return Salesforce(session_id=token.access_token, instance_url=token.instance_url, version=self.api_version,
                          session=self.http, object_pairs_hook=dict)

    def get_conn(self) -> Salesforce:
        return self.conn

    def _refresh_on_expiry(self, response: requests.Response) -> Mapping[str, str] | None:
        if response.status_code != 401 or self._settings is None or response.url.startswith(self._settings.token_url):
            return None
        if "INVALID_SESSION_ID" not in _error_codes(response):
            return None
        token = self.authenticate()
        if "conn" in self.__dict__:
            self.conn.session_id = token.access_token
            self.conn.headers["Authorization"] = f"Bearer {token.access_token}"
        return {"Authorization": f"Bearer {token.access_token}"}

    def _daily_limit_spent(self, response: requests.Response) -> ApiLimitExceeded | None:
        if response.status_code != 403 or "REQUEST_LIMIT_EXCEEDED" not in _error_codes(response):
            return None
        usage = f" (used {self.api_usage['used']} of {self.api_usage['max']})" if self.api_usage["max"] else ""
        return ApiLimitExceeded(
            f"Salesforce refused the call: the org's API request limit is spent{usage}",
            status=403,
            fix="stop syncing until the rolling 24-hour usage drops (Setup > Company Information shows it), "
                "lower the sync frequency, or ask Salesforce for a higher limit",
        )

    def _read_limit_info(self, response: requests.Response) -> None:
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.api_usage = {"used": int(match.group(1)), "max": int(match.group(2))}

    def _call(self, action: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a simple_salesforce call, turning its errors into ApiError with a fix."""
        try:
            return fn(*args, **kwargs)
        except SalesforceError as exc:
            errors = _errors_of(exc.content)
            code = str(errors[0].get("errorCode")) if errors else "SALESFORCE_API_ERROR"
            message = str(errors[0].get("message")) if errors else str(exc.content)[:500]
            # The catalog knows which errorCodes pass (UNABLE_TO_LOCK_ROW) whatever the status says.
            raise ApiError(f"Salesforce {action} failed: HTTP {exc.status} {code}: {message}", status=exc.status,
                           code=code, fix=error_catalog.fix_for(code) or "see the Salesforce REST API error code",
                           transient=error_catalog.transient(code, exc.status)) from exc
        except requests.RequestException as exc:
            raise ApiError(f"Salesforce {action} failed: {type(exc).__name__} talking to the instance",
                           code="CONNECTION_FAILED", transient=transport_transient(exc),
                           fix="check that the instance URL is reachable and the CA bundle is right; "
                               "the call was already retried with backoff") from exc

    # -- reads -----------------------------------------------------------------------------------

    def query_pages(self, soql: str, include_deleted: bool = False, batch_size: int = QUERY_PAGE_MAX
                    ) -> Iterator[Page]:
        """Run SOQL and yield its records one page (<= batch_size records) at a time, following
        nextRecordsUrl. `include_deleted` uses queryAll (deleted and archived records too)."""
        if not 200 <= batch_size <= 2000:
            raise ValueError(f"batch_size must be between 200 and 2000 (Salesforce's range), got {batch_size}")
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
        result = self._call("query", self.conn.query, soql, include_deleted=include_deleted, headers=headers)
        while True:
            if result.get("records"):
                yield list(result["records"])
            if result.get("done", True) or not result.get("nextRecordsUrl"):
                return
            result = self._call("query", self.conn.query_more, result["nextRecordsUrl"], identifier_is_url=True,
                                headers=headers)

    def count(self, soql: str, include_deleted: bool = False) -> int:
        """The totalSize of a `SELECT COUNT() ...` query: one call, no records."""
        result = self._call("count query", self.conn.query, soql, include_deleted=include_deleted)
        return int(result.get("totalSize") or 0)

    def changed_records(self, sobject: str, fields: Sequence[str], since: datetime, until: datetime,
                        where: str | None = None, batch_size: int = QUERY_PAGE_MAX) -> Iterator[Page]:
        """Records of `sobject` with `since <= SystemModstamp < until`, ordered by SystemModstamp, Id.

        Id and SystemModstamp are always selected; `fields` may hold parent paths like Account.Name
        (flatten pages with `records_to_frame(pages, fields)`). `where` is an extra SOQL condition.
        """
        yield from self.query_pages(incremental_soql(sobject, fields, since, until, where), batch_size=batch_size)

    def deleted_ids(self, sobject: str, since: datetime, until: datetime, *, now: datetime | None = None) -> list[str]:
        """Ids of `sobject` records deleted in [since, until), sorted.

        Within the last 15 days the deleted feed (sObject Get Deleted) answers; past its
        `latestDateCovered`, or when the window is older or the feed was purged past `since`,
        queryAll with IsDeleted = true fills in.
        """
        check_sobject(sobject)
        require_aware(since, "since")
        require_aware(until, "until")
        now = now or datetime.now(UTC)
        ids: set[str] = set()
        covered = since
        # An hour of margin: the feed counts its 15 days on the server's clock, not ours.
        if since > now - timedelta(days=DELETED_FEED_DAYS) + timedelta(hours=1):
            feed = self._deleted_feed(sobject, since, min(until, now))
            if feed is not None:
                ids, covered = feed[0], max(feed[1], since)
        if covered < until:
            pages = self.query_pages(deleted_soql(sobject, covered, until), include_deleted=True)
            ids.update(record["Id"] for page in pages for record in page)
        return sorted(ids)

    def _deleted_feed(self, sobject: str, since: datetime, end: datetime) -> tuple[set[str], datetime] | None:
        """(ids deleted in [since, end), time covered up to) or None if the feed cannot vouch for `since`.

        The feed ignores seconds and wants at least a minute between start and end, so it is asked
        for whole minutes; what it cannot cover (a short window, the current minute) is left to queryAll.
        """
        start, stop = _floor_minute(since), _floor_minute(end)
        if stop <= start:
            return set(), since
        params = {"start": start.isoformat(timespec="seconds"), "end": stop.isoformat(timespec="seconds")}
        try:
            body = self._call("deleted feed", self.conn.restful, f"sobjects/{segment(sobject)}/deleted/", params=params) or {}
        except ApiError as exc:
            if exc.code == "INVALID_REPLICATION_DATE":  # older than the feed keeps: queryAll answers instead
                return None
            raise
        earliest = body.get("earliestDateAvailable")
        if earliest and _parse_sf_datetime(earliest) > since:
            return None  # purged past our window start: only queryAll can still tell
        latest = body.get("latestDateCovered")
        covered = min(_parse_sf_datetime(latest), stop) if latest else stop
        ids = {r["id"] for r in body.get("deletedRecords", [])
               if since <= _parse_sf_datetime(r["deletedDate"]) < covered}
        return ids, covered

    def limits(self) -> dict[str, dict[str, int]]:
        """The org's limits (`DailyApiRequests`: {Max, Remaining}, ...), for budgets and reports."""
        found = self._call("limits", self.conn.restful, "limits/") or {}
        daily = found.get("DailyApiRequests") or {}
        if self.api_usage["max"] is None and {"Max", "Remaining"} <= set(daily):
            # No Sforce-Limit-Info on the answer (a proxy may drop it): the resource says the same.
            self.api_usage = {"used": int(daily["Max"]) - int(daily["Remaining"]), "max": int(daily["Max"])}
        return found

    def current_usage(self) -> dict[str, int | None]:
        """The org's daily API usage `{"used", "max"}`: the last `Sforce-Limit-Info` seen, or, before any call
        was made, what /limits says (one call)."""
        if self.api_usage["max"] is None:
            self.limits()
        return dict(self.api_usage)

    def describe(self, sobject: str) -> dict[str, Any]:
        """The sObject's describe result (fields, types, picklist values, relationships)."""
        check_sobject(sobject)
        return self._call("describe", self.conn.restful, f"sobjects/{segment(sobject)}/describe") or {}

    def key_prefix(self, sobject: str) -> str:
        """The first three characters of the ids of `sobject`'s records ("500" for Case), from its
        describe, asked once per hook."""
        if sobject not in self._prefixes:
            self._prefixes[sobject] = str(self.describe(sobject).get("keyPrefix") or "")
        return self._prefixes[sobject]

    # -- Bulk API 2.0 (sfjira.hooks.salesforce_bulk) ----------------------------------------------

    @cached_property
    def bulk(self) -> SalesforceBulk:
        """Bulk API 2.0 jobs on this hook's token, session and call counter (`bulk.settings`: polling)."""
        return SalesforceBulk(self)

    def bulk_query(self, soql: str, *, fields: Sequence[str] | None = None, include_deleted: bool = False,
                   on_job: OnJob | None = None, page: int | None = None) -> Iterator[pd.DataFrame]:
        """SOQL as a Bulk API 2.0 query job: typed DataFrame parts, one per result set (by Sforce-Locator) of
        <= `page` records (default `bulk.settings.query_page`)."""
        return self.bulk.query(soql, fields=fields, include_deleted=include_deleted, on_job=on_job, page=page)

    def bulk_update(self, sobject: str, records: Sequence[Mapping[str, Any]], *, on_job: OnJob | None = None,
                    resume: str | None = None) -> list[WriteResult]:
        """Update by Id through an ingest job; one WriteResult per record, in input order."""
        return self.bulk.update(sobject, records, on_job=on_job, resume=resume)

    def bulk_upsert(self, sobject: str, ext_id_field: str, records: Sequence[Mapping[str, Any]], *,
                    on_job: OnJob | None = None, resume: str | None = None) -> list[WriteResult]:
        """Upsert by external id through an ingest job; `resume` continues a job a killed task created."""
        return self.bulk.upsert(sobject, ext_id_field, records, on_job=on_job, resume=resume)

    # -- writes ----------------------------------------------------------------------------------

    @staticmethod
    def encode_fields(mapped: Iterable[FieldMapping], values: Mapping[str, Any]) -> dict[str, Any]:
        """A plan's canonical values (keyed by Salesforce field) as the REST API takes them: JSON numbers
        for number/integer/currency, booleans for checkboxes. Fields no mapped field writes (the Jira key
        and URL, a delete policy's field) pass as they are."""
        by_name = {f.salesforce: f for f in mapped}
        return {name: salesforce_wire(by_name[name], value) if name in by_name else value
                for name, value in values.items()}

    def upsert_collection(self, sobject: str, ext_id_field: str, records: Sequence[Mapping[str, Any]]
                          ) -> list[WriteResult]:
        """Create-or-update by external id, 200 records per request. One WriteResult per record, in
        input order; a record the API refuses is reported in its result, never raised."""
        check_sobject(sobject)
        check_fields([ext_id_field])
        local: dict[int, WriteResult] = {}
        items: list[tuple[int, dict[str, Any]]] = []
        for index, record in enumerate(records):
            if _blank(record.get(ext_id_field)):
                local[index] = WriteResult.failed(index, "MISSING_EXTERNAL_ID", f"{ext_id_field} is empty",
                                                  (ext_id_field,))
            else:
                items.append((index, _typed(record, sobject)))
        return self._write_all("PATCH", f"composite/sobjects/{segment(sobject)}/{segment(ext_id_field)}", "upsert", items, local,
                               len(records))

    def update_collection(self, records: Sequence[Mapping[str, Any]], sobject: str | None = None
                          ) -> list[WriteResult]:
        """Update records by Id (each needs `Id`, and a type: `sobject` or its own attributes.type)."""
        local: dict[int, WriteResult] = {}
        items: list[tuple[int, dict[str, Any]]] = []
        for index, record in enumerate(records):
            kind = sobject or (record.get("attributes") or {}).get("type")
            if _blank(record.get("Id")) or not kind:
                local[index] = WriteResult.failed(index, "MISSING_ID", "each record needs Id and an sObject type",
                                                  ("Id",))
            elif not is_sfid(record["Id"]):
                local[index] = WriteResult.failed(index, "MALFORMED_ID", f"{preview(record['Id'])} is not a "
                                                  "Salesforce id (15 characters, or 18 with a valid checksum)", ("Id",))
            else:
                items.append((index, _typed(record, check_sobject(kind))))
        return self._write_all("PATCH", "composite/sobjects", "update", items, local, len(records))

    def create_collection(self, sobject: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        """Insert records, 200 per request (not resent on an ambiguous failure: it is not idempotent)."""
        check_sobject(sobject)
        items = [(index, _typed(record, sobject)) for index, record in enumerate(records)]
        return self._write_all("POST", "composite/sobjects", "create", items, {}, len(records))

    def _write_all(self, method: str, path: str, action: str, items: list[tuple[int, dict[str, Any]]],
                   results: dict[int, WriteResult], total: int) -> list[WriteResult]:
        def write(chunk: Sequence[tuple[int, dict[str, Any]]]) -> list[WriteResult]:
            body = dumps({"allOrNone": False, "records": [payload for _, payload in chunk]})
            try:
                answer = self.conn.restful(path, method=method, data=body)
            except SalesforceMalformedRequest as exc:  # the request as a whole was refused
                errors = _errors_of(exc.content)
                raise ChunkRejected(str(errors[0].get("errorCode", "MALFORMED_REQUEST")) if errors else
                                    "MALFORMED_REQUEST", str(errors[0].get("message", "")) if errors else "") from exc
            if not isinstance(answer, list) or len(answer) != len(chunk):
                raise ApiError(f"Salesforce {action} answered {len(answer or [])} results for {len(chunk)} records",
                               code="UNEXPECTED_RESPONSE", fix="report this: the collections API broke its contract")
            return [_result(index, item) for (index, _), item in zip(chunk, answer, strict=True)]

        for chunk in batches(items, self.COLLECTION_MAX):
            for result in self._call(action, write_isolating, chunk, write):
                results[result.index] = result
        return [results[index] for index in range(total)]


def _blank(value: Any) -> bool:
    return is_missing(value) or (isinstance(value, str) and not value.strip())


def _typed(record: Mapping[str, Any], sobject: str) -> dict[str, Any]:
    return {"attributes": {"type": sobject}, **{k: v for k, v in record.items() if k != "attributes"}}


def _result(index: int, item: Mapping[str, Any]) -> WriteResult:
    errors = tuple(WriteError(code=str(e.get("statusCode") or e.get("errorCode") or "ERROR"),
                              message=str(e.get("message", "")), fields=tuple(e.get("fields") or ()))
                   for e in item.get("errors") or ())
    return WriteResult(index=index, success=bool(item.get("success")), id=item.get("id"),
                       created=item.get("created"), errors=errors)
