"""JiraSyncHook: Cloud and Data Center search, incremental extraction in the user's time zone,
bulk create, workflow walking, comments and issue properties, over the shared retrying session.

Connection (type `jira`): host = base URL (https://acme.atlassian.net or https://jira.acme.com).
Extras:
- `auth`: `basic` (default; login = email on Cloud or username on DC, password = API token or
  password), `pat` (DC personal access token in password -> Bearer) or `oauth` (OAuth 2.0 access
  token in password -> Bearer).
- `deployment`: `cloud` | `datacenter` (default: read from /serverInfo `deploymentType`).
- `ca_bundle` (PEM file pinned for every call) or the provider's `verify` (boolean or path);
  `verify: false` needs `allow_insecure_tls: true`, an http:// host `allow_insecure_http: true` and a
  loopback host (see sfjira.http.transport).
- `retry_max_attempts`, `retry_base_delay`, `retry_max_delay`, `retry_max_total`, `timeout`.
Cloud uses REST v3 (ADF rich text, /search/jql with nextPageToken), Data Center REST v2
(plain text, /search with startAt).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import requests
from airflow.providers.atlassian.jira.hooks.jira import JiraHook
from airflow.providers.common.compat.sdk import BaseHook
from atlassian import Jira

from sfjira.batching import batches
from sfjira.error_catalog import fix_for
from sfjira.exceptions import ApiError, AuthError
from sfjira.hooks.by_id import pages_by_key
from sfjira.hooks.chunks import ChunkRejected, write_isolating
from sfjira.hooks.jira_bulk import JiraBulk
from sfjira.hooks.jira_frames import adf_to_text, issues_to_frame, text_to_adf
from sfjira.hooks.jql import SfidLocation, changed_issues_jql, jql_string, minute_bounds, user_zone
from sfjira.hooks.payload import jira_wire, jsonable
from sfjira.hooks.results import WriteError, WriteResult
from sfjira.hooks.workflow import WorkflowMap
from sfjira.http import BearerAuth, CallCounter, ResilientSession, RetryPolicy, TransportPolicy
from sfjira.http.retry import transport_transient
from sfjira.identity.keys import issue_segment, segment

if TYPE_CHECKING:
    from sfjira.mapping.model import FieldMapping

__all__ = ["JiraSyncHook", "adf_to_text", "issues_to_frame", "text_to_adf"]

log = logging.getLogger(__name__)

Page = list[dict[str, Any]]
DEPLOYMENTS = ("cloud", "datacenter")
AUTH_MODES = ("basic", "pat", "oauth")
RICH_TEXT_FIELDS = ("description", "environment")


def _messages(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "")[:300]
    if not isinstance(body, dict):
        return str(body)[:300]
    parts = [str(m) for m in body.get("errorMessages") or []]
    parts += [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()] if isinstance(body.get("errors"), dict) else []
    return "; ".join(parts) or str(body.get("message") or response.reason)


def _element_errors(error: Mapping[str, Any]) -> tuple[WriteError, ...]:
    status = str(error.get("status") or 400)
    details = error.get("elementErrors") or {}
    found = [WriteError(status, str(message), (str(field),)) for field, message in (details.get("errors") or {}).items()]
    found += [WriteError(status, str(message)) for message in details.get("errorMessages") or []]
    return tuple(found) or (WriteError(status, "rejected without a reason"),)


class JiraSyncHook(JiraHook):
    """Jira for the sync: lazy, Cloud or Data Center, retrying, and counting its API calls.

    :param jira_conn_id: Airflow connection of type `jira`.
    :param deployment: `cloud` or `datacenter`; default from the connection extra, else detected.
    :param proxies: requests proxies, as for the provider hook.
    """

    hook_name = "Jira (sfjira sync)"
    # Protocol limits, defined here only (the report's protocol minimum reads them).
    BULK_CREATE_MAX = 50    # issues per POST /issue/bulk
    SEARCH_PAGE_MAX = 100   # issues per search page (Jira caps maxResults at 100 with fields)
    COMMENT_PAGE_MAX = 100  # comments per GET /issue/{key}/comment page

    def __init__(self, jira_conn_id: str = JiraHook.default_conn_name, *, deployment: str | None = None,
                 proxies: Any | None = None) -> None:
        # Not JiraHook.__init__: it opens the client right away (at DAG parse time). We connect lazily.
        BaseHook.__init__(self)
        if deployment is not None and deployment not in DEPLOYMENTS:
            raise ValueError(f"deployment must be one of {', '.join(DEPLOYMENTS)}, got {deployment!r}")
        self.jira_conn_id = jira_conn_id
        self.proxies = proxies
        self.api_root = "rest/api"
        self.api_version: str | int = "2"
        self.client: Jira | None = None
        self.deployment = deployment
        self.counter = CallCounter()
        # Last seen X-RateLimit-Limit / X-RateLimit-Remaining (Cloud sends them near the limit), for budgets.
        self.rate_limit: dict[str, int | None] = {"limit": None, "remaining": None}
        self._myself: dict[str, Any] | None = None
        # Workflows walked, per (project key, issue type name casefolded); the initial status of each.
        self._workflows: dict[tuple[str, str], WorkflowMap] = {}
        self._bulk: JiraBulk | None = None
        self._initial: dict[tuple[str, str], str] = {}
        # Workflow calls of transition_to: steps (POSTs), reads it needed, rereads after a refusal.
        self.workflow_calls: Counter[str] = Counter(steps=0, reads=0, rereads=0)
        self._counting = threading.Lock()  # load chunks run in threads (sfjira.sync.lanes)

    # -- connection ------------------------------------------------------------------------------

    @property
    def calls(self) -> dict[str, int]:
        """HTTP calls made so far, per endpoint (`METHOD /path/{key}`)."""
        return dict(self.counter.calls)

    @property
    def rate_limits(self) -> dict[str, Any]:
        """What Jira's rate limiting cost so far: retries by reason (`HTTP 429`...), seconds waited after
        refusals and paced ahead of a spent window, and the last X-RateLimit-Limit/Remaining seen."""
        return {**self.counter.waiting(), **self.rate_limit}

    @property
    def is_cloud(self) -> bool:
        self.get_conn()
        return self.deployment == "cloud"

    def get_conn(self) -> Jira:
        if self.client is not None:
            return self.client
        if not self.jira_conn_id:
            raise AuthError("no jira_conn_id given", code="AUTH_CONFIG", fix="pass the id of a `jira` connection")
        conn = self.get_connection(self.jira_conn_id)
        extras = conn.extra_dejson
        auth = str(extras.get("auth") or "basic").lower()
        if auth not in AUTH_MODES:
            raise AuthError(f"connection extra auth={auth!r} is not supported", code="AUTH_CONFIG",
                            fix=f"use one of: {', '.join(AUTH_MODES)}")
        deployment = self.deployment or extras.get("deployment")
        if deployment is not None and deployment not in DEPLOYMENTS:
            raise AuthError(f"connection extra deployment={deployment!r} is not supported", code="AUTH_CONFIG",
                            fix=f"use one of: {', '.join(DEPLOYMENTS)}, or remove it to detect it")
        transport = TransportPolicy.from_extras("Jira", self.jira_conn_id, extras)
        url = transport.check_url(_base_url(conn.host, conn.port, conn.schema), "host")
        http = ResilientSession(system="Jira", transport=transport, policy=RetryPolicy.from_extras(extras),
                                counter=self.counter, timeout=(10.0, float(extras.get("timeout") or 120)))
        http.observers.append(self._read_rate_limit)
        if not conn.password:
            raise AuthError("the Jira connection has no password/token", code="AUTH_CONFIG",
                            fix="put the API token (Cloud), PAT or password (Data Center) in the password field")
        http.auth = (conn.login or "", conn.password) if auth == "basic" else BearerAuth(conn.password)
        self.deployment = deployment or self._detect_deployment(http, url)
        self.api_version = "3" if self.deployment == "cloud" else "2"
        self.client = Jira(url=url, session=http, cloud=self.deployment == "cloud", api_version=self.api_version,
                           api_root=self.api_root, proxies=self.proxies, timeout=int(extras.get("timeout") or 120))
        return self.client

    @property
    def bulk(self) -> JiraBulk:
        """Jira Cloud's issue bulk operations (sfjira.hooks.jira_bulk) on this hook's session and call counter;
        `bulk.settings` holds the task polling. Data Center has none: ApiError(JIRA_BULK_UNSUPPORTED)."""
        if not self.is_cloud:
            raise ApiError("Jira Data Center has no issue bulk operations API", code="JIRA_BULK_UNSUPPORTED",
                           fix="use the per-issue writes (update_fields, transition_to) on Data Center")
        if self._bulk is None:
            self._bulk = JiraBulk(self)
        return self._bulk

    def _read_rate_limit(self, response: requests.Response) -> None:
        limit, remaining = response.headers.get("X-RateLimit-Limit"), response.headers.get("X-RateLimit-Remaining")
        if limit and remaining and limit.isdigit() and remaining.isdigit():
            self.rate_limit = {"limit": int(limit), "remaining": int(remaining)}

    @staticmethod
    def _detect_deployment(http: requests.Session, url: str) -> str:
        response = http.get(f"{url}/rest/api/2/serverInfo", headers={"Accept": "application/json"})
        if response.status_code != 200:
            raise ApiError(f"Jira serverInfo answered HTTP {response.status_code}: {_messages(response)}",
                           status=response.status_code, code="JIRA_UNREACHABLE",
                           fix="check the connection host, or set extra deployment: cloud|datacenter")
        return "cloud" if str(response.json().get("deploymentType", "")).lower() == "cloud" else "datacenter"

    def _send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None,
              action: str = "") -> requests.Response:
        """One REST call under rest/api/<2|3>/, through the atlassian client and our session."""
        client = self.get_conn()
        try:
            return client.request(method, path=f"{self.api_root}/{self.api_version}/{path}",
                                  params=dict(params) if params else None,
                                  data=jsonable(body) if body is not None else None, advanced_mode=True)
        except requests.RequestException as exc:
            raise ApiError(f"Jira {action or path} failed: {type(exc).__name__} talking to Jira",
                           code="CONNECTION_FAILED", transient=transport_transient(exc),
                           fix="check the host and CA bundle; the call was already "
                           "retried with backoff") from exc

    def _api(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None,
             action: str = "", missing_ok: bool = False) -> Any:
        """JSON of a successful call (None when empty or, with `missing_ok`, on 404); ApiError otherwise."""
        response = self._send(method, path, params=params, body=body, action=action)
        if response.status_code < 300:
            return response.json() if response.content else None
        if missing_ok and response.status_code == 404:
            return None
        raise self._error(response, action or path)

    @staticmethod
    def _error(response: requests.Response, action: str) -> ApiError:
        status = response.status_code
        if status == 401:
            return AuthError(f"Jira refused the credentials on {action}: {_messages(response)}", status=401,
                             fix="check login and token, and that extra auth (basic|pat|oauth) matches the token kind")
        return ApiError(f"Jira {action} failed: HTTP {status}: {_messages(response)}", status=status,
                        code=f"JIRA_HTTP_{status}", fix=fix_for(f"JIRA_HTTP_{status}"))

    def _rich(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """v3 wants ADF for rich text: plain strings in description/environment are converted."""
        if not self.is_cloud:
            return dict(fields)
        return {name: text_to_adf(value) if name in RICH_TEXT_FIELDS and isinstance(value, str) else value
                for name, value in fields.items()}

    def encode_fields(self, mapped: Iterable[FieldMapping], values: Mapping[str, Any]) -> dict[str, Any]:
        """A plan's canonical values (keyed by Jira field id) as Jira takes them on this deployment: option
        and version objects, users by accountId (Cloud) or name (Data Center), JSON numbers. Ids no mapped
        field writes (the Salesforce id field) pass as they are; rich text is made ADF when written."""
        by_id = {f.jira: f for f in mapped}
        cloud = self.is_cloud
        return {name: jira_wire(by_id[name], value, cloud=cloud) if name in by_id else value
                for name, value in values.items()}

    # -- reads -----------------------------------------------------------------------------------

    def myself(self) -> dict[str, Any]:
        """The API user (accountId/name, timeZone, ...), fetched once."""
        if self._myself is None:
            self._myself = self._api("GET", "myself", action="myself")
        return dict(self._myself or {})

    def server_info(self) -> dict[str, Any]:
        return self._api("GET", "serverInfo", action="serverInfo")

    def fields(self) -> list[dict[str, Any]]:
        """All fields (system and custom) with id, name, schema."""
        return self._api("GET", "field", action="fields")

    def createmeta(self, project: str, issuetype: str) -> dict[str, dict[str, Any]]:
        """Create-screen fields of `issuetype` (name or id) in `project`: {field id: metadata}."""
        types = self._api("GET", f"issue/createmeta/{segment(project)}/issuetypes", params={"maxResults": 200},
                          action="createmeta issue types")
        listed = types.get("issueTypes") or types.get("values") or types.get("createMetaIssueType") or []
        match = [t for t in listed if issuetype in (t.get("id"), t.get("name"))
                 or str(t.get("name", "")).casefold() == issuetype.casefold()]
        if not match:
            raise ApiError(f"issue type {issuetype!r} is not creatable in project {project}", code="JIRA_CREATEMETA",
                           fix=f"use one of: {', '.join(sorted(str(t.get('name')) for t in listed))}")
        fields: dict[str, dict[str, Any]] = {}
        start = 0
        while True:
            page = self._api("GET", f"issue/createmeta/{segment(project)}/issuetypes/{segment(match[0]['id'])}",
                             params={"startAt": start, "maxResults": 200}, action="createmeta fields")
            items = page.get("fields") or page.get("values") or page.get("results") or []
            fields.update({str(f.get("fieldId") or f.get("key")): f for f in items})
            start += len(items)
            if not items or start >= int(page.get("total", start)):
                return fields

    def search_pages(self, jql: str, fields: Sequence[str], page_size: int = SEARCH_PAGE_MAX,
                     properties: Sequence[str] = ()) -> Iterator[Page]:
        """Yield the issues matching `jql`, one page at a time, with exactly `fields` (and the
        listed issue `properties`). Cloud: /search/jql + nextPageToken; Data Center: /search + startAt."""
        if not fields:
            raise ValueError("list the fields to return (e.g. ['summary', 'status', 'updated']): Cloud returns "
                             "only ids otherwise")
        if not 1 <= page_size <= 1000:
            raise ValueError(f"page_size must be between 1 and 1000, got {page_size}")
        params: dict[str, Any] = {"jql": jql, "fields": ",".join(fields), "maxResults": page_size}
        if properties:
            params["properties"] = ",".join(properties)
        yield from (self._cloud_pages if self.is_cloud else self._dc_pages)(params)

    def _cloud_pages(self, params: dict[str, Any]) -> Iterator[Page]:
        while True:
            page = self._api("GET", "search/jql", params=params, action="search")
            if page.get("issues"):
                yield page["issues"]
            token = page.get("nextPageToken")
            if page.get("isLast", not token) or not token:
                return
            params = {**params, "nextPageToken": token}

    def _dc_pages(self, params: dict[str, Any]) -> Iterator[Page]:
        start = 0
        while True:
            page = self._api("GET", "search", params={**params, "startAt": start}, action="search")
            issues = page.get("issues") or []
            if issues:
                yield issues
            start += len(issues)
            if not issues or start >= int(page.get("total", 0)):
                return

    def changed_issues(self, project: str, issue_type: str | None, since: datetime, until: datetime,
                       fields: Sequence[str], page_size: int = SEARCH_PAGE_MAX, properties: Sequence[str] = ("sfjira",)
                       ) -> Iterator[Page]:
        """Issues of `project` (and `issue_type`) with `since <= updated < until`.

        JQL only knows minutes in the API user's zone, so the query window is widened to whole
        minutes there and the pages are filtered on the exact `updated` instant.
        """
        lower, upper = minute_bounds(since, until, user_zone(self.myself().get("timeZone")))
        jql = changed_issues_jql(project, issue_type, lower, upper)
        wanted = list(dict.fromkeys([*fields, "updated"]))
        for page in self.search_pages(jql, wanted, page_size, properties):
            inside = [issue for issue in page if since <= _updated(issue) < until]
            if inside:
                yield inside

    def find_by_sfids(self, sfids: Iterable[str], sfid_field_or_property: str, project: str | None = None,
                      chunk_size: int = SEARCH_PAGE_MAX) -> dict[str, str]:
        """{Salesforce id: issue key} for the ids that have an issue, looked up in bulk.

        `sfid_field_or_property`: `customfield_10050` (or `cf[10050]`) or an issue property path
        `sfjira.sfid`. If two issues carry one id, the first created wins and a warning names both.
        """
        where = SfidLocation.parse(sfid_field_or_property)
        wanted = list(dict.fromkeys(s for s in sfids if s))
        asked = set(wanted)
        found: dict[str, str] = {}
        for chunk in batches(wanted, chunk_size):
            jql = where.in_clause(chunk) + (f" AND project = {jql_string(project)}" if project else "")
            fields = ["created", *([where.field_id] if where.field_id else [])]
            props = [where.property_key] if where.property_key else []
            for page in self.search_pages(f"{jql} ORDER BY created ASC, key ASC", fields, self.SEARCH_PAGE_MAX, props):
                for issue in page:
                    sfid = where.read(issue)
                    if sfid not in asked:  # only exact matches count, whatever the operator matched
                        continue
                    if sfid in found:
                        log.warning("Jira: Salesforce id %s is on both %s and %s; using %s", sfid, found[sfid],
                                    issue["key"], found[sfid])
                    else:
                        found[sfid] = issue["key"]
        return found

    def issues_by_key(self, keys: Sequence[str], fields: Sequence[str], properties: Sequence[str] = (),
                      chunk: int = SEARCH_PAGE_MAX, page_size: int = SEARCH_PAGE_MAX, workers: int = 1) -> Iterator[Page]:
        """Pages of the named issues with `fields`, `chunk` quoted keys per `key in (...)` search, `workers`
        searches at once; keys of issues Jira does not know (any more) are skipped (sfjira.hooks.by_id.pages_by_key)."""
        self.get_conn()  # connected before the searches share the client
        for page in pages_by_key(lambda jql: self.search_pages(jql, fields, page_size, properties), keys, chunk,
                                 workers):
            yield list(page)

    def comments(self, key: str) -> list[dict[str, Any]]:
        """All comments of an issue, oldest first: id, author, body (plain text), created, updated."""
        result: list[dict[str, Any]] = []
        while True:
            page = self._api("GET", f"issue/{issue_segment(key)}/comment",
                             params={"startAt": len(result), "maxResults": self.COMMENT_PAGE_MAX}, action="comments")
            batch = page.get("comments") or []
            result += [{"id": c.get("id"), "author": _author(c.get("author")), "body": adf_to_text(c.get("body")),
                        "created": c.get("created"), "updated": c.get("updated")} for c in batch]
            if not batch or len(result) >= int(page.get("total", 0)):
                return result

    def get_property(self, key: str, property_key: str) -> Any:
        """The value of an issue property, or None if the issue has none of that key."""
        body = self._api("GET", f"issue/{issue_segment(key)}/properties/{segment(property_key)}",
                         action="get property", missing_ok=True)
        return None if body is None else body.get("value")

    def issue_identity(self, key: str, fields: Sequence[str], properties: Sequence[str] = ()) -> dict[str, Any] | None:
        """The issue `key` answers to with just `fields` and `properties` (what identity checks read), or
        None when Jira knows no such issue (or the API user cannot see it)."""
        params = {"fields": ",".join(fields), **({"properties": ",".join(properties)} if properties else {})}
        return self._api("GET", f"issue/{issue_segment(key)}", params=params, action="get issue", missing_ok=True)

    # -- writes ----------------------------------------------------------------------------------

    def bulk_create(self, issues: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        """Create issues 50 per request. Each item is `{"fields": {...}}` (optionally with "update"
        and "properties") or just the fields mapping. One WriteResult per item, in input order, with
        Jira's error for the ones it refused; never raises for a refused item."""
        items = [(index, self._issue_payload(issue)) for index, issue in enumerate(issues)]
        results: list[WriteResult] = []
        for chunk in batches(items, self.BULK_CREATE_MAX):
            results += write_isolating(chunk, self._create_chunk)
        return sorted(results, key=lambda r: r.index)

    def _issue_payload(self, issue: Mapping[str, Any]) -> dict[str, Any]:
        payload = dict(issue) if "fields" in issue else {"fields": dict(issue)}
        payload["fields"] = self._rich(payload["fields"])
        return payload

    def _create_chunk(self, chunk: Sequence[tuple[int, dict[str, Any]]]) -> list[WriteResult]:
        response = self._send("POST", "issue/bulk", body={"issueUpdates": [p for _, p in chunk]},
                              action="bulk create")
        body = response.json() if response.content else {}
        per_element = isinstance(body, dict) and isinstance(body.get("errors"), list) and (
            body["errors"] or body.get("issues"))
        if response.status_code < 300 or (response.status_code == 400 and per_element):
            return _bulk_results(chunk, body)
        if response.status_code == 400:  # refused as a whole: find the bad element by halves
            raise ChunkRejected("JIRA_HTTP_400", _messages(response))
        raise self._error(response, "bulk create")

    def update_fields(self, key: str, fields: Mapping[str, Any]) -> None:
        """Set fields on one issue (rich text given as plain strings is converted on Cloud)."""
        self._api("PUT", f"issue/{issue_segment(key)}", body={"fields": self._rich(fields)}, action=f"update {key}")

    def transition_to(self, key: str, target_status: str, max_steps: int = 12, *, status: str | None = None,
                      workflow: tuple[str, str] | None = None, created: bool = False) -> list[str]:
        """Move an issue to `target_status` through as many transitions as the workflow needs.
        Returns the names of the transitions taken (empty if already there).

        `status` and `workflow` ((project key, issue type name)): where the caller already knows the issue
        is (a before-image it read); `created`: the issue was just created in `workflow`, so it is in that
        workflow's initial status, read once per hook. Without either the issue is read first (with its
        transitions). What a status offers is read once per workflow and status (sfjira.hooks.workflow):
        Jira's transitions belong to the workflow, so the next issue in that status takes the learned
        transition without a read. Conditions can hide a transition from one issue, and the issue may have
        moved since the caller's read: a learned transition Jira refuses (HTTP 400) makes the walk read
        that issue and go on from what Jira says, once (`workflow_calls["rereads"]`)."""
        path = f"issue/{issue_segment(key)}"
        workflow = (workflow[0], workflow[1].casefold()) if workflow else None
        if created and workflow is not None and workflow in self._initial:
            status = self._initial[workflow]
        # `sure`: the issue is in `status` (read just now, or reached by our own step); `fresh`: the transitions
        # known from `status` were read from this issue, so Jira refusing one is final.
        sure = fresh = False
        if status is None or workflow is None:
            status, workflow = self._read_status(key, workflow if created else None)
            sure = fresh = True
        walk = self._workflows.setdefault(workflow, WorkflowMap())
        taken: list[str] = []
        while status.casefold() != target_status.strip().casefold():
            if not walk.knows(status) or (walk.next_step(status, target_status) is None and not fresh):
                # Unknown from here, or known only from other issues and leading nowhere: ask this issue. A
                # status only believed is read with the transitions: they must be the ones of that status.
                kind = "reads" if not walk.knows(status) else "rereads"
                if sure:
                    walk.learn(status, self._transitions(path, kind))
                else:
                    status, workflow = self._read_status(key, None, kind)
                    walk, sure = self._workflows[workflow], True
                fresh = True
                continue
            step = walk.next_step(status, target_status)
            if step is None or len(taken) >= max_steps:
                raise ApiError(f"{key}: status {target_status!r} cannot be reached from {status!r} "
                               f"(statuses seen: {', '.join(walk.known_statuses())})",
                               code="TRANSITION_UNREACHABLE", record=key,
                               fix="map the value to a status this workflow reaches, or add a transition to the "
                                   "workflow (and check the API user may perform it)")
            transition_id, name, to = step
            try:
                self._api("POST", f"{path}/transitions", body={"transition": {"id": transition_id}},
                          action=f"transition {key}")
            except ApiError as exc:
                if exc.status != 400 or fresh:
                    raise
                log.info("Jira refused the learned transition %s on %s (%s): reading the issue", name, key, exc)
                status, workflow = self._read_status(key, None, "rereads")
                walk, sure, fresh = self._workflows[workflow], True, True
                continue
            self.count_workflow("steps")
            taken.append(name)
            # A transition leads to one status of its workflow: the issue is there now.
            status, sure, fresh = to, True, False
        return taken

    def initial_status(self, key: str, workflow: tuple[str, str]) -> str:
        """The initial status of `workflow` ((project key, issue type name)), where the just-created issue `key`
        stands: known once read for this hook, else read from that issue (with its transitions)."""
        workflow = (workflow[0], workflow[1].casefold())
        if workflow not in self._initial:
            self._read_status(key, workflow)
        return self._initial[workflow]

    def count_workflow(self, kind: str) -> None:
        """One workflow call of `kind` (steps, reads, rereads) for the report's minimum; thread-safe."""
        with self._counting:
            self.workflow_calls[kind] += 1

    def _read_status(self, key: str, created_in: tuple[str, str] | None, kind: str = "reads"
                     ) -> tuple[str, tuple[str, str]]:
        """The issue's status and workflow, its transitions learned from the same read (`expand=transitions`)."""
        issue = self._api("GET", f"issue/{issue_segment(key)}", action="get issue",
                          params={"fields": "status,project,issuetype", "expand": "transitions"})
        self.count_workflow(kind)
        fields = issue["fields"]
        status = str(fields["status"]["name"])
        workflow = (str(fields["project"]["key"]), str(fields["issuetype"]["name"]).casefold())
        self._workflows.setdefault(workflow, WorkflowMap()).learn(status, issue.get("transitions") or [])
        if created_in is not None:
            self._initial.setdefault(created_in, status)
        return status, workflow

    def _transitions(self, path: str, kind: str) -> list[dict[str, Any]]:
        self.count_workflow(kind)
        return list(self._api("GET", f"{path}/transitions", action="transitions").get("transitions", []))

    def add_comment(self, key: str, body: str) -> dict[str, Any]:
        """Add a plain-text comment (ADF on Cloud); returns the comment's id and created time."""
        payload = text_to_adf(body) if self.is_cloud else body
        created = self._api("POST", f"issue/{issue_segment(key)}/comment", body={"body": payload},
                            action="add comment")
        return {"id": created.get("id"), "created": created.get("created")}

    def set_property(self, key: str, property_key: str, value: Any) -> None:
        self._api("PUT", f"issue/{issue_segment(key)}/properties/{segment(property_key)}", body=value,
                  action="set property")

    def add_labels(self, key: str, labels: Sequence[str]) -> None:
        """Add labels to an issue (those it has already stay)."""
        self._api("PUT", f"issue/{issue_segment(key)}", body={"update": {"labels": [{"add": x} for x in labels]}},
                  action=f"label {key}")

    def delete_issue(self, key: str) -> bool:
        """Delete an issue and its subtasks; False if it was already gone (deleting is idempotent)."""
        response = self._send("DELETE", f"issue/{issue_segment(key)}", params={"deleteSubtasks": "true"},
                              action="delete issue")
        if response.status_code in (204, 404):
            return response.status_code == 204
        raise self._error(response, f"delete {key}")


