"""HTTP pieces shared by the Salesforce and Jira hooks: retry policy, pinned-CA adapter, call accounting."""

from __future__ import annotations

from sfjira.http.accounting import CallCounter, endpoint_of
from sfjira.http.auth import BearerAuth
from sfjira.http.retry import Decision, RetryPolicy, parse_retry_after
from sfjira.http.session import ResilientSession
from sfjira.http.tls import PinnedCAAdapter, resolve_verify

__all__ = [
    "BearerAuth",
    "CallCounter",
    "Decision",
    "PinnedCAAdapter",
    "ResilientSession",
    "RetryPolicy",
    "endpoint_of",
    "parse_retry_after",
    "resolve_verify",
]
