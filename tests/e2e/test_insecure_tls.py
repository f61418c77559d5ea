"""`allow_insecure_tls` is never silent: a real sync run over a Jira connection without certificate
checks names that connection in its run summary; with the default connections the list is empty."""

from __future__ import annotations

import json

import pytest

from sfjira.emulator_env import jira_connection
from tests.e2e.world import World, make_cases


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # the point of the test
def test_a_run_over_unchecked_tls_says_so_in_its_summary(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    make_cases(world.sf, 2)
    checked = world.run("case_to_bug", full=True)
    assert checked.summary["summary"]["insecure_tls"] == []

    # No CA bundle at all: the emulator's certificate is trusted only because the checks are off.
    unchecked = jira_connection(world.jira_emulator.url, world.jira_emulator.ca_bundle,
                                verify=False, allow_insecure_tls=True)
    del unchecked["extra"]["ca_bundle"]
    monkeypatch.setenv("AIRFLOW_CONN_JIRA_DEFAULT", json.dumps(unchecked))
    make_cases(world.sf, 1, prefix="Later case")
    run = world.run("case_to_bug")

    assert run.summary["status"] == "success"
    assert run.summary["summary"]["insecure_tls"] == ["jira_default"]
    assert world.xcom(run, "report")["insecure_tls"] == ["jira_default"]
    assert len(world.issues("project = SUP")) == 3
