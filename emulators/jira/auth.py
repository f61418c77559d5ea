"""Who may call: the mode decides which credentials count (Cloud: Basic email:api_token or an OAuth
bearer token; Data Center: a personal access token as Bearer, or Basic username:password)."""

from __future__ import annotations

import base64
import binascii
import hmac

from emulators.jira.errors import JiraError
from emulators.jira.settings import Settings

NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def authenticated(header: str | None, settings: Settings) -> bool:
    scheme, _, credential = (header or "").partition(" ")
    creds = settings.credentials
    if scheme.lower() == "bearer":
        return _same(credential.strip(), creds.cloud_oauth_token if settings.cloud else creds.dc_pat)
    if scheme.lower() != "basic":
        return False
    try:
        user, _, secret = base64.b64decode(credential.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    if settings.cloud:
        return _same(user.lower(), creds.cloud_email.lower()) and _same(secret, creds.cloud_api_token)
    return _same(user, creds.dc_username) and _same(secret, creds.dc_password)


def unauthorized(settings: Settings) -> JiraError:
    headers = {"WWW-Authenticate": 'Basic realm="protected-area"' if settings.cloud else 'OAuth realm="Jira"'}
    if not settings.cloud:
        headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
    return JiraError(401, [NOT_AUTHENTICATED], headers=headers)
