"""Transport rules for every connection: TLS always, certificates always checked, two loud escape hatches.

- An `http://` URL (Jira host, Salesforce token_url / instance_url, the instance_url the token answer
  names, any request) is refused before a byte is sent, unless its host is loopback (127.0.0.0/8,
  ::1, localhost) AND the connection extra says `allow_insecure_http: true`. A redirect from https
  to http is never followed.
- `verify: false` is refused unless the connection extra says `allow_insecure_tls: true`; then every
  session opened on the connection logs a WARNING and run summaries list it under `insecure_tls`.

Extras are read by their short name or the provider's `extra__<conn type>__<name>` form.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from sfjira.exceptions import InsecureTransport, SfJiraError
from sfjira.http.tls import resolve_verify

log = logging.getLogger(__name__)

LOOPBACK = "loopback hosts (127.0.0.0/8, ::1, localhost)"
_TRUE = frozenset({"true", "1", "yes", "on"})


def connection_extra(extras: Mapping[str, Any], name: str) -> Any:
    """An extra by its short name, else by a provider's prefixed name (`extra__salesforce__verify`)."""
    if extras.get(name) not in (None, ""):
        return extras[name]
    prefixed = [v for k, v in extras.items() if k.startswith("extra__") and k.endswith(f"__{name}")]
    return next((v for v in prefixed if v not in (None, "")), None)


def flag(value: Any) -> bool:
    """A yes/no extra: JSON true, or "true"/"yes"/"1"/"on" as a connection form stores it."""
    return value.strip().lower() in _TRUE if isinstance(value, str) else value is True


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def shown(url: str) -> str:
    """The URL as an error may show it: no user, password, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else (parts.path or url)[:80]


@dataclass(frozen=True)
class TransportPolicy:
    """What one connection allows. `verify` is what every request is sent with (see PinnedCAAdapter)."""

    system: str
    conn_id: str = ""
    verify: str | bool = True
    allow_insecure_http: bool = False
    allow_insecure_tls: bool = False

    @classmethod
    def from_extras(cls, system: str, conn_id: str, extras: Mapping[str, Any]) -> TransportPolicy:
        """The connection's rules, refused at once when it switches certificate checks off unallowed."""
        policy = cls(system, conn_id, resolve_verify(connection_extra(extras, "ca_bundle"),
                                                     connection_extra(extras, "verify")),
                     flag(connection_extra(extras, "allow_insecure_http")),
                     flag(connection_extra(extras, "allow_insecure_tls")))
        if policy.insecure_tls and not policy.allow_insecure_tls:
            raise InsecureTransport(
                f"{policy.name} sets verify: false, which would accept any certificate: anyone on the "
                "network path could read the credentials and change the data", code="INSECURE_TLS",
                fix="remove `verify`, or point `ca_bundle` at the PEM of the CA that signed the server "
                    "certificate; to accept this risk anyway, add `allow_insecure_tls: true` to the extra")
        return policy

    @property
    def name(self) -> str:
        return f"{self.system} connection `{self.conn_id}`" if self.conn_id else self.system

    @property
    def insecure_tls(self) -> bool:
        return self.verify is False

    def warn_if_insecure(self) -> None:
        if self.insecure_tls:
            log.warning("%s: TLS certificate verification is OFF (allow_insecure_tls: true): anyone on the "
                        "network path can read and change this traffic, credentials included", self.name)

    def check_url(self, url: str, what: str) -> str:
        """`url` if it may be used; InsecureTransport (nothing sent) otherwise."""
        parts = urlsplit(url)
        if parts.scheme == "https":
            return url
        loopback = is_loopback(parts.hostname)
        if parts.scheme == "http" and loopback and self.allow_insecure_http:
            return url
        if parts.scheme != "http":
            fix = "use an https:// URL"
        elif not loopback:
            fix = (f"use https://; `allow_insecure_http` only applies to {LOOPBACK}, never to a host on "
                   "the network")
        else:
            fix = "use https://, or for a local test server add `allow_insecure_http: true` to the extra"
        raise InsecureTransport(f"{self.name}: {what} {shown(url)} is not https; sfjira sends no credentials "
                                "or data without TLS", code="INSECURE_HTTP", fix=fix)

    def check_redirect(self, source: str, target: str) -> None:
        """A redirect from https to anything else is never followed, `allow_insecure_http` or not."""
        if urlsplit(source).scheme == "https" and urlsplit(target).scheme != "https":
            raise InsecureTransport(f"{self.name}: {shown(source)} redirected to {shown(target)}; a redirect "
                                    "away from https is never followed", code="INSECURE_HTTP",
                                    fix="point the connection at the final https:// URL, and have the server "
                                        "stop redirecting to http")


class PlainHttpGuard(HTTPAdapter):
    """Mounted on `http://`: every request, a redirect's too, is checked against the policy before the
    connection opens, so a token endpoint redirecting to http:// gets nothing."""

    def __init__(self, policy: TransportPolicy, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(**kwargs)

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        self.policy.check_url(str(request.url), "request URL")
        return super().send(request, *args, **kwargs)


def insecure_tls_connections(conn_ids: Iterable[str]) -> list[str]:
    """The connections among `conn_ids` whose certificate checks are off, for run summaries."""
    from airflow.sdk import BaseHook

    found = []
    for conn_id in dict.fromkeys(conn_ids):
        extras = BaseHook.get_connection(conn_id).extra_dejson
        try:
            insecure = TransportPolicy.from_extras("", conn_id, extras).insecure_tls
        except SfJiraError:  # a CA path (checks on) not readable here, or off unallowed: the hooks refused it
            insecure = False
        if insecure:
            found.append(conn_id)
    return found
