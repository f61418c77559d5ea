"""OAuth 2.0 at /services/oauth2/token: password, client_credentials, JWT bearer and refresh_token (rotated).

Tokens are stored only as SHA-256 hashes (the process also remembers, in memory only, which tokens it
issued, for GET /__emulator/credentials). Access tokens expire after `token_ttl_s` of wall-clock time
(time travel moves record dates, not sessions). A refresh token works once: using it returns a new one.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from starlette.requests import Request
from starlette.responses import Response

from emulators.common.files import PRIVATE_FILE, write_private
from emulators.salesforce import defaults
from emulators.salesforce.errors import json_response
from emulators.salesforce.org import Org

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_NEVER = 2**62


class OAuthError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


@dataclass
class TokenRow:
    kind: str  # access | refresh
    user_id: str
    client_id: str
    expires_ms: int
    used: bool


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, org: Org) -> None:
        self.db = org.store.db
        self.rows = {h: TokenRow(k, u, c, e, bool(used)) for h, k, u, c, e, used in
                     self.db.execute("SELECT hash, kind, user_id, client_id, expires_ms, used FROM tokens")}
        self.issued: list[tuple[str, str]] = []  # (kind, token) since this process started; never cleared

    def issue(self, kind: str, user_id: str, client_id: str, ttl_s: float | None) -> str:
        token = f"{defaults.ORG_ID[:15]}!{secrets.token_urlsafe(48)}" if kind == "access" else \
            secrets.token_urlsafe(64)
        expires = int(time.time() * 1000 + ttl_s * 1000) if ttl_s is not None else _NEVER
        row = TokenRow(kind, user_id, client_id, expires, False)
        with self.db:
            self.db.execute("INSERT INTO tokens (hash, kind, user_id, client_id, expires_ms, used) VALUES (?,?,?,?,?,0)",
                            (_hash(token), kind, user_id, client_id, expires))
        self.rows[_hash(token)] = row
        self.issued.append((kind, token))
        return token

    def access_user(self, token: str) -> str | None:
        row = self.rows.get(_hash(token))
        if row is None or row.kind != "access" or row.used or row.expires_ms <= time.time() * 1000:
            return None
        return row.user_id

    def consume_refresh(self, token: str) -> TokenRow | None:
        row = self.rows.get(_hash(token))
        if row is None or row.kind != "refresh" or row.used:
            return None
        self.revoke(token)
        return row

    def revoke(self, token: str) -> None:
        row = self.rows.get(_hash(token))
        if row is not None:
            row.used = True
            with self.db:
                self.db.execute("UPDATE tokens SET used = 1 WHERE hash = ?", (_hash(token),))

    def clear(self) -> None:
        with self.db:
            self.db.execute("DELETE FROM tokens")
        self.rows.clear()


def ensure_jwt_keys(data_dir: Path) -> Path:
    """An RSA key and a self-signed certificate for the JWT bearer flow; the certificate is the one the
    "connected app" trusts. The private key is written for tests and the demo to sign assertions with."""
    key_file, cert_file = data_dir / defaults.JWT_PRIVATE_KEY_FILE, data_dir / defaults.JWT_CERT_FILE
    if key_file.exists() and cert_file.exists():
        key_file.chmod(PRIVATE_FILE)  # written by an older version with the default mode
        return cert_file
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sfjira JWT bearer")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(dt.datetime(2099, 1, 1, tzinfo=dt.UTC)).sign(key, hashes.SHA256()))
    write_private(key_file, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_file


class OAuthServer:
    def __init__(self, org: Org, tokens: TokenStore, cert_file: Path) -> None:
        self.org = org
        self.tokens = tokens
        self.cert_file = cert_file

    async def token(self, request: Request) -> Response:
        form = await request.form()
        params: dict[str, Any] = {**request.query_params, **{k: v for k, v in form.items() if isinstance(v, str)}}
        try:
            client_id, client_secret = _client_auth(request, params)
            grant = params.get("grant_type", "")
            if grant == "password":
                body = self._password(client_id, client_secret, params)
            elif grant == "client_credentials":
                body = self._client_credentials(client_id, client_secret)
            elif grant == JWT_GRANT:
                body = self._jwt(params.get("assertion", ""))
            elif grant == "refresh_token":
                body = self._refresh(client_id, client_secret, params.get("refresh_token", ""))
            else:
                raise OAuthError("unsupported_grant_type", "grant type not supported")
        except OAuthError as exc:
            return json_response({"error": exc.error, "error_description": exc.description}, 400,
                                 headers={"Cache-Control": "no-store"})
        return json_response(body, headers={"Cache-Control": "no-store"})

    async def revoke(self, request: Request) -> Response:
        form = await request.form()
        token = form.get("token") or request.query_params.get("token")
        if isinstance(token, str):
            self.tokens.revoke(token)
        return Response(status_code=200)

    # -- grants ----------------------------------------------------------------------------------
    def _password(self, client_id: str, client_secret: str | None, params: dict[str, Any]) -> dict[str, Any]:
        _check_client(client_id, client_secret, secret_required=True)
        user = self.org.user_by_username(params.get("username", ""))
        if user is None or not user.get("IsActive") or params.get("password") != defaults.PASSWORD:
            raise OAuthError("invalid_grant", "authentication failure")
        return self._grant(user["Id"], client_id, "api refresh_token", with_refresh=True)

    def _client_credentials(self, client_id: str, client_secret: str | None) -> dict[str, Any]:
        _check_client(client_id, client_secret, secret_required=True)
        user = self.org.user_by_username(self.org.config["run_as_username"])
        if user is None:
            raise OAuthError("invalid_grant", "no client credentials user enabled")
        return self._grant(user["Id"], client_id, "api", with_refresh=False)

    def _jwt(self, assertion: str) -> dict[str, Any]:
        try:
            claims = self._verified_claims(assertion)
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        if claims.get("iss") != defaults.CLIENT_ID:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        allowed = {a.rstrip("/") for a in [*self.org.config["jwt_audiences"], self.org.base_url]}
        if not any(isinstance(a, str) and a.rstrip("/") in allowed for a in audiences):
            raise OAuthError("invalid_grant", "audience is invalid")
        try:
            expired = float(claims["exp"]) <= time.time()
        except (KeyError, TypeError, ValueError):
            expired = True
        if expired:
            raise OAuthError("invalid_grant", "expired authorization code")
        user = self.org.user_by_username(str(claims.get("sub", "")))
        if user is None or not user.get("IsActive"):
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        return self._grant(user["Id"], defaults.CLIENT_ID, "api", with_refresh=False)

    def _verified_claims(self, assertion: str) -> dict[str, Any]:
        # Checks only the RS256 signature here; Salesforce's own claim checks follow with its messages.
        options = {"verify_aud": False, "verify_exp": False, "verify_iat": False, "verify_nbf": False,
                   "verify_iss": False, "verify_sub": False}
        last: jwt.PyJWTError = jwt.InvalidSignatureError("no certificate")
        for pem in self._certificates():
            key = x509.load_pem_x509_certificate(pem).public_key()
            try:
                return jwt.decode(assertion, key=key, algorithms=["RS256"], options=options)  # type: ignore[arg-type]
            except jwt.PyJWTError as exc:
                last = exc
        raise last

    def _certificates(self) -> list[bytes]:
        extra = self.org.config.get("jwt_cert_pem")
        return [self.cert_file.read_bytes(), *([extra.encode()] if extra else [])]

    def _refresh(self, client_id: str, client_secret: str | None, refresh_token: str) -> dict[str, Any]:
        _check_client(client_id, client_secret, secret_required=False)
        row = self.tokens.consume_refresh(refresh_token)
        if row is None:
            raise OAuthError("invalid_grant", "expired access/refresh token")
        return self._grant(row.user_id, client_id, "api refresh_token", with_refresh=True)

    def _grant(self, user_id: str, client_id: str, scope: str, with_refresh: bool) -> dict[str, Any]:
        issued_at = str(int(time.time() * 1000))
        identity = f"{self.org.base_url}/id/{defaults.ORG_ID}/{user_id}"
        signature = base64.b64encode(hmac.new(defaults.CLIENT_SECRET.encode(), (identity + issued_at).encode(),
                                              hashlib.sha256).digest()).decode()
        body: dict[str, Any] = {
            "access_token": self.tokens.issue("access", user_id, client_id, self.org.config["token_ttl_s"]),
            "signature": signature, "scope": scope, "instance_url": self.org.base_url, "id": identity,
            "token_type": "Bearer", "issued_at": issued_at,
        }
        if with_refresh:
            body["refresh_token"] = self.tokens.issue("refresh", user_id, client_id, None)
        return body


def _client_auth(request: Request, params: dict[str, Any]) -> tuple[str, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "invalid client credentials") from None
        return client_id, secret
    return params.get("client_id", ""), params.get("client_secret")


def _check_client(client_id: str, client_secret: str | None, secret_required: bool) -> None:
    if client_id != defaults.CLIENT_ID:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if (secret_required or client_secret is not None) and client_secret != defaults.CLIENT_SECRET:
        raise OAuthError("invalid_client", "invalid client credentials")
