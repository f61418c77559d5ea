"""The emulators are test tools: loopback unless a flag says otherwise, an admin surface locked by a
token, owner-only key and data files, and a list of every credential they accepted or issued."""

from __future__ import annotations

import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from emulators.common.process import EmulatorProcess
from emulators.jira import defaults as jira_defaults
from emulators.salesforce import defaults as sf_defaults
from emulators.salesforce.testing import access_token, token_response

REPO = Path(__file__).resolve().parents[2]
MODULES = ("emulators.salesforce", "emulators.jira")


def listening(proc: EmulatorProcess) -> set[str]:
    """The addresses the emulator's process really listens on (read from the OS, not from its output)."""
    assert proc.proc is not None
    conns = psutil.Process(proc.proc.pid).net_connections(kind="inet")
    return {c.laddr.ip for c in conns if c.status == psutil.CONN_LISTEN}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, EmulatorProcess]]:
    """Both emulators on new folders that start out world-readable (0755), as a user's folder might."""
    root = tmp_path_factory.mktemp("exposure")
    tls = root / "tls"
    for folder in (tls, root / "sf", root / "jira"):
        folder.mkdir(mode=0o755)
        folder.chmod(0o755)
    procs = {"salesforce": EmulatorProcess("emulators.salesforce", root / "sf", tls_dir=tls),
             "jira": EmulatorProcess("emulators.jira", root / "jira", tls_dir=tls)}
    for proc in procs.values():
        proc.start()
    try:
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


@pytest.mark.parametrize("name", ["salesforce", "jira"])
def test_binds_loopback_by_default(fresh: dict[str, EmulatorProcess], name: str) -> None:
    assert listening(fresh[name]) == {"127.0.0.1"}
    assert fresh[name].url.startswith("https://127.0.0.1:")


@pytest.mark.parametrize("module", MODULES)
def test_a_non_loopback_bind_needs_the_flag_and_an_admin_token(module: str, tmp_path: Path) -> None:
    base = [sys.executable, "-m", module, "--port", "0", "--data-dir", str(tmp_path), "--host", "0.0.0.0"]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    refused = subprocess.run(base, capture_output=True, text=True, timeout=60, cwd=REPO, env=env)
    assert refused.returncode == 2
    assert "not a loopback address" in refused.stderr and "--allow-non-loopback" in refused.stderr
    no_token = subprocess.run([*base, "--allow-non-loopback"], capture_output=True, text=True, timeout=60, cwd=REPO,
                              env=env)
    assert no_token.returncode == 2 and "needs --admin-token" in no_token.stderr
    assert not (tmp_path / "endpoint.json").exists()  # refused before it wrote or bound anything


def test_with_the_flag_and_a_token_it_binds_every_interface(tmp_path: Path) -> None:
    proc = EmulatorProcess("emulators.jira", tmp_path, extra_args=["--host", "0.0.0.0", "--allow-non-loopback"])
    with proc:
        assert listening(proc) == {"0.0.0.0"}
        assert proc.url.startswith("https://127.0.0.1:")  # the address to connect to, which the certificate names
        assert requests.get(f"{proc.url}/__emulator/health", verify=proc.ca_bundle, timeout=30).status_code == 401


@pytest.mark.parametrize("name", ["salesforce", "jira"])
@pytest.mark.parametrize("action", ["health", "calls", "credentials", "faults"])
def test_the_admin_surface_needs_the_token(fresh: dict[str, EmulatorProcess], name: str, action: str) -> None:
    proc = fresh[name]
    url = f"{proc.url}/__emulator/{action}"

    def status(headers: dict[str, str]) -> int:
        return requests.get(url, headers=headers, verify=proc.ca_bundle, timeout=30).status_code

    assert status({}) == 401
    assert status({"Authorization": "Bearer wrong"}) == 401
    assert status({"X-Emulator-Admin-Token": proc.admin_token[:-1]}) == 401
    assert status({"Authorization": f"Bearer {proc.admin_token}"}) == 200
    assert status({"X-Emulator-Admin-Token": proc.admin_token}) == 200


