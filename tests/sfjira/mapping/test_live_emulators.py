"""`validate --live` end to end: the CLI reads real metadata through the sync hooks, over HTTPS,
from the emulator processes, with connections defined the way a deployment defines them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulators.common.process import EmulatorProcess
from emulators.jira import defaults as jira_defaults
from emulators.salesforce import defaults as sf_defaults
from tests.sfjira.mapping.conftest import REPO, SHIPPED

pytestmark = pytest.mark.integration


def _live(files: list[Path], sf: EmulatorProcess, jira: EmulatorProcess, home: Path) -> subprocess.CompletedProcess:
    sf_conn = {"conn_type": "salesforce", "extra": {
        "grant_type": "client_credentials", "instance_url": sf.url, "ca_bundle": sf.ca_bundle,
        "client_id": sf_defaults.CLIENT_ID, "client_secret": sf_defaults.CLIENT_SECRET}}
    jira_conn = {"conn_type": "jira", "host": jira.url, "login": jira_defaults.CLOUD_EMAIL,
                 "password": jira_defaults.CLOUD_API_TOKEN, "extra": {"auth": "basic", "ca_bundle": jira.ca_bundle}}
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}", "AIRFLOW_HOME": str(home),
           "AIRFLOW_CONN_SFJIRA_LIVE_SF": json.dumps(sf_conn), "AIRFLOW_CONN_SFJIRA_LIVE_JIRA": json.dumps(jira_conn),
           "SFJIRA_SALESFORCE_CONN_ID": "sfjira_live_sf", "SFJIRA_JIRA_CONN_ID": "sfjira_live_jira"}
    # The `sfjira` console script replaced `python -m sfjira.mapping`.
    return subprocess.run([str(Path(sys.executable).parent / "sfjira"), "validate", "--live", *map(str, files)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=180)


def test_shipped_mappings_match_the_emulated_systems(sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess,
                                                     tmp_path: Path) -> None:
    jira_emulator.configure(mode=jira_defaults.DEFAULT_MODE)
    files = sorted(SHIPPED.glob("*.yaml"))
    done = _live(files, sf_emulator, jira_emulator, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("live-checked") == 2


def test_a_mismatch_is_found_live(sf_emulator: EmulatorProcess, jira_emulator: EmulatorProcess,
                                  tmp_path: Path) -> None:
    text = (SHIPPED / "opportunity_to_epic.yaml").read_text().replace("Closed Lost: Closed Lost",
                                                                     "Closed Lost: Lost for good")
    broken = tmp_path / "opportunity_to_epic.yaml"
    broken.write_text(text)
    done = _live([broken], sf_emulator, jira_emulator, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[MAPPING_LIVE_MISMATCH]" in done.stderr
    assert "does not offer `Lost for good`" in done.stderr
