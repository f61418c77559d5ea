"""Credential-like keys are masked at any depth; ordinary keys and values are kept."""

from __future__ import annotations

from sfjira.state.scrub import MASK, scrub


def test_credential_keys_are_masked_at_any_depth() -> None:
    value = {"password": "a", "db_pass": "b", "X-Auth-Token": "c", "sessionId": "d", "clientSecret": "e",
             "apiKey": "f", "nested": [{"Authorization": "Bearer g", "ok": 1}], "cookie": "h"}
    assert scrub(value) == {"password": MASK, "db_pass": MASK, "X-Auth-Token": MASK, "sessionId": MASK,
                            "clientSecret": MASK, "apiKey": MASK, "nested": [{"Authorization": MASK, "ok": 1}],
                            "cookie": MASK}
    assert value["password"] == "a"  # a copy, the caller's payload is untouched


def test_ordinary_keys_that_merely_contain_pass_are_kept() -> None:
    value = {"passed": 3, "bypass_count": 1, "compass": "N", "Subject": "password reset"}
    assert scrub(value) == value  # values are never inspected, only keys


def test_counts_and_flags_under_credential_like_keys_are_kept() -> None:
    # The run summary's call counts are keyed by endpoint; the OAuth one contains "token".
    summary = {"api_calls": {"salesforce": {"POST /services/oauth2/token": 1, "GET /query": 3}},
               "token_refreshed": True, "session_id": None, "expires_in": 7200}
    assert scrub(summary) == summary


def test_text_below_a_credential_like_key_is_masked_at_any_depth() -> None:
    value = {"credentials": {"user": "bob", "key": "k-1", "retries": 2, "extra": ["s1", b"s2"]},
             "token": {"access_token": "a-1", "expires_in": 3600}}
    assert scrub(value) == {"credentials": {"user": MASK, "key": MASK, "retries": 2, "extra": [MASK, MASK]},
                            "token": {"access_token": MASK, "expires_in": 3600}}
