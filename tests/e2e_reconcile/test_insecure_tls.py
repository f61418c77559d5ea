"""The reconciliation's run summary names a connection whose TLS certificate checks are off, too."""

from __future__ import annotations

import json

import pytest

from sfjira.emulator_env import salesforce_connection
from tests.e2e_reconcile.recon import Recon
from tests.e2e_reconcile.seed import MAPPING, synced_cases

pytestmark = pytest.mark.e2e


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # the point of the test
def test_reconcile_over_unchecked_tls_says_so(recon: Recon, monkeypatch: pytest.MonkeyPatch) -> None:
    synced_cases(recon, 2)
    assert recon.reconcile(MAPPING).summary["drift"]["insecure_tls"] == []

    unchecked = salesforce_connection(recon.sf_emulator.url, recon.sf_emulator.ca_bundle,
                                      verify="false", allow_insecure_tls="true")
    del unchecked["extra"]["ca_bundle"]
    monkeypatch.setenv("AIRFLOW_CONN_SALESFORCE_DEFAULT", json.dumps(unchecked))
    run = recon.reconcile(MAPPING)
    assert run.found() == set()
    assert run.summary["drift"]["insecure_tls"] == ["salesforce_default"]
