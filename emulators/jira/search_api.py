"""Issue search: Cloud's token-paged /search/jql (GET and POST, v2 and v3), Data Center's startAt-paged
/search, and the 410 Gone Jira Cloud now answers on the removed /search."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from starlette.responses import Response

from emulators.jira import render
from emulators.jira.context import Call
from emulators.jira.errors import JiraError, JiraJSON, bad_request
from emulators.jira.jql import CompileContext, JqlError, SqlQuery, compile_query, parse

CLOUD_PAGE_MAX = 100
CLOUD_IDS_PAGE_MAX = 5000
DC_PAGE_MAX = 1000
DEFAULT_PAGE = 50
REMOVED = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full "
           "migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
BAD_TOKEN = "The provided next page token is invalid or expired."


def compile_jql(call: Call, jql: str) -> SqlQuery:
    store, settings = call.store, call.settings

    def find_issue(ref: str) -> tuple[int, str] | None:
        issue = store.find_issue(ref)
        return (issue.id, issue.key) if issue else None

    ctx = CompileContext(settings.tz, store.now_ms(), call.me.account_id, call.cloud, call.env.directory,
                         find_issue)
    try:
        return compile_query(parse(jql), ctx)
    except JqlError as exc:
        raise bad_request(str(exc)) from None


class SearchRequest:
    """The parameters of one search call, from the query string (GET) or the JSON body (POST)."""

    def __init__(self, jql: str, max_results: int | None, fields: list[str] | None, expand: set[str],
                 properties: list[str] | None, start_at: int = 0, token: str | None = None) -> None:
        self.jql = jql
        self.max_results = max_results
        self.fields = fields
        self.expand = expand
        self.properties = properties
        self.start_at = start_at
        self.token = token

    @classmethod
    async def read(cls, call: Call) -> SearchRequest:
        if call.request.method == "GET":
            max_results = call.param("maxResults")
            return cls(call.param("jql") or "", call.int_param("maxResults", DEFAULT_PAGE) if max_results else None,
                       call.list_param("fields"), set(call.list_param("expand") or []),
                       call.list_param("properties"), call.int_param("startAt", 0), call.param("nextPageToken"))
        body = await call.json_object()
        expand = body.get("expand") or []
        expand = expand.split(",") if isinstance(expand, str) else expand
        fields = body.get("fields")
        if fields is not None and not isinstance(fields, list):
            raise bad_request("The 'fields' member must be an array of field ids.")
        try:
            max_results = None if body.get("maxResults") is None else int(body["maxResults"])
            start_at = int(body.get("startAt") or 0)
        except (TypeError, ValueError):
            raise bad_request("'maxResults' and 'startAt' must be integers.") from None
        fields = [p.strip() for f in fields for p in str(f).split(",") if p.strip()] if fields else None
        return cls(str(body.get("jql") or ""), max_results, fields, {e.strip() for e in expand},
                   body.get("properties"), start_at, body.get("nextPageToken"))


# -- Cloud: /search/jql ------------------------------------------------------------------------------------

def _token(offset: int, jql: str) -> str:
    raw = json.dumps({"o": offset, "q": hashlib.sha1(jql.encode()).hexdigest()[:12]}).encode()  # noqa: S324
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset(token: str | None, jql: str) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["q"] != hashlib.sha1(jql.encode()).hexdigest()[:12]:  # noqa: S324
            raise ValueError("token of another query")
        return int(data["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise bad_request(BAD_TOKEN) from None


async def search_jql(call: Call) -> Response:
    req = await SearchRequest.read(call)
    query = compile_jql(call, req.jql)
    if not query.bounded:
        raise bad_request(UNBOUNDED)
    ids_only = not req.fields or all(f in ("id", "key") for f in req.fields)
    cap = CLOUD_IDS_PAGE_MAX if ids_only else CLOUD_PAGE_MAX
    limit = max(1, min(req.max_results or DEFAULT_PAGE, cap))
    offset = _offset(req.token, req.jql)
    ids = call.store.search_ids(query.where, query.params, query.order, limit + 1, offset)
    is_last = len(ids) <= limit
    ids = ids[:limit]
    body: dict[str, Any] = {}
    if ids_only:
        with_key = "key" in (req.fields or [])
        issues = call.store.issues_by_ids(ids) if with_key else []
        body["issues"] = ([{"id": str(i.id), "key": i.key} for i in issues] if with_key
                          else [{"id": str(i)} for i in ids])
    else:
        body.update(_render_page(call, ids, req, default_fields="*navigable"))
    if not is_last:
        body["nextPageToken"] = _token(offset + limit, req.jql)
    body["isLast"] = is_last
    return JiraJSON(body)


def _render_page(call: Call, ids: list[int], req: SearchRequest, default_fields: str) -> dict[str, Any]:
    field_ids = render.select_fields(req.fields, default_fields)
    issues = call.store.issues_by_ids(ids)
    renderer = render.IssueRenderer(call, issues, field_ids, req.expand, req.properties)
    return {"issues": [renderer.render(i) for i in issues], **renderer.meta()}


async def removed_search(call: Call) -> Response:
    raise JiraError(410, [REMOVED])


# -- Data Center: /search ----------------------------------------------------------------------------------

async def search_paged(call: Call) -> Response:
    req = await SearchRequest.read(call)
    query = compile_jql(call, req.jql)
    limit = max(0, min(DEFAULT_PAGE if req.max_results is None else req.max_results, DC_PAGE_MAX))
    start = max(0, req.start_at)
    total = call.store.count(query.where, query.params)
    ids = call.store.search_ids(query.where, query.params, query.order, limit, start) if limit else []
    page = _render_page(call, ids, req, default_fields="*navigable")
    body = {"expand": "schema,names", "startAt": start, "maxResults": limit, "total": total, **page}
    return JiraJSON(body)
