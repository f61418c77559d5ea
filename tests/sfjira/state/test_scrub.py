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