def _base_url(host: str | None, port: int | None, schema: str | None) -> str:
    if not host:
        raise AuthError("the Jira connection has no host", code="AUTH_CONFIG",
                        fix="set host to the base URL, e.g. https://acme.atlassian.net")
    url = host.rstrip("/") if "://" in host else f"https://{host}"
    if port and f":{port}" not in url.split("://", 1)[1]:
        url = f"{url}:{port}"
    return url


def _updated(issue: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str((issue.get("fields") or {})["updated"]))


def _author(user: Any) -> str | None:
    if not isinstance(user, Mapping):
        return None
    return user.get("accountId") or user.get("name") or user.get("key")


def _bulk_results(chunk: Sequence[tuple[int, Any]], body: Mapping[str, Any]) -> list[WriteResult]:
    failed = {int(e.get("failedElementNumber", -1)): e for e in body.get("errors") or []}
    created = iter(body.get("issues") or [])
    results = []
    for position, (index, _) in enumerate(chunk):
        if position in failed:
            results.append(WriteResult(index=index, success=False, errors=_element_errors(failed[position])))
            continue
        issue = next(created, None)
        if issue is None:
            raise ApiError(f"Jira bulk create answered fewer issues than it accepted ({len(chunk)} sent)",
                           code="UNEXPECTED_RESPONSE", fix="report this: the bulk API broke its contract")
        results.append(WriteResult(index=index, success=True, id=str(issue.get("id")), key=issue.get("key"),
                                   created=True))
    return results
