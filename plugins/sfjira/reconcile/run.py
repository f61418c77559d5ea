"""What one reconciliation step needs: a SyncRun (mapping, hooks, state, run folder) over the full
window, plus the run's params, registered in the state store as a `reconcile` run.

A ReconcileRun *is* a SyncRun, so auto_heal hands it to the sync's own plan and load functions
unchanged; its window is the full one, so those never move a watermark.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sfjira.exceptions import ConfigError
from sfjira.sync.run import SyncRun, Window

SCOPE_ALL = "all"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SCOPE_PATTERN = r"^(all|\d{4}-\d{2}-\d{2})$"


def bad_param(message: str, fix: str) -> ConfigError:
    """A DAG run param the reconciliation cannot use: terminal, a retry sees the same conf."""
    return ConfigError(message, code="RECONCILE_PARAM_INVALID", fix=fix)


def parse_scope(scope: object) -> dt.datetime | None:
    """None for "all", else the UTC midnight that starts the given day ("YYYY-MM-DD")."""
    text = str(scope).strip() if scope is not None else SCOPE_ALL
    if text.lower() == SCOPE_ALL:
        return None
    if _DATE.match(text):
        try:
            return dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC)
        except ValueError:
            pass
    raise bad_param(f"scope must be \"all\" or a date YYYY-MM-DD (records changed since that day, UTC), "
                    f"got {scope!r}", "trigger with scope \"all\" or e.g. \"2026-03-01\"")


def parse_limit(limit: object) -> int | None:
    """`fail_on_drift_above`: None (off) or a count >= 0."""
    if limit is None or limit == "":
        return None
    if isinstance(limit, bool) or not isinstance(limit, int | str) or not str(limit).strip().isdigit():
        raise bad_param(f"fail_on_drift_above must be empty (off) or a whole number >= 0, got {limit!r}",
                        "trigger with fail_on_drift_above empty or a count such as 100")
    return int(limit)


@dataclass
class ReconcileRun(SyncRun):
    """:param scope: "all" or "YYYY-MM-DD" (only records changed since that day, UTC)
    :param auto_heal: send the healable drift through the sync's plan/load
    :param fail_on_drift_above: fail the run (after the reports) when drift rows exceed this count"""

    scope: str = SCOPE_ALL
    auto_heal: bool = False
    fail_on_drift_above: int | None = None

    @property
    def cause(self) -> str:
        return "heal"  # the reconciliation writes only to heal drift

    def __post_init__(self) -> None:
        self.since = parse_scope(self.scope)
        self.fail_on_drift_above = parse_limit(self.fail_on_drift_above)
        if not isinstance(self.auto_heal, bool):
            raise bad_param(f"auto_heal must be true or false, got {self.auto_heal!r}",
                            "trigger with auto_heal true or false (a JSON boolean, not a string)")

    @classmethod
    def create(cls, *, mapping_file: str, dag_id: str, airflow_run_id: str, **kwargs: Any) -> ReconcileRun:
        """`kwargs`: the run's other fields, from the DAG run's params (values checked in __post_init__)."""
        return cls(mapping_file=mapping_file, dag_id=dag_id, airflow_run_id=airflow_run_id,
                   window=Window.for_interval(dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC), dt.timedelta(0),
                                              full=True), **kwargs)

    @cached_property
    def run_id(self) -> str:
        """The state store's run, kind `reconcile` (begin_run is idempotent: a retried task gets it back)."""
        return self.state.begin_run(self.name, self.airflow_run_id, kind="reconcile")
