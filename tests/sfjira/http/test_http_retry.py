"""The retry policy is pure: these tests need no server."""

from __future__ import annotations

import random
import ssl
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import urllib3
from hypothesis import given
from hypothesis import strategies as st

from sfjira.http.retry import RetryPolicy, parse_retry_after

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def policy(**kwargs: object) -> RetryPolicy:
    return RetryPolicy(rng=random.Random(7), **kwargs)  # type: ignore[arg-type]


class TestParseRetryAfter:
    def test_delta_seconds(self) -> None:
        assert parse_retry_after("7", NOW) == 7.0
        assert parse_retry_after(" 2.5 ", NOW) == 2.5

    def test_http_date(self) -> None:
        value = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
        assert parse_retry_after(value, NOW) == pytest.approx(30.0)

    def test_date_in_the_past_means_now(self) -> None:
        value = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
        assert parse_retry_after(value, NOW) == 0.0

    @pytest.mark.parametrize("value", [None, "", "soon", "inf", "-3"])
    def test_absent_or_invalid(self, value: str | None) -> None:
        result = parse_retry_after(value, NOW)
        assert result is None or result == 0.0


class TestBackoff:
    def test_grows_exponentially_within_jitter_bounds(self) -> None:
        p = policy(base_delay=1.0, max_delay=100.0)
        for attempt in range(1, 7):
            step = 2 ** (attempt - 1)
            assert step / 2 <= p.backoff(attempt) <= step

    def test_capped_by_max_delay(self) -> None:
        p = policy(base_delay=1.0, max_delay=5.0)
        assert all(p.backoff(20) <= 5.0 for _ in range(50))

    def test_jitter_spreads_waits(self) -> None:
        p = policy(base_delay=1.0, max_delay=100.0)
        assert len({round(p.backoff(4), 6) for _ in range(20)}) > 10

    @given(st.integers(min_value=1, max_value=60), st.floats(min_value=0.001, max_value=10),
           st.floats(min_value=0.001, max_value=120))
    def test_never_negative_never_above_cap(self, attempt: int, base: float, cap: float) -> None:
        delay = RetryPolicy(base_delay=base, max_delay=cap).backoff(attempt)
        assert 0 <= delay <= cap


