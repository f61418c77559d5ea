"""Every sfjira error says whether a retry can help: the split the operators act on."""

from __future__ import annotations

import sqlite3
import ssl

import pytest
import requests
import sqlalchemy as sa

from sfjira.exceptions import (
    ApiError,
    ApiLimitExceeded,
    AuthError,
    ConfigError,
    InsecureTransport,
    MappingError,
    SfJiraError,
    StateStoreError,
    TransformError,
    is_transient,
)
from sfjira.hooks.errors import QueryError
from sfjira.hooks.soql import check_sobject
from sfjira.http import RetryPolicy, transport_transient
from sfjira.reconcile.run import parse_scope
from sfjira.state.errors import db_error


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_api_errors_the_server_may_get_over_are_transient(status: int) -> None:
    assert is_transient(ApiError("Jira failed", status=status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 501])
def test_api_errors_a_retry_cannot_change_are_terminal(status: int) -> None:
    assert not is_transient(ApiError("Jira refused", status=status))


def test_an_api_error_without_a_status_is_terminal_unless_the_raiser_says_otherwise() -> None:
    assert not is_transient(ApiError("broken contract", code="UNEXPECTED_RESPONSE"))
    assert is_transient(ApiError("reset", code="CONNECTION_FAILED", transient=True))


def test_refused_credentials_and_insecure_connections_are_terminal() -> None:
    assert not is_transient(AuthError("bad secret", status=400))
    assert not is_transient(AuthError("bad password", status=401))
    assert not is_transient(AuthError("no host", code="AUTH_CONFIG"))
    assert not is_transient(InsecureTransport("http://", code="INSECURE_HTTP"))


def test_a_token_endpoint_that_is_down_is_transient() -> None:
    assert is_transient(AuthError("token endpoint failed", status=503))


def test_a_spent_daily_limit_is_terminal_whatever_the_status_a_rate_window_is_not() -> None:
    assert not is_transient(ApiLimitExceeded("daily limit spent", status=403))
    assert not is_transient(ApiLimitExceeded("daily limit spent", status=429))
    assert is_transient(ApiLimitExceeded("rate limit", status=429, code="RATE_LIMITED", transient=True))


def test_mapping_transform_and_plain_errors_are_terminal() -> None:
    assert not is_transient(MappingError("bad", file="m.yaml", field="x"))
    assert not is_transient(TransformError("lacks columns"))
    assert not is_transient(SfJiraError("something to fix"))
    assert not is_transient(StateStoreError("bad input", code="STATE_INPUT_INVALID"))


def test_errors_nobody_typed_keep_airflows_retries() -> None:
    assert is_transient(RuntimeError("a bug"))
    assert is_transient(requests.ConnectionError("reset"))


def _operational(message: str) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


def test_a_locked_or_unreachable_state_store_is_transient_a_broken_rule_is_not() -> None:
    assert is_transient(db_error(_operational("database is locked"), "state.db"))
    assert not is_transient(db_error(_operational("no such table: sfjira_runs"), "state.db"))
    integrity = sa.exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("FOREIGN KEY constraint failed"))
    assert not is_transient(db_error(integrity, "state.db"))


def test_transport_errors_split_by_whether_the_network_or_the_setup_failed() -> None:
    assert transport_transient(requests.ConnectionError("refused"))
    assert transport_transient(requests.Timeout("slow"))
    assert not transport_transient(requests.exceptions.SSLError("certificate verify failed"))
    assert transport_transient(requests.exceptions.SSLError(ssl.SSLEOFError(8, "EOF in violation of protocol")))
    assert not transport_transient(requests.exceptions.InvalidURL("no host"))
    assert not transport_transient(ValueError("not a transport error"))


def test_bad_settings_are_typed_terminal_and_still_value_errors() -> None:
    errors: list[SfJiraError] = []
    for bad in (lambda: RetryPolicy.from_extras({"retry_max_attempts": "many"}),
                lambda: check_sobject("Opportunity; DROP"),
                lambda: parse_scope("yesterday")):
        with pytest.raises(ConfigError) as caught:
            bad()
        errors.append(caught.value)
    assert all(isinstance(e, ValueError) and not is_transient(e) and e.fix for e in errors)
    assert isinstance(errors[1], QueryError)
    assert "-- fix: write retry_max_attempts as a plain number" in str(errors[0])
