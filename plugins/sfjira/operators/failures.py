"""Which failures Airflow should retry: terminal sfjira errors fail the task at once, everything else
keeps Airflow's retries.

A refused password, an invalid mapping, a missing permission or a spent daily API limit fail the same
way on every try; retrying them with backoff only delays the alert. A 503 storm, a dropped
connection or a locked database may pass on the next try (`sfjira.exceptions.is_transient`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from airflow.sdk.exceptions import AirflowFailException

from sfjira.exceptions import SfJiraError, is_transient

log = logging.getLogger(__name__)
T = TypeVar("T")


def fail_terminal_errors(execute: Callable[..., T]) -> Callable[..., T]:
    """Wrap an operator's `execute`: a terminal SfJiraError becomes AirflowFailException (no retry),
    logged with its fix first; a transient one is raised as it is, for Airflow to retry."""

    @functools.wraps(execute)
    def run(self: Any, context: Any) -> T:
        try:
            return execute(self, context)
        except SfJiraError as err:
            if is_transient(err):
                log.warning("transient error, Airflow retries the task if it has retries left: %s", err)
                raise
            log.error("terminal error, the task fails without retrying: %s", err)
            raise AirflowFailException(str(err)) from err

    return run