class TestResponseDecisions:
    @pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
    def test_transient_statuses_retried_on_get(self, status: int) -> None:
        decision = policy().for_response("GET", status, {}, attempt=1, waited=0.0)
        assert decision.retry and decision.delay > 0

    @pytest.mark.parametrize("status", [200, 201, 204, 400, 401, 403, 404, 409])
    def test_other_statuses_not_retried(self, status: int) -> None:
        assert not policy().for_response("GET", status, {}, attempt=1, waited=0.0).retry

    def test_post_retried_only_when_server_did_nothing(self) -> None:
        p = policy()
        assert p.for_response("POST", 429, {}, 1, 0.0).retry
        assert p.for_response("POST", 503, {}, 1, 0.0).retry
        assert not p.for_response("POST", 500, {}, 1, 0.0).retry
        assert not p.for_response("POST", 502, {}, 1, 0.0).retry

    def test_retry_after_is_honoured_even_above_max_delay(self) -> None:
        decision = policy(max_delay=2.0, max_total=100.0).for_response("GET", 503, {"Retry-After": "30"}, 1, 0.0)
        assert decision.retry and decision.delay == 30.0

    def test_retry_after_http_date(self) -> None:
        header = {"Retry-After": format_datetime(NOW + timedelta(seconds=12), usegmt=True)}
        decision = policy().for_response("GET", 429, header, 1, 0.0, now=NOW)
        assert decision.retry and decision.delay == pytest.approx(12.0)

    def test_rate_limit_reset_is_waited_without_retry_after(self) -> None:
        header = {"X-RateLimit-Reset": (NOW + timedelta(seconds=40)).strftime("%Y-%m-%dT%H:%M:%SZ")}
        decision = policy(max_delay=2.0, max_total=100.0).for_response("GET", 429, header, 1, 0.0, now=NOW)
        assert decision.retry and decision.delay == pytest.approx(40.0)

    def test_retry_after_wins_over_rate_limit_reset(self) -> None:
        header = {"Retry-After": "5", "X-RateLimit-Reset": (NOW + timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%MZ")}
        decision = policy(max_delay=1.0).for_response("GET", 429, header, 1, 0.0, now=NOW)
        assert decision.delay == 5.0

    def test_rate_limit_reset_in_jiras_minute_form(self) -> None:
        from sfjira.http import parse_rate_limit_reset

        assert parse_rate_limit_reset((NOW + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%MZ"), NOW) == \
            pytest.approx(120.0 - NOW.second, abs=1)
        assert parse_rate_limit_reset("2000-01-01T00:00Z", NOW) == 0.0
        assert parse_rate_limit_reset("soon", NOW) is None and parse_rate_limit_reset(None, NOW) is None

    def test_pace_holds_back_after_the_window_is_spent(self) -> None:
        p = policy(max_delay=20.0)
        spent = {"X-RateLimit-Remaining": "0", "Retry-After": "7"}
        assert p.pace(200, spent) == 7.0
        assert policy(max_delay=3.0).pace(200, spent) == 3.0  # capped per wait
        assert p.pace(200, {"X-RateLimit-Remaining": "1", "Retry-After": "7"}) == 0.0
        assert p.pace(200, {"X-RateLimit-Remaining": "0"}) == 0.0  # no reset time: the 429 will say
        assert p.pace(429, spent) == 0.0  # a refusal is the retry's business, not pacing's

    def test_429_retry_after_beyond_budget_is_a_limit(self) -> None:
        decision = policy(max_total=60.0).for_response("GET", 429, {"Retry-After": "3600"}, 1, 0.0)
        assert not decision.retry and decision.limit_exceeded
        assert "3600" in decision.reason

    def test_503_retry_after_beyond_budget_gives_up_without_limit(self) -> None:
        decision = policy(max_total=60.0).for_response("GET", 503, {"Retry-After": "3600"}, 1, 0.0)
        assert not decision.retry and not decision.limit_exceeded

    def test_total_wait_is_capped(self) -> None:
        p = policy(base_delay=4.0, max_delay=4.0, max_total=10.0)
        assert p.for_response("GET", 500, {}, 1, waited=5.0).retry
        assert not p.for_response("GET", 500, {}, 2, waited=9.0).retry

    def test_gives_up_after_max_attempts(self) -> None:
        p = policy(max_attempts=3)
        assert p.for_response("GET", 500, {}, 2, 0.0).retry
        final = p.for_response("GET", 500, {}, 3, 0.0)
        assert not final.retry and "3 attempts" in final.reason

    def test_429_on_last_attempt_is_a_limit(self) -> None:
        assert policy(max_attempts=2).for_response("GET", 429, {}, 2, 0.0).limit_exceeded


class TestExceptionDecisions:
    def test_reset_retried_for_idempotent_methods_only(self) -> None:
        reset = requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer"))
        assert policy().for_exception("GET", reset, 1, 0.0).retry
        assert policy().for_exception("PATCH", reset, 1, 0.0).retry
        assert not policy().for_exception("POST", reset, 1, 0.0).retry

    def test_refused_connection_retried_even_for_post(self) -> None:
        refused = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
        exc = requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/x", refused))  # type: ignore[arg-type]
        assert policy().for_exception("POST", exc, 1, 0.0).retry

    def test_read_timeout_retried_for_get(self) -> None:
        assert policy().for_exception("GET", requests.ReadTimeout("slow"), 1, 0.0).retry

    def test_a_refused_certificate_is_configuration_not_retried(self) -> None:
        refused = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
        wrapped = requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(
            None, "https://h/x", reason=urllib3.exceptions.SSLError(refused)))  # type: ignore[arg-type]
        assert not policy().for_exception("GET", wrapped, 1, 0.0).retry

    def test_a_connection_reset_inside_tls_is_retried(self) -> None:
        # What the emulator's `reset` fault (an RST in the middle of TLS) looks like to requests.
        eof = ssl.SSLEOFError(8, "EOF occurred in violation of protocol (_ssl.c:2427)")
        wrapped = requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(
            None, "https://h/x", reason=urllib3.exceptions.SSLError(eof)))  # type: ignore[arg-type]
        assert policy().for_exception("GET", wrapped, 1, 0.0).retry


class TestValidation:
    def test_from_extras(self) -> None:
        p = RetryPolicy.from_extras({"retry_max_attempts": "4", "retry_base_delay": 0.1, "retry_max_total": ""})
        assert (p.max_attempts, p.base_delay, p.max_total) == (4, 0.1, RetryPolicy().max_total)

    def test_bad_extra_names_the_field(self) -> None:
        with pytest.raises(ValueError, match="retry_max_attempts"):
            RetryPolicy.from_extras({"retry_max_attempts": "many"})

    def test_rejects_nonsense(self) -> None:
        with pytest.raises(ValueError, match="max_attempts"):
            RetryPolicy(max_attempts=0)
        with pytest.raises(ValueError, match="base_delay"):
            RetryPolicy(base_delay=-1)
