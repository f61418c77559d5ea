"""The rollback DAG's operators: each builds the run's `RollbackRun` from its context (the DAG run's
params `run`, `dry_run`, `created`) and calls one step:

    plan = RollbackPlanOperator(task_id="plan", mapping_file=...)
    RollbackRestoreOperator(task_id="restore", plan=plan.output, mapping_file=...)
"""

from __future__ import annotations

from typing import Any

from sfjira.operators.step import StepOperator
from sfjira.rollback.run import RollbackRun, no_window


class RollbackStepOperator(StepOperator):
    """Base of the rollback steps (arguments as StepOperator)."""

    ui_color = "#fbe9e7"

    def make_run(self, context: Any) -> RollbackRun:
        params = context["params"]
        return RollbackRun(mapping_file=self.mapping_file, dag_id=self.dag_id, airflow_run_id=context["run_id"],
                           window=no_window(), dry_run=bool(params.get("dry_run", True)),
                           target=str(params.get("run") or ""), created=str(params.get("created") or "keep"),
                           salesforce_conn_id=self.salesforce_conn_id, jira_conn_id=self.jira_conn_id,
                           state_conn_id=self.state_conn_id, group=self.group)


class RollbackPlanOperator(RollbackStepOperator):
    """The run's ledger + what both sides hold now -> actions and `rollback_diff.md`; writes nothing."""

    def step(self, run: RollbackRun) -> dict[str, Any]:
        from sfjira.rollback.steps import plan_step  # local import: keeps DAG parsing fast

        return plan_step(run)


class RollbackRestoreOperator(RollbackStepOperator):
    """The planned restores written through the hooks, chunked under intents, holding the writer lease
    (nothing on a dry run).

    :param plan: the plan step's output (`plan.output`)
    """

    inputs = ("plan",)
    plan: dict[str, Any]

    def step(self, run: RollbackRun) -> dict[str, Any]:
        from sfjira.rollback.restore import restore_step  # local import: keeps DAG parsing fast

        return restore_step(run, self.plan)
