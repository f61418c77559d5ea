"""Reference resources: server info, the API user, fields, projects, types, priorities, statuses, users,
create metadata."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from emulators.jira import catalog, render
from emulators.jira.context import Call
from emulators.jira.errors import JiraError, JiraJSON, bad_request
from emulators.jira.fields import ALL_FIELDS, ALWAYS_REQUIRED, CREATE_SCREEN, FieldDef
from emulators.jira.users import render_user

CLOUD_VERSION = (1001, 0, 0)
DC_VERSION = (9, 12, 15)


async def server_info(call: Call) -> Response:
    version = CLOUD_VERSION if call.cloud else DC_VERSION
    body: dict[str, Any] = {
        "baseUrl": call.env.base_url,
        "displayUrl": call.env.base_url,
        "version": ".".join(map(str, version)) + ("-SNAPSHOT" if call.cloud else ""),
        "versionNumbers": list(version),
        "deploymentType": "Cloud" if call.cloud else "Server",
        "buildNumber": 100289 if call.cloud else 9120015,
        "buildDate": "2026-11-02T00:00:00.000+0000",
        "serverTime": call.ts(call.store.now_ms()),
        "scmInfo": "5a2b1c0e7d9f4e3a8b6c1d2e3f4a5b6c7d8e9f0a",
        "serverTitle": "Jira",
        "serverTimeZone": "UTC" if call.cloud else call.settings.time_zone,
    }
    return JiraJSON(body)


async def myself(call: Call) -> Response:
    body = render_user(call.me, call.env.base_url, call.cloud, call.version) or {}
    body["locale"] = "en_US"
    return JiraJSON(body)


def _field_details(f: FieldDef) -> dict[str, Any]:
    return {"id": f.id, "key": f.id, "name": f.name, "custom": f.custom, "orderable": f.orderable,
            "navigable": f.navigable, "searchable": f.searchable, "clauseNames": list(f.clause_names),
            "schema": f.schema}


async def list_fields(call: Call) -> Response:
    return JiraJSON([_field_details(f) for f in ALL_FIELDS.values()])


def _project(call: Call, p: catalog.Project, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
                           **render.project_ref(call, p.key), "style": "classic", "isPrivate": False,
                           "properties": {}}
    if full:
        out.update({
            "description": p.description,
            "lead": render_user(call.me, call.env.base_url, call.cloud, call.version),
            "components": [],
            "issueTypes": [render.issuetype(call, t) for t in p.issue_type_ids],
            "assigneeType": "UNASSIGNED",
            "versions": [render.version(call, p, v) for v in p.versions],
            "roles": {},
        })
    return out


def _find_project(call: Call) -> catalog.Project:
    ref = call.path("projectIdOrKey")
    project = catalog.project_by_id_or_key(ref.upper() if not ref.isdigit() else ref)
    if project is None:
        raise JiraError(404, [f"No project could be found with key '{ref}'."])
    return project


async def list_projects(call: Call) -> Response:
    return JiraJSON([_project(call, p, full=False) for p in catalog.PROJECTS.values()])


async def get_project(call: Call) -> Response:
    return JiraJSON(_project(call, _find_project(call), full=True))


async def search_projects(call: Call) -> Response:
    start, limit = call.int_param("startAt", 0), min(call.int_param("maxResults", 50), 100)
    query = (call.param("query") or "").casefold()
    keys = set(call.list_param("keys") or [])
    matches = [p for p in catalog.PROJECTS.values()
               if (not query or query in p.key.casefold() or query in p.name.casefold())
               and (not keys or p.key in keys)]
    page = matches[start:start + limit]
    body = {"self": call.api(f"project/search?startAt={start}&maxResults={limit}"), "maxResults": limit,
            "startAt": start, "total": len(matches), "isLast": start + limit >= len(matches),
            "values": [_project(call, p, full=False) for p in page]}
    return JiraJSON(body)


async def list_issuetypes(call: Call) -> Response:
    return JiraJSON([render.issuetype(call, t) for t in catalog.ISSUE_TYPES])


async def list_priorities(call: Call) -> Response:
    return JiraJSON([{**(render.priority(call, p.id) or {}), "statusColor": p.color, "description": p.name,
                      "isDefault": p.id == catalog.DEFAULT_PRIORITY} for p in catalog.PRIORITIES.values()])


async def list_statuses(call: Call) -> Response:
    return JiraJSON([render.status(call, s) for s in catalog.STATUSES])


async def search_users(call: Call) -> Response:
    query = call.param("query") if call.cloud else (call.param("username") or call.param("query"))
    account_id = call.param("accountId")
    if query is None and account_id is None:
        raise bad_request("One of 'query' or 'accountId' must be provided." if call.cloud
                          else "The username query parameter was not provided")
    directory = call.env.directory
    users = [u for u in directory.users if u.account_id == account_id] if account_id else directory.search(query or "")
    start, limit = call.int_param("startAt", 0), min(call.int_param("maxResults", 50), 1000)
    return JiraJSON([render_user(u, call.env.base_url, call.cloud, call.version) for u in users[start:start + limit]])


# -- create metadata ---------------------------------------------------------------------------------------

def _field_meta(call: Call, f: FieldDef, project: catalog.Project, type_name: str) -> dict[str, Any]:
    required = f.id in ALWAYS_REQUIRED or f.id in call.settings.required_for(project.key, type_name)
    out: dict[str, Any] = {"required": required, "schema": f.schema, "name": f.name, "key": f.id, "fieldId": f.id,
                           "hasDefaultValue": f.id in ("priority", "reporter"),
                           "operations": ["add", "set", "remove"] if f.kind in ("labels", "versions") else ["set"]}
    allowed = _allowed_values(call, f, project)
    if allowed is not None:
        out["allowedValues"] = allowed
    if f.id == "priority":
        out["defaultValue"] = render.priority(call, catalog.DEFAULT_PRIORITY)
    return out


def _allowed_values(call: Call, f: FieldDef, project: catalog.Project) -> list[Any] | None:
    if f.kind == "option":
        return [{"self": f"{call.env.base_url}/rest/api/{call.version}/customFieldOption/{oid}", "value": value,
                 "id": oid} for oid, value in f.options.items()]
    if f.id == "priority":
        return [render.priority(call, pid) for pid in catalog.PRIORITIES]
    if f.id == "fixVersions":
        return [render.version(call, project, v) for v in project.versions]
    if f.id == "project":
        return [render.project_ref(call, project.key)]
    return None


def _type_meta(call: Call, project: catalog.Project, type_id: str) -> dict[str, Any]:
    return render.issuetype(call, type_id)


def _page(call: Call, items: list[Any], cloud_key: str) -> dict[str, Any]:
    start, limit = call.int_param("startAt", 0), min(call.int_param("maxResults", 50), 200)
    page = items[start:start + limit]
    body: dict[str, Any] = {"maxResults": limit, "startAt": start, "total": len(items)}
    if call.cloud:
        body[cloud_key] = page
    else:  # Data Center pages these as `values` with `isLast`
        body.update({"isLast": start + limit >= len(items), "values": page})
    return body


async def createmeta_issuetypes(call: Call) -> Response:
    project = _find_project(call)
    items = [_type_meta(call, project, t) for t in project.issue_type_ids]
    return JiraJSON(_page(call, items, "issueTypes"))


async def createmeta_fields(call: Call) -> Response:
    project = _find_project(call)
    type_id = call.path("issueTypeId")
    if type_id not in project.issue_type_ids:
        raise bad_request(f"The issue type with id '{type_id}' does not exist or is not in project "
                          f"'{project.key}'.")
    issue_type = catalog.ISSUE_TYPES[type_id]
    field_ids = ["issuetype", *(f for f in CREATE_SCREEN if not (f == "parent" and issue_type.hierarchy_level))]
    items = [_field_meta(call, ALL_FIELDS[f], project, issue_type.name) for f in field_ids]
    return JiraJSON(_page(call, items, "fields"))
