"""Fixtures for the Jira emulator tests: a clean Cloud-mode emulator with REST helpers for v3 and v2,
and a second emulator process started in Data Center mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import DC_BASIC, JiraRest
from tests.emulators.jira.openapi_check import REPORTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for report in REPORTS:
        terminalreporter.write_sep("=", "Jira emulator vs. the official Jira Cloud OpenAPI")
        terminalreporter.write_line(report)


def _clean(emulator: EmulatorProcess) -> None:
    emulator.clear_faults()
    emulator.set_latency(0)
    emulator.reset()
    emulator.clear_calls()


@pytest.fixture
def jira(jira_emulator: EmulatorProcess) -> Iterator[EmulatorProcess]:
    """The shared emulator as an empty Cloud site with default settings, no faults, no latency, no counted
    calls; left that way afterwards too, for the other suites that share the session's emulator."""
    _clean(jira_emulator)
    yield jira_emulator
    _clean(jira_emulator)


def _closing(client: JiraRest) -> Iterator[JiraRest]:
    # Idle keep-alive TLS connections left open slow down the emulator's shutdown at session end.
    with client.session:
        yield client


@pytest.fixture
def rest(jira: EmulatorProcess) -> Iterator[JiraRest]:
    yield from _closing(JiraRest(jira.url, jira.ca_bundle, version=3))


@pytest.fixture
def rest2(jira: EmulatorProcess) -> Iterator[JiraRest]:
    yield from _closing(JiraRest(jira.url, jira.ca_bundle, version=2))


@pytest.fixture(scope="session")
def jira_dc_process(tmp_path_factory: pytest.TempPathFactory, tls_dir: Path) -> Iterator[EmulatorProcess]:
    proc = EmulatorProcess("emulators.jira", tmp_path_factory.mktemp("jira-dc-data"), tls_dir=tls_dir,
                           extra_args=["--mode", "datacenter"])
    with proc:
        yield proc
        proc.session.close()


@pytest.fixture
def jira_dc(jira_dc_process: EmulatorProcess) -> EmulatorProcess:
    _clean(jira_dc_process)
    return jira_dc_process


@pytest.fixture
def rest_dc(jira_dc: EmulatorProcess) -> Iterator[JiraRest]:
    yield from _closing(JiraRest(jira_dc.url, jira_dc.ca_bundle, version=2, auth=DC_BASIC))
