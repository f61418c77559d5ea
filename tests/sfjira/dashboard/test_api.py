"""The dashboard as Airflow serves it: a real api-server (its own CLI in a subprocess, isolated home) loads
SfJiraPlugin from the entry point, mounts the app under /sfjira and lists the UI entries; Airflow's
simple auth manager with two users, admin and viewer, issues the tokens.

Every route needs a login (401 without); a viewer reads but may not act (403, and no DAG run appears);
an admin's action creates the DAG run in Airflow's metadata database with the conf the action promises,
validated against the DAG's Params.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sfjira.dashboard import data
from sfjira.emulator_env import sqlite_state
from sfjira.state import StateStore
from tests.live_airflow import Services, airflow_environment, prepare
from tests.sfjira.dashboard.seed import MAPPING, SYNC_2, seed

pytestmark = pytest.mark.integration

PASSWORDS = {"admin": "admin-pw", "viewer": "viewer-pw"}
API = "/sfjira/api/v1"
SYNC_DAG, RECONCILE_DAG, ROLLBACK_DAG = (f"sfjira_{k}__{MAPPING}" for k in ("sync", "reconcile", "rollback"))


@pytest.fixture(scope="module")
def state_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sync's state store (SQLite), with the seeded history."""
    state = tmp_path_factory.mktemp("state") / "state.db"
    with StateStore(f"sqlite:///{state}") as store:
        seed(store)
    return state


