"""No secret reaches a log line, stdout/stderr or an error message during auth, re-auth and queries.

Every logger is turned up to DEBUG (urllib3, simple_salesforce, atlassian, Airflow, ours), so a
library that prints headers or bodies at debug level would be caught too.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator

import pytest

from emulators.common.process import EmulatorProcess
from emulators.jira import defaults as jira_defaults
from emulators.salesforce import defaults as sf_defaults
from emulators.salesforce.testing import token_response
from sfjira.exceptions import AuthError
from sfjira.hooks.jira import JiraSyncHook
from sfjira.hooks.salesforce import SalesforceSyncHook

pytestmark = pytest.mark.integration


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    names = ["", "urllib3", "requests", "simple_salesforce", "atlassian", "airflow", "sfjira"]
    previous = {n: logging.getLogger(n).level for n in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    yield caplog
    for name, level in previous.items():
        logging.getLogger(name).setLevel(level)


def _all_output(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    records = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    return "\n".join([caplog.text, records, captured.out, captured.err])


def test_salesforce_auth_reauth_and_query_log_no_secret(sf_emulator: EmulatorProcess, sf_conn, everything_logged,
                                                        capsys) -> None:  # noqa: ANN001
    sf_emulator.clear_faults()
    issued = token_response(sf_emulator.url, sf_emulator.ca_bundle, grant_type="password").json()["refresh_token"]
    password_hook = SalesforceSyncHook(sf_conn("password", conn_id="sf_secret_pw"))
    refresh_hook = SalesforceSyncHook(sf_conn("refresh_token", conn_id="sf_secret_rt", refresh_token=issued))
    jwt_hook = SalesforceSyncHook(sf_conn("jwt_bearer", conn_id="sf_secret_jwt"))
    tokens: list[str] = []
    for hook in (password_hook, refresh_hook, jwt_hook):
        assert list(hook.query_pages("SELECT Id FROM User LIMIT 1"))
        sf_emulator.set_faults([{"fault": "expired_session", "path": "/query", "times": 1}])
        assert list(hook.query_pages("SELECT Id FROM User LIMIT 1"))  # forces a second token
        sf_emulator.clear_faults()
        assert hook.calls["POST /services/oauth2/token"] == 2
        tokens += [hook._token.access_token, hook._token.refresh_token or ""]  # noqa: SLF001
    with pytest.raises(AuthError) as err:
        SalesforceSyncHook(sf_conn("password", conn_id="sf_secret_bad", password="Wr0ng-Passw0rd!")).describe("Case")
    private_key = (sf_emulator.data_dir / "jwt_private_key.pem").read_text().splitlines()[1]

    output = _all_output(everything_logged, capsys) + str(err.value)
    assert "authenticated with the password grant" in output  # the capture does see our log lines
    secrets = [sf_defaults.PASSWORD, sf_defaults.CLIENT_SECRET, issued, "Wr0ng-Passw0rd!", private_key, *filter(None, tokens)]
    leaked = sum(s in output for s in secrets)
    assert leaked == 0, "secrets found in logs/output"  # a count: the failure report must not print them
    assert "Bearer " not in output and "assertion=" not in output and "eyJ" not in output  # no JWT either


def test_jira_basic_pat_and_oauth_log_no_secret(jira_emulator: EmulatorProcess, jira_conn, everything_logged,
                                                capsys) -> None:  # noqa: ANN001
    for mode, auth in (("cloud", "basic"), ("cloud", "oauth"), ("datacenter", "pat")):
        hook = JiraSyncHook(jira_conn(mode, auth, conn_id=f"jira_secret_{auth}"))
        list(hook.search_pages("project = SUP ORDER BY key", ["summary"], page_size=5))
        assert hook.myself()
    d = jira_defaults
    basic = base64.b64encode(f"{d.CLOUD_EMAIL}:{d.CLOUD_API_TOKEN}".encode()).decode()
    output = _all_output(everything_logged, capsys)
    assert "/search" in output  # urllib3's debug lines were captured
    assert sum(s in output for s in (d.CLOUD_API_TOKEN, d.CLOUD_OAUTH_TOKEN, d.DC_PAT, basic)) == 0
    assert "Authorization" not in output
