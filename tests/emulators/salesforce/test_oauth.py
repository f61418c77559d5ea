"""OAuth 2.0 grants at /services/oauth2/token, token expiry and the INVALID_SESSION_ID shape."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from emulators.common.process import EmulatorProcess
from emulators.salesforce import defaults
from emulators.salesforce.testing import jwt_assertion, token_response
from tests.emulators.salesforce.conftest import Rest

SUCCESS_KEYS = {"access_token", "instance_url", "id", "token_type", "issued_at", "signature", "scope"}
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID", "fields": []}]


def works(sf: Rest, token: str) -> bool:
    return sf("GET", "/limits/", token=token).status_code == 200


def test_client_credentials_by_form_and_by_basic_header(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    response = token_response(sf_emulator.url, sf_emulator.ca_bundle)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == SUCCESS_KEYS  # no refresh token from this grant
    assert body["instance_url"] == sf_emulator.url and body["token_type"] == "Bearer"
    assert body["id"].endswith(f"/id/{defaults.ORG_ID}/{defaults.INTEGRATION_USER_ID}")
    assert works(sf, body["access_token"])

    basic = base64.b64encode(f"{defaults.CLIENT_ID}:{defaults.CLIENT_SECRET}".encode()).decode()
    response = sf.session.post(f"{sf_emulator.url}/services/oauth2/token", data={"grant_type": "client_credentials"},
                               headers={"Authorization": f"Basic {basic}"}, verify=sf_emulator.ca_bundle)
    assert response.status_code == 200 and works(sf, response.json()["access_token"])


@pytest.mark.parametrize(("form", "error", "description"), [
    ({"client_secret": "wrong"}, "invalid_client", "invalid client credentials"),
    ({"client_id": "someone-else"}, "invalid_client_id", "client identifier invalid"),
    ({"grant_type": "authorization_code"}, "unsupported_grant_type", "grant type not supported"),
    ({"grant_type": ""}, "unsupported_grant_type", "grant type not supported"),
])
def test_client_errors(sf_emulator: EmulatorProcess, form: dict[str, str], error: str, description: str) -> None:
    response = token_response(sf_emulator.url, sf_emulator.ca_bundle, **form)
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_password_grant_and_refresh_token_rotation(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    first = token_response(sf_emulator.url, sf_emulator.ca_bundle, "password").json()
    assert SUCCESS_KEYS | {"refresh_token"} == set(first) and works(sf, first["access_token"])

    second = token_response(sf_emulator.url, sf_emulator.ca_bundle, "refresh_token",
                            refresh_token=first["refresh_token"], client_secret=None).json()
    assert {"access_token", "refresh_token"} <= set(second)
    assert second["refresh_token"] != first["refresh_token"] and works(sf, second["access_token"])

    reused = token_response(sf_emulator.url, sf_emulator.ca_bundle, "refresh_token",
                            refresh_token=first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    third = token_response(sf_emulator.url, sf_emulator.ca_bundle, "refresh_token",
                           refresh_token=second["refresh_token"])
    assert third.status_code == 200


def test_password_grant_rejects_a_wrong_password(sf_emulator: EmulatorProcess) -> None:
    response = token_response(sf_emulator.url, sf_emulator.ca_bundle, "password", password="guess")
    assert (response.status_code, response.json()) == (
        400, {"error": "invalid_grant", "error_description": "authentication failure"})


def jwt_grant(sf_emulator: EmulatorProcess, assertion: str) -> tuple[int, dict[str, str]]:
    response = token_response(sf_emulator.url, sf_emulator.ca_bundle, "urn:ietf:params:oauth:grant-type:jwt-bearer",
                              assertion=assertion, client_id=None, client_secret=None)
    return response.status_code, response.json()


def test_jwt_bearer_with_the_configured_certificate(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    key = sf_emulator.data_dir / defaults.JWT_PRIVATE_KEY_FILE
    status, body = jwt_grant(sf_emulator, jwt_assertion(key))
    assert status == 200 and set(body) == SUCCESS_KEYS and works(sf, body["access_token"])
    # simple_salesforce sends exp as a string and the instance's own URL is a valid audience too
    status, _ = jwt_grant(sf_emulator, jwt_assertion(key, aud=sf_emulator.url, exp=str(int(time.time()) + 60)))
    assert status == 200


def test_jwt_bearer_signed_with_another_key_is_refused(sf_emulator: EmulatorProcess) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    assert jwt_grant(sf_emulator, jwt_assertion(other)) == (
        400, {"error": "invalid_grant", "error_description": "invalid assertion"})
    assert jwt_grant(sf_emulator, "not.a.jwt")[1]["error_description"] == "invalid assertion"


@pytest.mark.parametrize(("claims", "error", "description"), [
    ({"iss": "another-app"}, "invalid_client_id", "client identifier invalid"),
    ({"aud": "https://evil.example.com"}, "invalid_grant", "audience is invalid"),
    ({"expires_in_s": -5}, "invalid_grant", "expired authorization code"),
    ({"sub": "nobody@example.com"}, "invalid_grant", "user hasn't approved this consumer"),
])
def test_jwt_bearer_claim_checks(sf_emulator: EmulatorProcess, claims: dict[str, object], error: str,
                                 description: str) -> None:
    assertion = jwt_assertion(sf_emulator.data_dir / defaults.JWT_PRIVATE_KEY_FILE, **claims)  # type: ignore[arg-type]
    assert jwt_grant(sf_emulator, assertion) == (400, {"error": error, "error_description": description})


def test_unknown_or_expired_token_is_invalid_session(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    response = sf("GET", "/sobjects/", token="00Dxx!made-up")
    assert (response.status_code, response.json()) == (401, INVALID_SESSION)
    assert sf("GET", "/sobjects/", headers={"Authorization": ""}).status_code == 401
    assert sf("GET", "/sobjects/").status_code == 200

    sf_emulator.configure(token_ttl_s=0.3)
    short = token_response(sf_emulator.url, sf_emulator.ca_bundle).json()["access_token"]
    assert works(sf, short)
    time.sleep(0.4)
    response = sf("GET", "/query/", token=short, params={"q": "SELECT Id FROM Account"})
    assert (response.status_code, response.json()) == (401, INVALID_SESSION)


def test_revoked_token_stops_working(sf: Rest, sf_emulator: EmulatorProcess) -> None:
    token = token_response(sf_emulator.url, sf_emulator.ca_bundle).json()["access_token"]
    assert works(sf, token)
    sf.session.post(f"{sf_emulator.url}/services/oauth2/revoke", data={"token": token}, verify=sf_emulator.ca_bundle)
    assert not works(sf, token)
