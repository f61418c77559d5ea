"""The ASGI app: routes of the Salesforce REST API plus the admin surface, wrapped by the shared
control middleware (call counters, latency, faults)."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Scope

from emulators.common.control import Control, ControlMiddleware, admin_routes
from emulators.salesforce import api_collections, api_discovery, api_feeds, api_records
from emulators.salesforce.admin import admin_handlers, credentials
from emulators.salesforce.api_bulk import BulkApi, bulk_faults
from emulators.salesforce.api_query import Cursors, QueryApi
from emulators.salesforce.bulk_jobs import BulkJobs
from emulators.salesforce.errors import ApiError, error_response
from emulators.salesforce.oauth import OAuthServer, TokenStore, ensure_jwt_keys
from emulators.salesforce.org import Org
from emulators.salesforce.outbound import OutboundMessages
from emulators.salesforce.rest import Api, Handler

DATA = "/services/data/{version}"


class SfRoute(Route):
    """Matches with or without a trailing slash (simple_salesforce uses both), counted under one name."""

    def matches(self, scope: Scope) -> Any:
        path = scope.get("path", "")
        if len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/")}
        return super().matches(scope)


def _fault(status: int, code: str, message: str) -> Any:
    def respond(_: Request) -> Response:
        return error_response(status, [ApiError(code, message)])

    return respond


FAULTS = {
    "503": _fault(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later."),
    "500": _fault(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you "
                                            "contact support: 1234567890-12345 (-1234567890)"),
    "request_limit": _fault(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    "expired_session": _fault(401, "INVALID_SESSION_ID", "Session expired or invalid"),
}


def bulk_routes(api: Api, bulk: BulkApi) -> list[Route]:
    """Bulk API 2.0: /jobs/query and /jobs/ingest (simple_salesforce asks for `unprocessedRecords`, the guide
    writes `unprocessedrecords`: the results route takes either)."""
    def rest(path: str, handler: Handler, methods: list[str]) -> Route:
        return SfRoute(path, api.endpoint(handler), methods=methods)

    query, ingest = f"{DATA}/jobs/query", f"{DATA}/jobs/ingest"
    return [
        rest(query, bulk.create_query, ["POST"]),
        rest(query, bulk.list_jobs, ["GET"]),
        rest(f"{query}/{{job_id}}", bulk.query_info, ["GET"]),
        rest(f"{query}/{{job_id}}", bulk.set_state, ["PATCH"]),
        rest(f"{query}/{{job_id}}", bulk.delete, ["DELETE"]),
        rest(f"{query}/{{job_id}}/results", bulk.query_results, ["GET"]),
        rest(ingest, bulk.create_ingest, ["POST"]),
        rest(ingest, bulk.list_jobs, ["GET"]),
        rest(f"{ingest}/{{job_id}}", bulk.ingest_info, ["GET"]),
        rest(f"{ingest}/{{job_id}}", bulk.set_state, ["PATCH"]),
        rest(f"{ingest}/{{job_id}}", bulk.delete, ["DELETE"]),
        rest(f"{ingest}/{{job_id}}/batches", bulk.upload, ["PUT"]),
        rest(f"{ingest}/{{job_id}}/{{kind}}", bulk.ingest_results, ["GET"]),
    ]


def api_routes(api: Api, query: QueryApi, oauth: OAuthServer, jobs: BulkJobs) -> list[Route]:
    def rest(path: str, handler: Handler, methods: list[str], authenticated: bool = True) -> Route:
        return SfRoute(path, api.endpoint(handler, authenticated), methods=methods)

    sobject = f"{DATA}/sobjects/{{sobject}}"
    collections = f"{DATA}/composite/sobjects"
    return [
        Route("/services/oauth2/token", oauth.token, methods=["POST"]),
        Route("/services/oauth2/revoke", oauth.revoke, methods=["POST"]),
        rest("/services/data", api_discovery.versions, ["GET"], authenticated=False),
        rest(DATA, api_discovery.resources, ["GET"]),
        rest(f"{DATA}/limits", partial(api_discovery.limits, jobs=jobs), ["GET"]),
        rest(f"{DATA}/query", query.query, ["GET"]),
        rest(f"{DATA}/query/{{locator}}", query.more, ["GET"]),
        rest(f"{DATA}/queryAll", query.query_all, ["GET"]),
        rest(f"{DATA}/queryAll/{{locator}}", query.more, ["GET"]),
        rest(f"{DATA}/sobjects", api_discovery.sobjects, ["GET"]),
        rest(sobject, api_discovery.sobject, ["GET"]),
        rest(sobject, api_records.create, ["POST"]),
        rest(f"{sobject}/describe", api_discovery.describe, ["GET"]),
        rest(f"{sobject}/updated", api_feeds.updated, ["GET"]),
        rest(f"{sobject}/deleted", api_feeds.deleted, ["GET"]),
        rest(f"{sobject}/{{record_id}}", api_records.read, ["GET"]),
        rest(f"{sobject}/{{record_id}}", api_records.update, ["PATCH"]),
        rest(f"{sobject}/{{record_id}}", api_records.delete, ["DELETE"]),
        rest(f"{sobject}/{{field}}/{{value}}", api_records.read_by_external_id, ["GET"]),
        rest(f"{sobject}/{{field}}/{{value}}", api_records.upsert, ["PATCH"]),
        rest(collections, api_collections.create, ["POST"]),
        rest(collections, api_collections.update, ["PATCH"]),
        rest(collections, api_collections.delete, ["DELETE"]),
        rest(f"{collections}/{{sobject}}", api_collections.retrieve, ["GET", "POST"]),
        rest(f"{collections}/{{sobject}}/{{field}}", api_collections.upsert, ["PATCH"]),
        *bulk_routes(api, BulkApi(jobs)),
    ]


def create_app(data_dir: Path, base_url: str, args: argparse.Namespace) -> ASGIApp:
    org = Org(data_dir, base_url, list(getattr(args, "schema_extra", None) or []))
    tokens = TokenStore(org)
    cursors = Cursors()
    jobs = BulkJobs(org)
    routes = api_routes(Api(org, tokens), QueryApi(cursors), OAuthServer(org, tokens, ensure_jwt_keys(data_dir)), jobs)
    control = Control(fault_table=FAULTS, admin_token=getattr(args, "admin_token", None))
    handlers = admin_handlers(org, tokens, cursors, jobs)
    handlers["bulk_faults"] = partial(bulk_faults, jobs)
    outbound = OutboundMessages(org)
    handlers.update(reset=outbound.on_reset(handlers["reset"]), outbound_messages=outbound.configure)
    admin = [*admin_routes(control, handlers, lambda: credentials(org, tokens)),
             Route("/__emulator/outbound_deliveries", outbound.deliveries, methods=["GET", "DELETE"])]
    app = Starlette(routes=[*admin, *routes])
    app.state.org = org
    return ControlMiddleware(app, control, routes)
