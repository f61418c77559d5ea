"""Bearer-token auth for requests that never shows the token in a repr or a log line."""

from __future__ import annotations

from requests import PreparedRequest
from requests.auth import AuthBase

from sfjira.exceptions import AuthError


class BearerAuth(AuthBase):
    """`Authorization: Bearer <token>` on every request (Jira PAT or OAuth 2.0 access token)."""

    def __init__(self, token: str) -> None:
        if not token:
            raise AuthError("empty bearer token", code="AUTH_CONFIG",
                            fix="put the token in the connection's password field")
        self._token = token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(<hidden>)"
