"""The operators' retry semantics: terminal sfjira errors fail the task without a retry, with the fix."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from sfjira.exceptions import ApiError, AuthError
from sfjira.operators.failures import fail_terminal_errors


class Step:
    """Stands in for an operator: `execute` raises what it was given."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    @fail_terminal_errors
    def execute(self, context: Any) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return {"ok": context}


def test_a_terminal_error_fails_the_task_with_the_fix(caplog: pytest.LogCaptureFixture) -> None:
    refused = AuthError("Salesforce password grant refused: HTTP 400 invalid_client", status=400,
                        fix="check the client id and secret of the connected app")
    with pytest.raises(AirflowFailException, match="fix: check the client id and secret") as caught:
        Step(refused).execute({})
    assert caught.value.__cause__ is refused
    assert "terminal error" in caplog.text and "check the client id and secret" in caplog.text


@pytest.mark.parametrize("error", [ApiError("Jira failed: HTTP 503", status=503), RuntimeError("a bug")])
def test_transient_and_unknown_errors_reach_airflow_as_they_are(error: BaseException) -> None:
    with pytest.raises(type(error)) as caught:
        Step(error).execute({})
    assert caught.value is error


def test_a_step_that_works_returns_its_result() -> None:
    assert Step(None).execute("ctx") == {"ok": "ctx"}
