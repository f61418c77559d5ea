"""One live installation for the browser tests: both emulators, an Airflow api-server + scheduler
(LocalExecutor) with the simple auth manager's real login form (users admin and viewer), and Debian's
chromium driven by Playwright.

Two mappings, chosen so each scenario is deterministic:

- `opportunity_to_epic`, as shipped (*/15): the backfill scenario backfills three of its past intervals
  through the UI's dialog;
- `case_to_bug`, a variant scheduled once a year from today, so the scheduler never creates a run of it on
  its own (catchup is off and its first interval ends next year): every run of it is one a test
  triggered, and its figures hold still while the page is compared with the state store. Its priority
  value_map lacks "Low", so every Low case is a reject to replay.

Every task retries once after a short delay, so a transient fault shows up as a second attempt.
Screenshots go to `<pytest basetemp>/screenshots`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from emulators.common.process import EmulatorProcess
from sfjira.emulator_env import environment, sqlite_state
from sfjira.state import StateStore
from tests.live_airflow import Services, airflow_environment, prepare, task_errors

CHROMIUM = Path("/usr/bin/chromium")
# Debian's chromium, never a browser Playwright downloads: no sandbox (containers), no network of its own.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORDS = {"admin": "admin-pw", "viewer": "viewer-pw"}
SHIPPED = Path(__file__).resolve().parents[2] / "include" / "mappings"
DASH = "case_to_bug"
BACKFILLED = "opportunity_to_epic"
WIDTHS = (1280, 390)
RETRY_DELAY_S = 5.0


def sync_dag(mapping: str) -> str:
    return f"sfjira_sync__{mapping}"


def write_mappings(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SHIPPED / f"{BACKFILLED}.yaml", folder)
    text = (SHIPPED / f"{DASH}.yaml").read_text()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    for old, new in (('schedule: "*/10 * * * *"', f'schedule: "0 0 1 1 *"\nstart_date: {today}'),
                     ("      Low: Low\n", ""), ("      Lowest: Low\n", "")):
        assert old in text, f"{old!r} is not in {DASH}.yaml"
        text = text.replace(old, new, 1)
    (folder / f"{DASH}.yaml").write_text(text)
    return folder


@dataclass
class Live:
    services: Services
    state_db: Path
    sf: EmulatorProcess
    jira: EmulatorProcess
    screenshots: Path

    @property
    def base(self) -> str:
        return self.services.base

    def store(self) -> StateStore:
        return StateStore(f"sqlite:///{self.state_db}")

    def runs(self, dag_id: str, **params: Any) -> list[dict[str, Any]]:
        return list(self.services.api("GET", f"/dags/{dag_id}/dagRuns",
                                      params={"limit": 100, "order_by": "-run_after", **params})["dag_runs"])

    def wait_until(self, what: str, check: Callable[[], Any], timeout: float = 240, poll: float = 1.0) -> Any:
        """Poll `check` until it returns something truthy; AssertionError (with the tasks' errors) after
        `timeout` -- a bound on a hung run, not a timing expectation."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(poll)
        raise AssertionError(f"{what}: not within {timeout:.0f} s\n{task_errors(self.services.env)}")

    def run_sync(self, mapping: str, conf: dict[str, Any] | None = None, run_id: str | None = None) -> dict[str, Any]:
        """A manual run of the mapping's sync DAG through the REST API, waited for; its final record."""
        now = dt.datetime.now(dt.UTC)
        run_id = run_id or f"manual__browser_{now:%H%M%S%f}"
        self.services.trigger(sync_dag(mapping), run_id, logical_date=now.isoformat(), conf=conf)
        state = self.services.wait_for_run(sync_dag(mapping), run_id, timeout=300)
        assert state == "success", f"{run_id}: {state}\n{task_errors(self.services.env)}"
        return dict(self.services.api("GET", f"/dags/{sync_dag(mapping)}/dagRuns/{run_id}"))


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"no browser: {CHROMIUM} is missing (Debian's chromium; .ci/run installs it with apt-get)")
    pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pinned in requirements.txt)")
    return CHROMIUM


@pytest.fixture(scope="module")
def live(chromium: Path, tmp_path_factory: pytest.TempPathFactory, sf_emulator: EmulatorProcess,
         jira_emulator: EmulatorProcess) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("browser")
    sf_emulator.reset()
    jira_emulator.reset()
    sf_emulator.clear_faults()
    jira_emulator.clear_faults()
    sf_emulator.seed(seed=5, accounts=6, opportunities=6, cases=8, case_comments=0, contacts=6)
    state_db = root / "state.db"
    passwords = root / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    env = airflow_environment(
        root / "airflow", environment(sf_emulator.url, jira_emulator.url, sf_emulator.ca_bundle,
                                      state=sqlite_state(str(state_db))),
        storage=root / "runs", task_retries=1, retry_delay_s=RETRY_DELAY_S,
        mappings_dir=write_mappings(root / "mappings"))
    env.update({"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords)})
    prepare(env)
    screenshots = tmp_path_factory.getbasetemp() / "screenshots"
    screenshots.mkdir(exist_ok=True)
    with Services(env) as services:
        services.session.headers["Authorization"] = f"Bearer {admin_token(services)}"
        yield Live(services, state_db, sf_emulator, jira_emulator, screenshots)
    sf_emulator.clear_faults()
    jira_emulator.clear_faults()


def admin_token(services: Services) -> str:
    resp = requests.post(f"{services.base}/auth/token", json={"username": "admin", "password": PASSWORDS["admin"]},
                         timeout=30)
    assert resp.status_code < 300, resp.text
    return str(resp.json()["access_token"])


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
