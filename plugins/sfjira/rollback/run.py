"""What a rollback works with: a SyncRun (hooks, state, PII, run folder) that undoes another run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from sfjira.exceptions import SfJiraError
from sfjira.rollback.plan import CREATE_POLICIES
from sfjira.sync.run import EPOCH, SyncRun, Window


def no_window() -> Window:
    """A rollback reads records by id, never a window; its run records the full span (no cursor moves)."""
    return Window(EPOCH, dt.datetime.now(dt.UTC), full=True, reason="rollback")


@dataclass
class RollbackRun(SyncRun):
    """One rollback (a DAG run of `sfjira_rollback__<name>`, or `sfjira rollback`).

    `target`: the run to undo -- its state-store run id (`<mapping>/<airflow run id>`) or its Airflow run
    id (every plan of it: `<id>`, `<id>#2`...). `created`: what to do with the issues it created
    (sfjira.rollback.plan.CREATE_POLICIES)."""

    target: str = ""
    created: str = "keep"

    def __post_init__(self) -> None:
        if not self.target.strip():
            raise SfJiraError("a rollback needs the run to undo", code="ROLLBACK_RUN_UNKNOWN",
                              fix="give the run's id (`sfjira audit --mapping NAME` lists the runs that wrote)")
        if self.created not in CREATE_POLICIES:
            raise SfJiraError(f"created must be one of {', '.join(CREATE_POLICIES)}, got {self.created!r}",
                              code="ROLLBACK_POLICY_INVALID",
                              fix=f"set the `created` Param to one of {', '.join(CREATE_POLICIES)}")

    @property
    def cause(self) -> str:
        return "rollback"

    @cached_property
    def run_id(self) -> str:
        return self.state.begin_run(self.name, self.state_run or self.airflow_run_id, dry_run=self.dry_run,
                                    kind="rollback")

    @cached_property
    def targets(self) -> list[str]:
        """The state-store runs of the run to undo (a cleared sync run may have planned more than once)."""
        runs = self.state.runs(self.name, limit=None)
        plain_id = runs["airflow_run_id"].astype(str).str.split("#").str[0] if len(runs) else pd.Series(dtype=object)
        match = runs[(runs["run_id"] == self.target) | (plain_id == self.target)] if len(runs) else runs
        found = [str(r) for r in match["run_id"] if str(r) != self.run_id]
        if not found:
            raise SfJiraError(f"mapping {self.name} has no run {self.target!r} to roll back",
                              code="ROLLBACK_RUN_UNKNOWN",
                              fix=f"give a run listed by `sfjira audit --mapping {self.name}` (its run_id or "
                                  "airflow_run_id column)")
        return sorted(found)
