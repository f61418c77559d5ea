"""The ASGI app: routes of the Salesforce REST API plus the admin surface, wrapped by the shared
control middleware (call counters, latency, faults)."""

from __future__ import annotations

import argparse
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
from emulators.salesforce.api_query import Cursors, QueryApi
from emulators.salesforce.errors import ApiError, error_response
from emulators.salesforce.oauth import OAuthServer, TokenStore, ensure_jwt_keys
from emulators.salesforce.org import Org
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


def api_routes(api: Api, query: QueryApi, oauth: OAuthServer) -> list[Route]:
    def rest(path: str, handler: Handler, methods: list[str], authenticated: bool = True) -> Route:
        return SfRoute(path, api.endpoint(handler, authenticated), methods=methods)

    sobject = f"{DATA}/sobjects/{{sobject}}"
    collections = f"{DATA}/composite/sobjects"
    return [
        Route("/services/oauth2/token", oauth.token, methods=["POST"]),
        Route("/services/oauth2/revoke", oauth.revoke, methods=["POST"]),
        rest("/services/data", api_discovery.versions, ["GET"], authenticated=False),
        rest(DATA, api_discovery.resources, ["GET"]),
        rest(f"{DATA}/limits", api_discovery.limits, ["GET"]),
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
    ]


def create_app(data_dir: Path, base_url: str, args: argparse.Namespace) -> ASGIApp:
    org = Org(data_dir, base_url, list(getattr(args, "schema_extra", None) or []))
    tokens = TokenStore(org)
    cursors = Cursors()
    routes = api_routes(Api(org, tokens), QueryApi(cursors), OAuthServer(org, tokens, ensure_jwt_keys(data_dir)))
    control = Control(fault_table=FAULTS, admin_token=getattr(args, "admin_token", None))
    admin = admin_routes(control, admin_handlers(org, tokens, cursors), lambda: credentials(org, tokens))
    app = Starlette(routes=[*admin, *routes])
    app.state.org = org
    return ControlMiddleware(app, control, routes)
