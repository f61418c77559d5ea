"""Ambiguous writes inside the task: look the effect up, send only what did not land, never a reject."""

from __future__ import annotations

import pytest

from sfjira.exceptions import ApiError, is_transient
from sfjira.sync.resolve import WriteUnresolved, backoff, header_line, settle


class Target:
    """A write target whose first `faults` sends fail ambiguously; `lands` says whether those still landed."""

    def __init__(self, faults: int, *, lands: bool, status: int | None = 500) -> None:
        self.faults = faults
        self.lands = lands
        self.status = status
        self.effects: list[str] = []
        self.sends = 0
        self.lookups = 0
        self.waits: list[float] = []

    def send(self) -> str:
        self.sends += 1
        if self.sends <= self.faults:
            if self.lands:
                self.effects.append("comment")
            raise ApiError("add comment failed", status=self.status, code=f"JIRA_HTTP_{self.status}",
                           transient=None if self.status else True)
        self.effects.append("comment")
        return "sent"

    def landed(self) -> str | None:
        self.lookups += 1
        return "found" if self.effects else None

    def settle(self, **kwargs: object) -> str:
        return settle("add comment", self.send, self.landed, sleep=self.waits.append, **kwargs)  # type: ignore[arg-type]


def test_a_lost_response_is_found_by_the_look_up_and_not_sent_again() -> None:
    target = Target(1, lands=True, status=None)  # the write landed, the answer was lost
    assert target.settle() == "found"
    assert target.effects == ["comment"] and target.sends == 1 and target.lookups == 1
    assert len(target.waits) == 1


def test_a_500_that_did_nothing_is_sent_again_once() -> None:
    target = Target(2, lands=False)
    assert target.settle() == "sent"
    assert target.effects == ["comment"] and target.sends == 3 and target.lookups == 2


def test_a_pending_intent_looks_up_before_the_first_send() -> None:
    target = Target(0, lands=False)
    target.effects.append("comment")  # a killed attempt wrote it
    assert target.settle(check_first=True) == "found"
    assert target.sends == 0 and target.effects == ["comment"]


def test_a_refusal_is_raised_as_it_is_without_a_resend() -> None:
    target = Target(5, lands=False, status=400)
    with pytest.raises(ApiError) as err:
        target.settle()
    assert err.value.status == 400 and not isinstance(err.value, WriteUnresolved)
    assert target.sends == 1 and target.lookups == 0


def test_a_fault_outlasting_the_tries_fails_the_task_transiently_never_a_reject() -> None:
    target = Target(99, lands=False, status=503)
    with pytest.raises(WriteUnresolved) as err:
        target.settle(tries=3)
    assert is_transient(err.value) and err.value.code == "WRITE_UNRESOLVED"
    assert target.sends == 3 and target.effects == [] and len(target.waits) == 2


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    assert backoff(1, lambda: 0.0) == 0.5 and backoff(1, lambda: 1.0) == 1.0
    assert backoff(3, lambda: 1.0) == 4.0 and backoff(10, lambda: 1.0) == 8.0


def test_a_copy_is_named_by_its_header_line() -> None:
    assert header_line("[sfjira] from Salesforce 00a1 by Ada\nbody\nmore") == "[sfjira] from Salesforce 00a1 by Ada"
    assert header_line(None) == ""
