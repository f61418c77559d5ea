"""HTTP pieces shared by the Salesforce and Jira hooks: retry policy, pinned-CA adapter, call accounting."""

from __future__ import annotations

from sfjira.http.accounting import CallCounter, endpoint_of
from sfjira.http.auth import BearerAuth
from sfjira.http.retry import (
    Decision,
    RetryPolicy,
    parse_rate_limit_reset,
    parse_retry_after,
    server_wait,
    transport_transient,
)
from sfjira.http.session import ResilientSession
from sfjira.http.tls import PinnedCAAdapter, resolve_verify
from sfjira.http.transport import PlainHttpGuard, TransportPolicy, insecure_tls_connections

__all__ = [
    "BearerAuth",
    "CallCounter",
    "Decision",
    "PinnedCAAdapter",
    "PlainHttpGuard",
    "ResilientSession",
    "RetryPolicy",
    "TransportPolicy",
    "endpoint_of",
    "insecure_tls_connections",
    "parse_rate_limit_reset",
    "parse_retry_after",
    "resolve_verify",
    "server_wait",
    "transport_transient",
]