@pytest.fixture(scope="module")
def airflow_api(tmp_path_factory: pytest.TempPathFactory, state_db: Path) -> Iterator[Services]:
    root = tmp_path_factory.mktemp("dashboard")
    state = state_db
    passwords = root / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    env = airflow_environment(root / "airflow", {"AIRFLOW_CONN_SFJIRA_STATE": json.dumps(sqlite_state(str(state)))},
                              storage=root / "runs")
    env.update({"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords)})
    prepare(env)
    with Services(env, scheduler=False) as services:
        yield services


def token(services: Services, user: str) -> str:
    resp = requests.post(f"{services.base}/auth/token", json={"username": user, "password": PASSWORDS[user]},
                         timeout=30)
    assert resp.status_code < 300, resp.text
    return str(resp.json()["access_token"])


def call(services: Services, method: str, path: str, user: str | None = None, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token(services, user)}"} if user else {}
    return requests.request(method, f"{services.base}{path}", headers=headers, timeout=60, allow_redirects=False,
                            **kwargs)


def dag_runs(services: Services, dag_id: str) -> list[dict[str, Any]]:
    resp = call(services, "GET", f"/api/v2/dags/{dag_id}/dagRuns", "admin")
    assert resp.status_code == 200, resp.text
    return list(resp.json()["dag_runs"])


READS = [f"{API}/mappings", f"{API}/mappings/{MAPPING}", f"{API}/mappings/{MAPPING}/rejects",
         f"{API}/mappings/{MAPPING}/task-health", f"{API}/mappings/{MAPPING}/audit?record=SUP-1", "/sfjira/",
         f"/sfjira/mappings/{MAPPING}", f"{API}/openapi.json"]
ACTIONS = [("replay-rejects", {}), ("reconcile-dry-run", {"scope": "all"}), ("rollback-dry-run", {"run": SYNC_2})]


@pytest.mark.parametrize("path", READS)
def test_every_read_needs_a_login(airflow_api: Services, path: str) -> None:
    assert call(airflow_api, "GET", path).status_code == 401


@pytest.mark.parametrize(("action", "body"), ACTIONS)
def test_every_action_needs_a_login(airflow_api: Services, action: str, body: dict[str, Any]) -> None:
    resp = call(airflow_api, "POST", f"{API}/mappings/{MAPPING}/actions/{action}", json=body)
    assert resp.status_code == 401


@pytest.mark.parametrize("path", ["/sfjira/docs", "/sfjira/openapi.json", "/sfjira/redoc"])
def test_fastapis_unguarded_doc_routes_are_off(airflow_api: Services, path: str) -> None:
    assert call(airflow_api, "GET", path, "admin").status_code == 404


def test_a_forged_token_is_refused(airflow_api: Services) -> None:
    resp = requests.get(f"{airflow_api.base}{API}/mappings", headers={"Authorization": "Bearer not.a.jwt"},
                        timeout=30)
    assert resp.status_code in (401, 403)


@pytest.mark.parametrize("path", READS)
def test_a_viewer_reads(airflow_api: Services, path: str) -> None:
    assert call(airflow_api, "GET", path, "viewer").status_code == 200


def test_the_json_api_serves_the_state_stores_figures(airflow_api: Services, state_db: Path) -> None:
    resp = call(airflow_api, "GET", f"{API}/mappings/{MAPPING}", "viewer")
    assert resp.status_code == 200, resp.text
    served = resp.json()
    with StateStore(f"sqlite:///{state_db}") as store:
        expected = data.mapping_figures(store, MAPPING)
    for key in ("overview", "runs", "api_usage", "latency", "drift", "rejects", "conflicts"):
        assert served[key] == expected[key], key
    # Airflow's own side: the mapping's three DAGs, paused as Airflow creates them, and no runs yet.
    assert {k: v["dag_id"] for k, v in served["dags"].items()} == {"sync": SYNC_DAG, "reconcile": RECONCILE_DAG,
                                                                   "rollback": ROLLBACK_DAG}
    listed = call(airflow_api, "GET", f"{API}/mappings", "viewer").json()
    assert {m["mapping"] for m in listed} == {MAPPING, "opportunity_to_epic"}


@pytest.mark.parametrize(("action", "body"), ACTIONS)
def test_a_viewer_may_not_act_and_nothing_is_triggered(airflow_api: Services, action: str,
                                                       body: dict[str, Any]) -> None:
    before = {k: len(dag_runs(airflow_api, k)) for k in (SYNC_DAG, RECONCILE_DAG, ROLLBACK_DAG)}
    resp = call(airflow_api, "POST", f"{API}/mappings/{MAPPING}/actions/{action}", "viewer", json=body)
    assert resp.status_code == 403, resp.text
    assert {k: len(dag_runs(airflow_api, k)) for k in before} == before


@pytest.mark.parametrize(("action", "body", "dag_id", "conf"), [
    ("replay-rejects", {}, SYNC_DAG, {"replay_rejects": True}),
    ("reconcile-dry-run", {"scope": "2026-11-01"}, RECONCILE_DAG, {"scope": "2026-11-01", "auto_heal": False}),
    ("rollback-dry-run", {"run": SYNC_2}, ROLLBACK_DAG, {"run": SYNC_2, "dry_run": True, "created": "keep"}),
])
def test_an_admins_action_creates_the_dag_run_in_airflow(airflow_api: Services, action: str, body: dict[str, Any],
                                                         dag_id: str, conf: dict[str, Any]) -> None:
    resp = call(airflow_api, "POST", f"{API}/mappings/{MAPPING}/actions/{action}", "admin", json=body)
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert answer["dag_id"] == dag_id and answer["conf"] == conf
    runs = {r["dag_run_id"]: r for r in dag_runs(airflow_api, dag_id)}
    run = runs[answer["dag_run_id"]]  # in Airflow's metadata DB, as its REST API reads it back
    assert run["conf"] == conf and run["run_type"] == "manual" and run["state"] == "queued"
    assert run["triggered_by"] == "ui" and run["triggering_user_name"] == "admin"
    # A logical date, so Airflow infers the data interval the sync's tasks read their window from.
    assert run["logical_date"] and run["data_interval_start"] and run["data_interval_end"]


def test_an_action_the_dags_params_refuse_is_a_400_and_creates_nothing(airflow_api: Services) -> None:
    before = len(dag_runs(airflow_api, RECONCILE_DAG))
    resp = call(airflow_api, "POST", f"{API}/mappings/{MAPPING}/actions/reconcile-dry-run", "admin",
                json={"scope": "last tuesday"})
    assert resp.status_code == 400, resp.text
    assert len(dag_runs(airflow_api, RECONCILE_DAG)) == before


def test_an_action_takes_json_only(airflow_api: Services) -> None:
    before = len(dag_runs(airflow_api, SYNC_DAG))
    resp = requests.post(f"{airflow_api.base}{API}/mappings/{MAPPING}/actions/replay-rejects", data="x=1",
                         headers={"Authorization": f"Bearer {token(airflow_api, 'admin')}",
                                  "Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert resp.status_code == 415
    assert len(dag_runs(airflow_api, SYNC_DAG)) == before


def test_the_page_reads_the_ui_login_cookie_and_the_dag_view_leads_to_its_mapping(airflow_api: Services) -> None:
    cookies = {"_token": token(airflow_api, "viewer")}  # what the UI's frame sends
    page = requests.get(f"{airflow_api.base}/sfjira/mappings/{MAPPING}", cookies=cookies, timeout=60)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<svg" in page.text and "JIRA_FIELD_INVALID" in page.text
    view = requests.get(f"{airflow_api.base}/sfjira/dags/{SYNC_DAG}", cookies=cookies, timeout=60,
                        allow_redirects=False)
    assert view.status_code == 303 and view.headers["location"].endswith(f"/sfjira/mappings/{MAPPING}")
    run = requests.get(f"{airflow_api.base}/sfjira/dags/{SYNC_DAG}/runs/{SYNC_2}", cookies=cookies, timeout=60)
    assert run.status_code == 200 and "summary" in run.text  # the ledger's rows of that run


def test_airflow_lists_the_nav_entry_and_the_dag_and_run_views(airflow_api: Services) -> None:
    resp = call(airflow_api, "GET", "/api/v2/plugins", "viewer")
    assert resp.status_code == 200, resp.text
    plugin = next(p for p in resp.json()["plugins"] if p["name"] == "sfjira")
    assert [app["url_prefix"] for app in plugin["fastapi_apps"]] == ["/sfjira/webhooks", "/sfjira"]
    views = {v["destination"]: v["href"] for v in plugin["external_views"]}
    assert views == {"nav": "/sfjira/", "dag": "/sfjira/dags/{DAG_ID}", "dag_run": "/sfjira/dags/{DAG_ID}/runs/{RUN_ID}"}
