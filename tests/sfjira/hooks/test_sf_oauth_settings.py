"""Reading OAuth settings from a Salesforce connection, and building grant bodies: no server."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sfjira.exceptions import AuthError
from sfjira.hooks.salesforce_oauth import JWT_GRANT_TYPE, OAuthSettings

INSTANCE = "https://acme.my.salesforce.com"


@pytest.fixture(scope="module")
def rsa_pem() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def test_client_credentials_from_extras_and_default_token_url() -> None:
    s = OAuthSettings.from_connection(None, None, {"instance_url": INSTANCE, "client_id": "cid", "client_secret": "cs"})
    assert s.grant_type == "client_credentials"
    assert s.token_url == f"{INSTANCE}/services/oauth2/token"
    assert s.form() == {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "cs"}


def test_client_credentials_from_login_password() -> None:
    s = OAuthSettings.from_connection("cid", "cs", {"grant_type": "client_credentials", "instance_url": INSTANCE})
    assert (s.client_id, s.client_secret) == ("cid", "cs")


def test_password_grant_appends_security_token_and_uses_prefixed_extras() -> None:
    s = OAuthSettings.from_connection("u@x", "pw", {"extra__salesforce__client_id": "cid", "security_token": "TOK",
                                                    "domain": "test"})
    assert s.grant_type == "password"
    assert s.token_url == "https://test.salesforce.com/services/oauth2/token"
    assert s.form()["password"] == "pwTOK"


def test_refresh_token_grant_prefers_rotated_token() -> None:
    s = OAuthSettings.from_connection(None, None, {"instance_url": INSTANCE, "client_id": "cid",
                                                   "refresh_token": "r1"})
    assert s.grant_type == "refresh_token"
    assert s.form()["refresh_token"] == "r1"
    assert s.form("r2")["refresh_token"] == "r2"
    assert "client_secret" not in s.form()


def test_jwt_assertion_claims(rsa_pem: tuple[str, str], tmp_path: Path) -> None:
    private, public = rsa_pem
    key_file = tmp_path / "key.pem"
    key_file.write_text(private)
    s = OAuthSettings.from_connection("sync@x", None, {"token_url": "https://127.0.0.1:8443/services/oauth2/token",
                                                        "consumer_key": "ck", "private_key_file_path": str(key_file)})
    assert s.grant_type == "jwt_bearer"
    form = s.form()
    assert form["grant_type"] == JWT_GRANT_TYPE
    claims = jwt.decode(form["assertion"], public, algorithms=["RS256"], audience="https://127.0.0.1:8443")
    assert (claims["iss"], claims["sub"]) == ("ck", "sync@x")


def test_jwt_audience_override(rsa_pem: tuple[str, str]) -> None:
    private, public = rsa_pem
    s = OAuthSettings.from_connection("u", None, {"instance_url": INSTANCE, "consumer_key": "ck", "private_key": private,
                                                  "audience": "https://login.salesforce.com"})
    claims = jwt.decode(s.jwt_assertion(), public, algorithms=["RS256"], audience="https://login.salesforce.com")
    assert 0 < claims["exp"] - time.time() <= 180  # Salesforce refuses longer-lived assertions


def test_unknown_grant_names_allowed_values() -> None:
    with pytest.raises(AuthError, match="client_credentials, jwt_bearer, refresh_token, password"):
        OAuthSettings.from_connection("u", "p", {"grant_type": "magic", "instance_url": INSTANCE})


def test_missing_fields_are_named() -> None:
    with pytest.raises(AuthError, match="private_key or private_key_file_path") as err:
        OAuthSettings.from_connection("u", None, {"grant_type": "jwt_bearer", "consumer_key": "ck",
                                                  "instance_url": INSTANCE})
    assert err.value.code == "AUTH_CONFIG"


def test_secrets_not_in_repr(rsa_pem: tuple[str, str]) -> None:
    s = OAuthSettings.from_connection("u", "hunter2", {"instance_url": INSTANCE, "client_id": "cid",
                                                       "client_secret": "s3cr3t", "refresh_token": "rt-123"})
    assert not {"hunter2", "s3cr3t", "rt-123"} & set(repr(s).replace("'", " ").split())
    assert "s3cr3t" not in repr(s) and "rt-123" not in repr(s) and "hunter2" not in repr(s)
