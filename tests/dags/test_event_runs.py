"""Issue 15.5: a webhook starts a sync run that carries the edit across; a burst of events is one or two runs.

One live Airflow (api-server with the plugin's receiver + scheduler, tests/live_airflow.py) and both
emulators delivering to the receiver for real. The mapping's cron is yearly, so every run after the first
(manual) one is the scheduler's answer to an event: an `asset_triggered` run, reading from the committed
cursor. The cron path is unchanged (tests/sfjira/test_dag_factory.py checks the timetable keeps it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path

import pytest
import requests

from emulators.common.process import EmulatorProcess
from sfjira.emulator_env import environment, sqlite_state
from sfjira.state import StateStore
from tests.e2e.world import make_cases
from tests.live_airflow import Services, airflow_environment, prepare, task_errors, wait_for
from tests.realtime import (
    DAG_ID,
    Secrets,
    TwoSides,
    mappings_with_schedule,
    quiet,
    receiver_url,
    register_senders,
    runs,
)

pytestmark = [pytest.mark.e2e, pytest.mark.live_airflow]

YEARLY = "0 0 1 1 *"  # no scheduled run within the test: every run but the first is an event's
BURST = 20


def post_jira_event(services: Services, secret: str, delivery: str, key: str) -> requests.Response:
    body = json.dumps({"timestamp": int(time.time() * 1000), "webhookEvent": "jira:issue_updated",
                       "issue": {"key": key}}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return requests.post(receiver_url(services.base, "jira"), data=body, timeout=30, headers={
        "Content-Type": "application/json", "X-Hub-Signature": signature, "X-Atlassian-Webhook-Identifier": delivery})


@pytest.mark.timeout(1500)
def test_webhooks_start_runs_that_carry_edits_across_and_a_burst_coalesces(
        tmp_path: Path, sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess) -> None:
    sf_emulator.reset()
    jira_emulator.reset()
    secrets = Secrets()
    state = tmp_path / "state.db"
    with StateStore(f"sqlite:///{state}") as store:
        store.migrate()  # the receiver claims deliveries in it before any run has
    env = airflow_environment(tmp_path / "airflow", {
        **environment(sf_emulator.url, jira_emulator.url, sf_emulator.ca_bundle, state=sqlite_state(str(state))),
        **secrets.connections()}, storage=tmp_path / "runs", mappings_dir=mappings_with_schedule(tmp_path / "m", YEARLY))
    prepare(env)
    sides = TwoSides(sf_emulator, jira_emulator)
    cases = make_cases(sides.sf, 2)
    with Services(env) as services:
        services.unpause(DAG_ID)
        first = services.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
        assert services.wait_for_run(DAG_ID, first["dag_run_id"]) == "success", task_errors(env)
        keys = sides.keys(cases)
        assert len(keys) == 2, keys
        register_senders(services.base, secrets, sf_emulator, jira_emulator)

        # One edit each way: the senders deliver, the receiver records, the scheduler runs the sync.
        sides.edit_salesforce(cases[0], "Renamed in Salesforce")
        sides.edit_jira(keys[cases[1]], "Renamed in Jira")
        assert sides.wait_arrivals(timeout=420) == 0, task_errors(env)
        print("edit -> other side:", {e.side: f"{e.latency:.1f} s" for e in sides.edits})
        after_first = [r for r in runs(services) if r["dag_run_id"] != first["dag_run_id"]]
        assert {r["run_type"] for r in after_first} == {"asset_triggered"}, after_first
        for run in after_first:
            window = services.xcom(DAG_ID, run["dag_run_id"], "extract_salesforce")["window"] \
                if run["state"] == "success" else None
            assert window is None or window["reason"].startswith("asset_triggered (from the cursor"), window

        # A burst: 20 events within a second or two are at most two runs (one may be on already when the
        # rest arrive: they wait, queued, and the next run takes them all). Airflow 3.3 lists as a run's
        # "consumed" events only those up to the first one that queued it; later ones joining that queue
        # before the run is created get no run of their own. So what counts is that a run STARTED after the
        # last event (its window, from the cursor to its start, covers every change the events reported).
        wait_for("the runs the edits started to end", lambda: quiet(services), timeout=300, poll=1)
        before = {r["dag_run_id"] for r in runs(services)}
        begun = dt.datetime.now(dt.UTC)
        for delivery in (str(uuid.uuid4()) for _ in range(BURST)):
            resp = post_jira_event(services, secrets.jira, delivery, keys[cases[0]])
            assert (resp.status_code, resp.json()) == (200, {"outcome": "recorded"}), resp.text
        last = dt.datetime.now(dt.UTC)
        wait_for("the burst's runs", lambda: quiet(services) and [
            r for r in runs(services) if r["dag_run_id"] not in before], timeout=300, poll=1)
        new = [r for r in runs(services) if r["dag_run_id"] not in before]
        print(f"{BURST} events -> {len(new)} run(s)")
        assert 1 <= len(new) <= 2, new
        assert all(r["run_type"] == "asset_triggered" and r["state"] == "success" for r in new), new
        assert all(dt.datetime.fromisoformat(r["start_date"]) > begun for r in new)
        covering = max(new, key=lambda r: r["start_date"])
        window = services.xcom(DAG_ID, covering["dag_run_id"], "extract_jira")["window"]
        assert dt.datetime.fromisoformat(window["until"]) >= last, (window, last)
