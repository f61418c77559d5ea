"""The dashboard's FastAPI app, mounted by SfJiraPlugin under `/sfjira` of Airflow's api-server.

Pages (HTML) and the JSON API (`/sfjira/api/v1/...`, docs/dashboard-api.md) serve the same figures.
Airflow does not guard a plugin's app: every route here declares Airflow's own auth dependencies, so a
caller needs an Airflow login (the UI's `_token` cookie, or `Authorization: Bearer <JWT>` from
`POST /auth/token`):

- reading: `requires_access_view(AccessView.WEBSITE)` for the app, and read access to the mapping's sync
  DAG runs for a mapping's figures (a user who cannot see the DAG cannot see its mapping);
- acting: the DAG-run POST permission on the DAG the action triggers (`requires_access_dag(method="POST",
  access_entity=DagAccessEntity.RUN)`, as Airflow's own trigger route). Actions only create DAG runs, through
  Airflow (sfjira.dashboard.airflow_meta.trigger); they take JSON bodies only, so a cross-site form cannot
  post one with the login cookie.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, Literal
from urllib.parse import quote

from airflow.api_fastapi.auth.managers.models.resource_details import AccessView, DagAccessEntity
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag, requires_access_view
from airflow.exceptions import DagNotFound
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from sfjira.dashboard import airflow_meta, data, page
from sfjira.exceptions import SfJiraError
from sfjira.state import StateStore
from sfjira.storage import read_text

API = "/api/v1"


@cache
def state_store() -> StateStore:
    """The store the DAGs write (the `sfjira_state` connection), opened once per api-server process. Never
    migrated from here: a dashboard read must not change the schema under running syncs."""
    return StateStore.from_airflow(auto_migrate=False)


def _store_or_503() -> StateStore:
    store = state_store()
    try:
        store.schema_version()
    except SfJiraError as err:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            {"code": err.code, "message": err.message, "fix": err.fix}) from err
    return store


StoreDep = Annotated[StateStore, Depends(_store_or_503)]


def can_read_mapping(mapping: str, request: Request, user: GetUserDep) -> str:
    """The mapping's figures are its sync DAG's runs: who may read those may read them."""
    requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=airflow_meta.dag_id("sync", mapping))(request, user)
    return mapping


MappingDep = Annotated[str, Depends(can_read_mapping)]


def json_only(request: Request) -> None:
    """Actions take JSON: a browser sends JSON across sites only after a CORS preflight Airflow refuses."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send the action's body as application/json")


class ReplayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReconcileBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: str = Field("all", description='"all", or a date YYYY-MM-DD: records changed since that day')


class RollbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run: str = Field(min_length=1, description="the run to undo: its Airflow or state-store run id")
    created: Literal["keep", "label", "delete"] = "keep"


def _act(request: Request, user: Any, mapping: str, kind: str, conf: dict[str, Any], what: str) -> dict[str, Any]:
    """Check the DAG-run POST permission on the DAG this action triggers, then trigger it through Airflow."""
    target = airflow_meta.dag_id(kind, mapping)
    requires_access_dag("POST", DagAccessEntity.RUN, param_dag_id=target)(request, user)
    try:
        return airflow_meta.trigger(target, conf, user=user.get_name(), note=f"sfjira dashboard: {what}")
    except DagNotFound as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Airflow has no DAG {target}") from err
    except ValueError as err:  # ParamValidationError is one: the DAG's Params refused the conf
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(err)) from err


def _airflow_figures(mapping: str) -> dict[str, Any]:
    return {"dags": airflow_meta.sfjira_dags().get(mapping, {}), "task_health": airflow_meta.task_health(mapping)}


def readable_mappings(store: StateStore, request: Request, user: Any) -> list[dict[str, Any]]:
    """Every mapping Airflow has DAGs for or the store has runs of, that the user may read (the others are
    left out, not an error), with its DAGs, headline and newest sync run."""
    dags = airflow_meta.sfjira_dags()
    out = []
    for name in sorted(set(dags) | set(store.mappings())):
        try:
            can_read_mapping(name, request, user)
        except HTTPException:
            continue
        recent = data.runs(store, name, limit=1, kind="sync")
        out.append({"mapping": name, "dags": dags.get(name, {}), "overview": data.overview(store, name),
                    "last_sync": recent[0] if recent else None})
    return out


