"""An HTTPS adapter that enforces the CA bundle configured on the connection.

requests lets the REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE environment variables win over
`Session.verify` (Session.merge_environment_settings), so a session-level setting is silently
ignored on hosts that export them. The adapter sits below that merge: whatever `verify` arrives,
it sends with the configured one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from sfjira.exceptions import SfJiraError


def resolve_verify(ca_bundle: str | None = None, verify: Any = None) -> str | bool:
    """The TLS verification to pin: the `ca_bundle` path, else a `verify` path or boolean, else True.

    `verify` follows the provider's Jira extra (a boolean, or "true"/"false" from the UI, or a path).
    """
    if ca_bundle:
        return _existing(str(ca_bundle), "ca_bundle")
    if isinstance(verify, str):
        lowered = verify.strip().lower()
        if lowered in ("", "true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        return _existing(verify, "verify")
    return True if verify is None else bool(verify)


def _existing(path: str, extra: str) -> str:
    if not Path(path).is_file():
        raise SfJiraError(
            f"connection extra `{extra}` points to {path}, which is not a readable file",
            code="CA_BUNDLE_MISSING",
            fix="set it to the PEM file of the CA that signed the server certificate, or remove it "
                "to use the system trust store",
        )
    return path


class PinnedCAAdapter(HTTPAdapter):
    """Sends every request with `verify` fixed to the configured bundle (or boolean)."""

    def __init__(self, verify: str | bool, **kwargs: Any) -> None:
        self.pinned_verify = verify
        super().__init__(**kwargs)

    def send(self, request: PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> Response:
        return super().send(request, stream=stream, timeout=timeout, verify=self.pinned_verify,
                            cert=cert, proxies=proxies)
