"""The transform and plan steps on files: the plan step opens no connection (both hooks point at a closed
port), and its tables carry canonical values, not wire shapes."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from sfjira.state import StateStore
from sfjira.storage import read_frame, write_frame
from sfjira.sync.run import SyncRun, Window
from sfjira.sync.steps import plan_step, transform_step
from tests.sfjira.mapping.conftest import SHIPPED
from tests.sfjira.reconcile.world import jira_frame, sf_frame, sf_record

OPP = "006000000000001AAA"
WINDOW = Window(pd.Timestamp("2026-05-01T10:00Z").to_pydatetime(), pd.Timestamp("2026-05-01T10:10Z").to_pydatetime())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as opened:
        yield opened


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Both connections point at a port nothing listens on; run files go under tmp_path."""
    url = f"https://127.0.0.1:{_closed_port()}"
    extra = {"retry_max_attempts": 1, "retry_max_total": 1, "timeout": 2}
    monkeypatch.setenv("AIRFLOW_CONN_SF_DOWN", json.dumps({"conn_type": "salesforce", "extra": {
        **extra, "grant_type": "client_credentials", "instance_url": url, "client_id": "x", "client_secret": "y"}}))
    monkeypatch.setenv("AIRFLOW_CONN_JIRA_DOWN", json.dumps({"conn_type": "jira", "host": url, "login": "a",
                                                             "password": "b", "extra": extra}))
    monkeypatch.setenv("SFJIRA_STORAGE", f"file://{tmp_path / 'runs'}")


def test_the_plan_step_runs_with_both_apis_unreachable(store: StateStore, unreachable: None) -> None:
    run = SyncRun(mapping_file=str(SHIPPED / "opportunity_to_epic.yaml"), dag_id="sfjira_sync__opportunity",
                  airflow_run_id="manual__offline", window=WINDOW, salesforce_conn_id="sf_down",
                  jira_conn_id="jira_down")
    run.__dict__["state"] = store  # the real store, opened on a file instead of an Airflow connection
    mapping = run.mapping
    records = [sf_record(OPP, "Opportunity", Name="Big deal", Description="Line one", Amount=1200.5,
                         CloseDate="2026-12-31", StageName="Prospecting", **{"Account.Name": "Acme"})]
    sf_out = {"records": write_frame(run.folder, "sf_records", sf_frame(mapping, records)), "changed": 1,
              "deleted": write_frame(run.folder, "sf_deleted", pd.DataFrame({"Id": pd.Series(dtype=object)}))}
    jira_out = {"issues": write_frame(run.folder, "jira_issues", jira_frame(mapping, [])), "changed": 0}

    transformed = transform_step(run, sf_out, jira_out)  # no claim in doubt: no look-up either
    plan = plan_step(run, sf_out, jira_out, transformed)

    creates = read_frame(plan["tables"]["jira_create"])
    assert creates["sf_id"].tolist() == [OPP]
    fields = json.loads(creates.loc[0, "fields"])
    # Canonical values: the decimal as a string, the option as its plain value (the hook encodes them).
    assert fields["customfield_10052"] == "1200.5" and fields["customfield_10055"] == "Prospecting"
    assert plan["identity_lookups"] == {"jira": 0, "salesforce": 0}
    assert run.jira.calls == {} and run.salesforce.calls == {}
    assert run.jira.client is None  # never connected
