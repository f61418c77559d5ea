"""Persistence: a dedicated emulator process (with an extra schema file) restarted on the same data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from emulators.common.process import EmulatorProcess
from emulators.salesforce import defaults
from emulators.salesforce.testing import access_token, jwt_assertion, token_response

EXTRA_SCHEMA = """
objects:
  Case:
    fields:
      Region__c: {type: picklist, restricted: true, values: [EMEA, AMER, APAC], label: Region}
"""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory, tls_dir: Path) -> Iterator[EmulatorProcess]:
    extra = tmp_path_factory.mktemp("schema") / "extra.yaml"
    extra.write_text(EXTRA_SCHEMA)
    proc = EmulatorProcess("emulators.salesforce", tmp_path_factory.mktemp("sf-persist"), tls_dir=tls_dir,
                           extra_args=["--schema-extra", str(extra)])
    with proc:
        yield proc


def call(emulator: EmulatorProcess, token: str, method: str, path: str, **kwargs: object) -> requests.Response:
    return requests.request(method, f"{emulator.url}/services/data/v62.0{path}", verify=emulator.ca_bundle,
                            headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs)  # type: ignore[arg-type]


def test_everything_survives_a_restart(emulator: EmulatorProcess) -> None:
    emulator.seed(seed=9, accounts=20)
    token = access_token(emulator.url, emulator.ca_bundle)
    case = call(emulator, token, "POST", "/sobjects/Case/", json={"Subject": "über", "Region__c": "EMEA"}).json()["id"]
    gone = call(emulator, token, "POST", "/sobjects/Case/", json={"Subject": "bye"}).json()["id"]
    assert call(emulator, token, "DELETE", f"/sobjects/Case/{gone}").status_code == 204
    emulator.configure(token_ttl_s=4321, api_daily_max=50_000)
    soql = {"q": "SELECT Id, Subject, Region__c, SystemModstamp, Account.Name FROM Case ORDER BY Id"}
    before = call(emulator, token, "GET", "/queryAll/", params=soql).json()
    refresh = token_response(emulator.url, emulator.ca_bundle, "password").json()["refresh_token"]
    jwt_key = (emulator.data_dir / defaults.JWT_PRIVATE_KEY_FILE).read_bytes()

    emulator.restart()

    assert call(emulator, token, "GET", "/queryAll/", params=soql).json() == before  # same token still valid
    assert emulator.configure()["token_ttl_s"] == 4321
    assert call(emulator, token, "GET", f"/sobjects/Case/{case}").json()["Region__c"] == "EMEA"
    assert call(emulator, token, "GET", f"/sobjects/Case/{gone}").status_code == 404
    # new ids continue after the old ones and new stamps after the old stamps
    new = call(emulator, token, "POST", "/sobjects/Case/", json={"Subject": "later", "Region__c": "APAC"}).json()["id"]
    assert new > max(r["Id"] for r in before["records"])
    stamp = call(emulator, token, "GET", f"/sobjects/Case/{new}").json()["SystemModstamp"]
    assert stamp > max(r["SystemModstamp"] for r in before["records"])
    # the extra schema file still applies, and so do the OAuth secrets kept in the data dir
    refused = call(emulator, token, "PATCH", f"/sobjects/Case/{new}", json={"Region__c": "Mars"})
    assert refused.json()[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert token_response(emulator.url, emulator.ca_bundle, "refresh_token", refresh_token=refresh).status_code == 200
    assert (emulator.data_dir / defaults.JWT_PRIVATE_KEY_FILE).read_bytes() == jwt_key
    status = token_response(emulator.url, emulator.ca_bundle, "urn:ietf:params:oauth:grant-type:jwt-bearer",
                            assertion=jwt_assertion(jwt_key), client_id=None, client_secret=None).status_code
    assert status == 200
