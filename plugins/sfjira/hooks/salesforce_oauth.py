"""OAuth 2.0 against the token URL of a Salesforce connection.

simple_salesforce's own login always goes to https://<domain>.salesforce.com, so a My Domain,
a sandbox behind a proxy, or a local emulator cannot be reached with it. We get the token here and
hand `session_id` + `instance_url` to simple_salesforce.

Connection fields (conn type `salesforce`; extras may also carry the provider's `extra__salesforce__`
prefix):

| grant_type (extra)  | needs                                                                    |
|---------------------|--------------------------------------------------------------------------|
| client_credentials  | client_id + client_secret (extras; else login + password)                |
| jwt_bearer          | consumer_key (or client_id), private_key or private_key_file_path,       |
|                     | login = the user (JWT `sub`); optional audience (default: token host)    |
| refresh_token       | refresh_token, client_id, optional client_secret                         |
| password            | login, password (+ extra security_token), client_id, client_secret       |

`token_url` (extra) defaults to `<instance_url>/services/oauth2/token`, else
`https://<domain or login>.salesforce.com/services/oauth2/token`. Without `grant_type` the grant is
inferred in the order of the table's rows below: refresh_token, jwt_bearer, password, client_credentials.
Whether a URL may be used (https, or loopback http when allowed) is the hook's transport policy
(`sfjira.http.transport`), checked before any request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests

from sfjira.exceptions import AuthError
from sfjira.http.retry import transport_transient

GRANTS = ("client_credentials", "jwt_bearer", "refresh_token", "password")
JWT_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_S = 180  # Salesforce rejects assertions valid for more than 3 minutes

_FIXES = {
    "client_credentials": "check client_id/client_secret and that the connected app enables the client "
                          "credentials flow with a 'Run As' user",
    "jwt_bearer": "check consumer_key, that the certificate of private_key is uploaded to the connected app, "
                  "that the user in login is pre-authorized for the app, and the audience",
    "refresh_token": "the refresh token was revoked or expired: authorize the connected app again and store "
                     "the new refresh_token in the connection",
    "password": "check login, password + security_token, and that the connected app allows the username-"
                "password flow (or switch to jwt_bearer or client_credentials)",
}


def extra(extras: dict[str, Any], name: str) -> Any:
    """An extra by its short name, else by the provider's legacy prefixed name; blank means absent."""
    value = extras.get(name)
    if value in (None, ""):
        value = extras.get(f"extra__salesforce__{name}")
    return None if value in (None, "") else value


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    instance_url: str
    refresh_token: str | None = field(default=None, repr=False)
    issued_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class OAuthSettings:
    """What a grant needs, read once from the connection. Secrets are kept out of repr."""

    grant_type: str
    token_url: str
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    private_key_file: str | None = None
    audience: str | None = None
    refresh_token: str | None = field(default=None, repr=False)
    instance_url: str | None = None

    @classmethod
    def from_connection(cls, login: str | None, password: str | None, extras: dict[str, Any],
                        host: str | None = None) -> OAuthSettings:
        instance_url = _instance_url(extra(extras, "instance_url") or host, extra(extras, "instance"))
        domain = extra(extras, "domain") or "login"
        token_url = extra(extras, "token_url") or (
            f"{instance_url}/services/oauth2/token" if instance_url
            else f"https://{domain}.salesforce.com/services/oauth2/token")
        client_id = extra(extras, "client_id") or extra(extras, "consumer_key")
        client_secret = extra(extras, "client_secret") or extra(extras, "consumer_secret")
        private_key = extra(extras, "private_key")
        private_key_file = extra(extras, "private_key_file_path")
        refresh_token = extra(extras, "refresh_token")
        security_token = extra(extras, "security_token") or ""
        grant = extra(extras, "grant_type") or _infer_grant(login, password, client_id, private_key or
                                                             private_key_file, refresh_token)
        if grant not in GRANTS:
            raise AuthError(f"connection extra grant_type={grant!r} is not supported",
                            code="AUTH_CONFIG", fix=f"use one of: {', '.join(GRANTS)}")
        settings = cls(
            grant_type=grant, token_url=token_url, client_id=client_id, client_secret=client_secret,
            username=login, password=(password + security_token) if password else None,
            private_key=private_key, private_key_file=private_key_file,
            audience=extra(extras, "audience"), refresh_token=refresh_token, instance_url=instance_url,
        )
        if grant == "client_credentials" and not (client_id and client_secret):
            # The connection form's login/password double as client id/secret for this grant.
            settings = cls(**{**settings.__dict__, "client_id": client_id or login,
                              "client_secret": client_secret or password})
        settings.validate()
        return settings

    def validate(self) -> None:
        required = {
            "client_credentials": {"client_id": self.client_id, "client_secret": self.client_secret},
            "jwt_bearer": {"consumer_key": self.client_id, "login": self.username,
                           "private_key or private_key_file_path": self.private_key or self.private_key_file},
            "refresh_token": {"refresh_token": self.refresh_token, "client_id": self.client_id},
            "password": {"login": self.username, "password": self.password, "client_id": self.client_id},
        }[self.grant_type]
        missing = [name for name, value in required.items() if not value]
        if missing:
            raise AuthError(f"Salesforce grant {self.grant_type} needs {', '.join(missing)}", code="AUTH_CONFIG",
                            fix=f"set {', '.join(missing)} on the connection (see sfjira.hooks.salesforce_oauth)")

    def form(self, refresh_token: str | None = None) -> dict[str, str]:
        """The token request body for this grant. `refresh_token` overrides a rotated one."""
        if self.grant_type == "client_credentials":
            return {"grant_type": "client_credentials", "client_id": self.client_id or "",
                    "client_secret": self.client_secret or ""}
        if self.grant_type == "jwt_bearer":
            return {"grant_type": JWT_GRANT_TYPE, "assertion": self.jwt_assertion()}
        if self.grant_type == "refresh_token":
            body = {"grant_type": "refresh_token", "client_id": self.client_id or "",
                    "refresh_token": refresh_token or self.refresh_token or ""}
            if self.client_secret:
                body["client_secret"] = self.client_secret
            return body
        body = {"grant_type": "password", "client_id": self.client_id or "", "username": self.username or "",
                "password": self.password or ""}
        if self.client_secret:
            body["client_secret"] = self.client_secret
        return body

    def jwt_assertion(self, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {"iss": self.client_id, "sub": self.username, "aud": self.audience or _origin(self.token_url),
                  "exp": issued + JWT_LIFETIME_S}
        return jwt.encode(claims, self._private_key(), algorithm="RS256")

    def _private_key(self) -> str:
        if self.private_key:
            return self.private_key
        path = Path(str(self.private_key_file))
        try:
            return path.read_text()
        except OSError as exc:
            raise AuthError(f"cannot read private_key_file_path {path}: {exc.strerror}", code="AUTH_CONFIG",
                            fix="point private_key_file_path at the PEM private key readable by the worker") from None


def _infer_grant(login: str | None, password: str | None, client_id: str | None, key: str | None,
                 refresh_token: str | None) -> str:
    if refresh_token:
        return "refresh_token"
    if key:
        return "jwt_bearer"
    if login and password and client_id:
        return "password"
    return "client_credentials"


def _post_grant(session: requests.Session, settings: OAuthSettings, refresh_token: str | None,
                sleep: Callable[[float], None]) -> requests.Response:
    policy = getattr(session, "policy", None)
    for attempt in range(1, GRANT_TRIES + 1):
        try:
            response = session.post(settings.token_url, data=settings.form(refresh_token),
                                    headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            transient = transport_transient(exc)
            if not transient or attempt == GRANT_TRIES:
                raise AuthError(f"Salesforce {settings.grant_type} grant at {settings.token_url} failed: "
                                f"{type(exc).__name__}", code="CONNECTION_FAILED", transient=transient,
                                fix="check that the token URL is reachable and the CA bundle is right") from exc
        else:
            if response.status_code not in _GRANT_RESEND or attempt == GRANT_TRIES:
                return response
            response.close()
        sleep(policy.backoff(attempt) if policy is not None else 0.5 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _instance_url(instance_url: str | None, instance: str | None) -> str | None:
    if instance_url:
        url = str(instance_url).rstrip("/")
        return url if "://" in url else f"https://{url}"
    return f"https://{instance}" if instance else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


GRANT_TRIES = 4
# A grant changes nothing in the org (a second token is as good as the first), so unlike other POSTs it is
# sent again after a server error or a dropped connection; 429/503 the session already resends itself.
_GRANT_RESEND = frozenset({500, 502, 504})


def request_token(session: requests.Session, settings: OAuthSettings, refresh_token: str | None = None, *,
                  sleep: Callable[[float], None] = time.sleep) -> Token:
    """POST the grant to the token URL; raise AuthError with the server's reason and a fix."""
    response = _post_grant(session, settings, refresh_token, sleep)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        raise AuthError(
            f"Salesforce {settings.grant_type} grant refused by {settings.token_url}: "
            f"HTTP {response.status_code} {reason or response.reason}",
            status=response.status_code, fix=_FIXES[settings.grant_type])
    instance_url = str(body.get("instance_url") or settings.instance_url or _origin(settings.token_url))
    return Token(access_token=body["access_token"], instance_url=instance_url.rstrip("/"),
                 refresh_token=body.get("refresh_token"))
