"""Small helpers for tests, the demo and benchmarks that talk to the emulator over HTTPS.

Everything here goes through the public API (OAuth token endpoint); nothing reaches into the emulator.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import requests

from emulators.salesforce import defaults


def token_response(url: str, ca_bundle: str | Path, grant_type: str = "client_credentials",
                   **form: str) -> requests.Response:
    """POST /services/oauth2/token with the default client credentials (overridable via `form`)."""
    body = {"grant_type": grant_type, "client_id": defaults.CLIENT_ID, "client_secret": defaults.CLIENT_SECRET}
    if grant_type == "password":
        body.update(username=defaults.USERNAME, password=defaults.PASSWORD)
    body.update(form)
    body = {k: v for k, v in body.items() if v is not None}
    # verify= per request: REQUESTS_CA_BUNDLE from the environment would beat a session-level setting.
    return requests.post(f"{url}/services/oauth2/token", data=body, verify=str(ca_bundle), timeout=30)


def access_token(url: str, ca_bundle: str | Path) -> str:
    """A fresh access token for the integration user (client_credentials grant)."""
    response = token_response(url, ca_bundle)
    response.raise_for_status()
    return str(response.json()["access_token"])


def jwt_assertion(private_key_pem: bytes | str | Path, *, iss: str = defaults.CLIENT_ID,
                  sub: str = defaults.USERNAME, aud: str = defaults.JWT_AUDIENCES[0], expires_in_s: float = 300,
                  **claims: Any) -> str:
    """An RS256 JWT bearer assertion; pass the emulator's DATA_DIR/jwt_private_key.pem to be accepted."""
    key = Path(private_key_pem).read_bytes() if isinstance(private_key_pem, Path) else private_key_pem
    payload = {"iss": iss, "sub": sub, "aud": aud, "exp": int(time.time() + expires_in_s), **claims}
    return jwt.encode(payload, key, algorithm="RS256")
