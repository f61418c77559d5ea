"""The ASGI app: Jira's REST routes for v2 and v3, auth, rate limit, and the shared admin surface.

Routes exist for both API versions in every mode; each call checks the current mode (it can change
at runtime through /__emulator/config): Data Center has no v3 and no /search/jql, Cloud has no /search.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from emulators.common.control import Control, ControlMiddleware, admin_routes
from emulators.jira import activity_api, bulk_api, issues_api, meta_api, search_api, webhooks
from emulators.jira.admin import Admin
from emulators.jira.auth import authenticated, unauthorized
from emulators.jira.context import Call, Env
from emulators.jira.errors import JiraError, JiraJSON
from emulators.jira.ratelimit import RateLimiter, fault_table
from emulators.jira.settings import Settings
from emulators.jira.store import Store
from emulators.jira.webhook_delivery import WebhookHub

Handler = Callable[[Call], Awaitable[Response]]
ANY, CLOUD, DC = "any", "cloud", "datacenter"


async def _search(call: Call) -> Response:
    if call.cloud:
        return await search_api.removed_search(call)
    return await search_api.search_paged(call)


# (methods, path under /rest/api/{version}/, handler, modes). Literal paths come before templated twins.
API: tuple[tuple[tuple[str, ...], str, Handler, str], ...] = (
    (("GET",), "serverInfo", meta_api.server_info, ANY),
    (("GET",), "myself", meta_api.myself, ANY),
    (("GET",), "field", meta_api.list_fields, ANY),
    (("GET",), "project", meta_api.list_projects, ANY),
    (("GET",), "project/search", meta_api.search_projects, CLOUD),
    (("GET",), "project/{projectIdOrKey}", meta_api.get_project, ANY),
    (("GET",), "issuetype", meta_api.list_issuetypes, ANY),
    (("GET",), "priority", meta_api.list_priorities, ANY),
    (("GET",), "status", meta_api.list_statuses, ANY),
    (("GET",), "user/search", meta_api.search_users, ANY),
    (("GET",), "issueLinkType", activity_api.link_types, ANY),
    (("GET",), "issue/createmeta/{projectIdOrKey}/issuetypes", meta_api.createmeta_issuetypes, ANY),
    (("GET",), "issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}", meta_api.createmeta_fields, ANY),
    (("POST",), "issue", issues_api.create_issue, ANY),
    (("POST",), "issue/bulk", issues_api.create_issues, ANY),
    (("GET",), "issue/{issueIdOrKey}", issues_api.get_issue, ANY),
    (("PUT",), "issue/{issueIdOrKey}", issues_api.edit_issue, ANY),
    (("DELETE",), "issue/{issueIdOrKey}", issues_api.delete_issue, ANY),
    (("GET",), "issue/{issueIdOrKey}/changelog", issues_api.get_changelog, CLOUD),
    (("GET",), "issue/{issueIdOrKey}/transitions", issues_api.get_transitions, ANY),
    (("POST",), "issue/{issueIdOrKey}/transitions", issues_api.do_transition, ANY),
    (("GET",), "issue/{issueIdOrKey}/properties", issues_api.property_keys, ANY),
    (("GET",), "issue/{issueIdOrKey}/properties/{propertyKey}", issues_api.get_property, ANY),
    (("PUT",), "issue/{issueIdOrKey}/properties/{propertyKey}", issues_api.set_property, ANY),
    (("DELETE",), "issue/{issueIdOrKey}/properties/{propertyKey}", issues_api.delete_property, ANY),
    (("GET",), "issue/{issueIdOrKey}/comment", activity_api.list_comments, ANY),
    (("POST",), "issue/{issueIdOrKey}/comment", activity_api.add_comment_route, ANY),
    (("GET",), "issue/{issueIdOrKey}/comment/{id}", activity_api.get_comment, ANY),
    (("PUT",), "issue/{issueIdOrKey}/comment/{id}", activity_api.update_comment, ANY),
    (("DELETE",), "issue/{issueIdOrKey}/comment/{id}", activity_api.delete_comment, ANY),
    (("GET",), "issue/{issueIdOrKey}/worklog", activity_api.list_worklogs, ANY),
    (("POST",), "issue/{issueIdOrKey}/worklog", activity_api.add_worklog, ANY),
    (("POST",), "issueLink", activity_api.link_issues, ANY),
    (("GET",), "issueLink/{linkId}", activity_api.get_link, ANY),
    (("DELETE",), "issueLink/{linkId}", activity_api.delete_link, ANY),
    (("POST",), "bulk/issues/fields", bulk_api.submit_edit, CLOUD),
    (("POST",), "bulk/issues/transition", bulk_api.submit_transition, CLOUD),
    (("GET",), "bulk/queue/{taskId}", bulk_api.progress, CLOUD),
    (("GET", "POST"), "search/jql", search_api.search_jql, CLOUD),
    (("GET", "POST"), "search", _search, ANY),
)


# Admin webhooks live outside /rest/api (and outside the v3 OpenAPI document), in both modes.
WEBHOOKS = "/rest/webhooks/1.0/webhook"
WEBHOOK_API: tuple[tuple[str, str, Handler], ...] = (
    ("POST", WEBHOOKS, webhooks.create),
    ("GET", WEBHOOKS, webhooks.list_all),
    ("GET", f"{WEBHOOKS}/{{id}}", webhooks.get_one),
    ("PUT", f"{WEBHOOKS}/{{id}}", webhooks.update),
    ("DELETE", f"{WEBHOOKS}/{{id}}", webhooks.delete),
)


def not_found(request: Request) -> Response:
    return JiraJSON({"message": f"null for uri: {request.url}", "status-code": 404}, status_code=404)


def _served(env: Env, version: int, modes: str) -> bool:
    if not env.settings.cloud:
        return version == 2 and modes != CLOUD
    return modes != DC


def endpoint(env: Env, limiter: RateLimiter, handler: Handler, version: int, modes: str) -> Callable[
        [Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        if not _served(env, version, modes):
            return not_found(request)
        rate_headers: dict[str, str] = {}
        try:
            if not authenticated(request.headers.get("authorization"), env.settings):
                raise unauthorized(env.settings)
            rate_headers = limiter.take(env.settings)
            response = await handler(Call(request, env, version))
        except JiraError as exc:
            response = exc.response()
        response.headers.update(rate_headers)
        return response

    return run


def api_routes(env: Env, limiter: RateLimiter) -> list[BaseRoute]:
    return [*(Route(f"/rest/api/{version}/{path}", endpoint(env, limiter, handler, version, modes),
                    methods=list(methods))
              for version in (2, 3) for methods, path, handler, modes in API),
            *(Route(path, endpoint(env, limiter, handler, 2, ANY), methods=[method])
              for method, path, handler in WEBHOOK_API)]


def load_settings(store: Store, cli_mode: str | None) -> Settings:
    stored = store.meta_get("settings")
    settings = Settings.from_dict(stored) if stored else Settings()
    if cli_mode:
        settings.mode = cli_mode
    return settings


def create_app(data_dir: Path, base_url: str, args: argparse.Namespace) -> ASGIApp:
    store = Store(data_dir / "jira.sqlite3")
    cli_mode = getattr(args, "mode", None)
    env = Env(store, load_settings(store, cli_mode), base_url)
    env.webhooks = WebhookHub(env)
    env.save_settings()
    limiter = RateLimiter()
    routes = api_routes(env, limiter)
    control = Control(fault_table=fault_table(lambda: env.settings), admin_token=getattr(args, "admin_token", None))
    actions = Admin(env, limiter, cli_mode)
    admin = [*admin_routes(control, actions.handlers(), actions.credentials),
             Route("/__emulator/webhook_deliveries", actions.webhook_deliveries, methods=["GET", "DELETE"])]
    fallback = Route("/{path:path}", not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    app = Starlette(routes=[*admin, *routes, fallback])
    return ControlMiddleware(app, control, routes)