def api_router() -> APIRouter:
    router = APIRouter(prefix=API, tags=["sfjira"])

    @router.get("/mappings", summary="Every mapping the user may read: its DAGs, headline and newest sync run")
    def list_mappings(store: StoreDep, request: Request, user: GetUserDep) -> list[dict[str, Any]]:
        return readable_mappings(store, request, user)

    @router.get("/mappings/{mapping}", summary="All figures of one mapping (what its page shows)")
    def mapping_all(mapping: MappingDep, store: StoreDep) -> dict[str, Any]:
        return {**data.mapping_figures(store, mapping), **_airflow_figures(mapping)}

    figures: dict[str, Callable[[StateStore, str], Any]] = {
        "runs": data.runs, "api-usage": data.api_usage, "latency": data.latency, "drift": data.drift,
        "rejects": data.rejects, "conflicts": data.conflicts, "overview": data.overview}
    for path, read in figures.items():
        _add_figure(router, path, read)

    @router.get("/mappings/{mapping}/task-health", summary="Task failures and retries per sync DAG run (Airflow)")
    def task_health(mapping: MappingDep, kind: Literal["sync", "reconcile", "rollback"] = "sync",
                    limit: Annotated[int, Query(ge=1, le=500)] = data.RUN_LIMIT) -> list[dict[str, Any]]:
        return airflow_meta.task_health(mapping, kind=kind, limit=limit)

    @router.get("/mappings/{mapping}/audit", summary="Search the audit trail (newest first)")
    def audit(mapping: MappingDep, store: StoreDep, record: str | None = None, run: str | None = None,
              field: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
              limit: Annotated[int, Query(ge=1, le=5000)] = data.AUDIT_LIMIT) -> dict[str, Any]:
        return data.audit_search(store, mapping, record=record, run=run, field=field, since=since, until=until,
                                 limit=limit)

    @router.get("/mappings/{mapping}/drift/report", response_class=HTMLResponse,
                summary="The newest reconciliation's HTML drift report")
    def drift_report(mapping: MappingDep, store: StoreDep) -> HTMLResponse:
        latest = data.drift(store, mapping)["latest"]
        path = ((latest or {}).get("report") or {}).get("html")
        if not path:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"mapping {mapping} has no reconciliation report yet")
        try:
            return HTMLResponse(read_text(path))
        except FileNotFoundError as err:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"the report {path} is gone (retention?)") from err

    actions = [Depends(json_only)]

    @router.post("/mappings/{mapping}/actions/replay-rejects", dependencies=actions,
                 summary="Trigger the sync DAG with replay_rejects")
    def replay(mapping: str, body: ReplayBody, request: Request, user: GetUserDep) -> dict[str, Any]:
        return _act(request, user, mapping, "sync", {"replay_rejects": True}, "replay rejects")

    @router.post("/mappings/{mapping}/actions/reconcile-dry-run", dependencies=actions,
                 summary="Trigger the reconciliation DAG without auto_heal")
    def reconcile(mapping: str, body: ReconcileBody, request: Request, user: GetUserDep) -> dict[str, Any]:
        return _act(request, user, mapping, "reconcile", {"scope": body.scope, "auto_heal": False},
                    f"dry-run reconciliation ({body.scope})")

    @router.post("/mappings/{mapping}/actions/rollback-dry-run", dependencies=actions,
                 summary="Trigger the rollback DAG as a dry run of one run")
    def rollback(mapping: str, body: RollbackBody, request: Request, user: GetUserDep) -> dict[str, Any]:
        return _act(request, user, mapping, "rollback", {"run": body.run, "dry_run": True, "created": body.created},
                    f"dry-run rollback of {body.run}")

    return router


def _add_figure(router: APIRouter, path: str, read: Callable[[StateStore, str], Any]) -> None:
    def figure(mapping: MappingDep, store: StoreDep) -> Any:
        return read(store, mapping)

    router.add_api_route(f"/mappings/{{mapping}}/{path}", figure, methods=["GET"], name=f"sfjira_{path}",
                         summary=(read.__doc__ or path).strip().splitlines()[0])


def _base(request: Request) -> str:
    """Where the app is mounted (`/sfjira`, behind Airflow's own base path if it has one)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def index(store: StoreDep, request: Request, user: GetUserDep) -> HTMLResponse:
        return HTMLResponse(page.index_page(readable_mappings(store, request, user), user=user.get_name(),
                                            base=_base(request)))

    @router.get("/mappings/{mapping}", response_class=HTMLResponse)
    def mapping_page(mapping: MappingDep, store: StoreDep, request: Request, user: GetUserDep,
                     record: str | None = None, run: str | None = None, field: str | None = None) -> HTMLResponse:
        figures = {**data.mapping_figures(store, mapping), **_airflow_figures(mapping)}
        search = (data.audit_search(store, mapping, record=record, run=run, field=field)
                  if record or run or field else None)
        return HTMLResponse(page.mapping_page(figures, search=search, query={"record": record, "run": run,
                                                                              "field": field},
                                              user=user.get_name(), base=_base(request)))

    @router.get("/dags/{dag_id}", response_class=HTMLResponse, response_model=None)
    def dag_view(dag_id: str, request: Request, user: GetUserDep) -> HTMLResponse | RedirectResponse:
        parsed = airflow_meta.parse_dag_id(dag_id)
        if parsed is None:
            return HTMLResponse(page.not_sfjira(dag_id))
        can_read_mapping(parsed[1], request, user)
        return RedirectResponse(f"{_base(request)}/mappings/{quote(parsed[1])}", status.HTTP_303_SEE_OTHER)

    @router.get("/dags/{dag_id}/runs/{run_id}", response_class=HTMLResponse)
    def run_view(dag_id: str, run_id: str, store: StoreDep, request: Request, user: GetUserDep) -> HTMLResponse:
        parsed = airflow_meta.parse_dag_id(dag_id)
        if parsed is None:
            return HTMLResponse(page.not_sfjira(dag_id))
        mapping = can_read_mapping(parsed[1], request, user)
        found = store.get_run(store.run_key(mapping, run_id))
        trail = data.audit_search(store, mapping, run=run_id)
        return HTMLResponse(page.run_page(mapping, run_id, data.run_figures(found) if found else None, trail,
                                          base=_base(request)))

    return router


def create_app() -> FastAPI:
    """The app SfJiraPlugin mounts. Every route needs a login that may see the Airflow website."""
    app = FastAPI(title="sfjira dashboard", version="1",
                  description="Per-mapping figures of the Salesforce <-> Jira sync, and guarded actions that "
                              "trigger its DAGs. See docs/dashboard-api.md.",
                  dependencies=[Depends(requires_access_view(AccessView.WEBSITE))],
                  # FastAPI serves its own docs routes outside the app's dependencies, i.e. without a login:
                  # off, and the OpenAPI document served by a guarded route instead.
                  openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(api_router())
    app.include_router(pages_router())

    @app.get(f"{API}/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    return app