def test_an_unauthorized_admin_call_changes_nothing(fresh: dict[str, EmulatorProcess]) -> None:
    proc = fresh["salesforce"]
    proc.reset()
    headers = {"Authorization": f"Bearer {access_token(proc.url, proc.ca_bundle)}"}
    created = requests.post(f"{proc.url}/services/data/v62.0/sobjects/Account/", json={"Name": "Kept"},
                            headers=headers, verify=proc.ca_bundle, timeout=30)
    assert created.status_code == 201
    # An API session token is no admin token.
    denied = requests.post(f"{proc.url}/__emulator/reset", json={}, headers=headers, verify=proc.ca_bundle,
                           timeout=30)
    assert denied.status_code == 401
    found = requests.get(f"{proc.url}/services/data/v62.0/sobjects/Account/{created.json()['id']}",
                         headers=headers, verify=proc.ca_bundle, timeout=30)
    assert found.status_code == 200


@pytest.mark.parametrize("name, data_file", [("salesforce", "salesforce.sqlite3"), ("jira", "jira.sqlite3")])
def test_key_and_data_files_are_owner_only(fresh: dict[str, EmulatorProcess], name: str, data_file: str) -> None:
    proc = fresh[name]
    tls = Path(proc.ca_bundle).parent
    assert mode(tls) == 0o700 and mode(proc.data_dir) == 0o700
    assert mode(tls / "server.pem") == 0o600
    written = [p for p in proc.data_dir.iterdir() if p.is_file()]
    assert proc.data_dir / data_file in written
    if name == "salesforce":
        assert proc.data_dir / sf_defaults.JWT_PRIVATE_KEY_FILE in written
    assert {p.name: mode(p) for p in written} == {p.name: 0o600 for p in written}


def test_a_key_left_world_readable_by_an_older_version_is_tightened(tmp_path: Path) -> None:
    with EmulatorProcess("emulators.salesforce", tmp_path) as proc:
        key = proc.data_dir / sf_defaults.JWT_PRIVATE_KEY_FILE
    for path in (key, tmp_path / "server.pem"):
        path.chmod(0o644)
    tmp_path.chmod(0o755)
    with EmulatorProcess("emulators.salesforce", tmp_path):
        assert mode(key) == mode(tmp_path / "server.pem") == 0o600 and mode(tmp_path) == 0o700


def test_salesforce_lists_its_secrets_and_every_token_it_issued(fresh: dict[str, EmulatorProcess]) -> None:
    proc = fresh["salesforce"]
    grant = token_response(proc.url, proc.ca_bundle, grant_type="password").json()
    listed = {(s["kind"], s["value"]) for s in proc.credentials()}
    key = (proc.data_dir / sf_defaults.JWT_PRIVATE_KEY_FILE).read_text()
    assert {("client_secret", sf_defaults.CLIENT_SECRET), ("password", sf_defaults.PASSWORD),
            ("jwt_private_key", key), ("access_token", grant["access_token"]),
            ("refresh_token", grant["refresh_token"]), ("admin_token", proc.admin_token)} <= listed
    proc.admin("POST", "reset", {"tokens": True})  # revoked is not forgotten: a leaked token is still a leak
    assert ("refresh_token", grant["refresh_token"]) in {(s["kind"], s["value"]) for s in proc.credentials()}


def test_jira_lists_every_credential_it_accepted(fresh: dict[str, EmulatorProcess]) -> None:
    proc = fresh["jira"]
    proc.configure(credentials={"cloud_api_token": "rotated-token"})
    values = {s["value"] for s in proc.credentials()}
    assert {jira_defaults.CLOUD_API_TOKEN, "rotated-token", jira_defaults.CLOUD_OAUTH_TOKEN, jira_defaults.DC_PAT,
            jira_defaults.DC_PASSWORD, proc.admin_token} <= values
    assert "c3luYy1ib3RAZXhhbXBsZS5jb206amlyYS1hcGktdG9rZW4=" in values  # Basic sync-bot@example.com:jira-api-token
    proc.reset()
