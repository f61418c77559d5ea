"""Shared fixtures: an isolated AIRFLOW_HOME and both emulators as real processes on loopback."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]

# Airflow reads its configuration at import time, so the isolated home is set before any import.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="sfjira-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
# Shipped mappings declare PII: parsing them needs the key that encrypts it (generated, never in the repo).
os.environ.setdefault("AIRFLOW_CONN_SFJIRA_CRYPTO", json.dumps(
    {"conn_type": "generic", "password": Fernet.generate_key().decode()}))

from emulators.common.process import EmulatorProcess  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of `live_airflow` tests first, in their order, then the rest in theirs: `make test` hands
    whole files to its xdist workers in this order (with --no-loadscope-reorder), so the few files of
    several minutes start at once, on different workers, and the many short files fill in around them.
    xdist's own order (most tests per file first) put them last, where one worker could take two of
    them in a row while the others ran out of work."""
    live = {item.path for item in items if item.get_closest_marker("live_airflow")}
    items.sort(key=lambda item: item.path not in live)  # a stable sort: each group keeps its order


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CA for the whole test world, so one bundle file trusts both emulators."""
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(scope="session")
def sf_emulator(tmp_path_factory: pytest.TempPathFactory, tls_dir: Path) -> Iterator[EmulatorProcess]:
    proc = EmulatorProcess("emulators.salesforce", tmp_path_factory.mktemp("sf-data"), tls_dir=tls_dir)
    with proc:
        yield proc


@pytest.fixture(scope="session")
def jira_emulator(tmp_path_factory: pytest.TempPathFactory, tls_dir: Path) -> Iterator[EmulatorProcess]:
    proc = EmulatorProcess("emulators.jira", tmp_path_factory.mktemp("jira-data"), tls_dir=tls_dir)
    with proc:
        yield proc


@pytest.fixture
def trust_emulator_ca(monkeypatch: pytest.MonkeyPatch, tls_dir: Path) -> Path:
    """For tests of the stock clients: requests takes REQUESTS_CA_BUNDLE over a session's verify,
    so pointing it at the emulator CA is how a user of those clients would trust it too."""
    bundle = tls_dir / "ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    return bundle
