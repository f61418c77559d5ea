"""The reconciliation DAG's operators: each builds the run's `ReconcileRun` from its context (the DAG
run's params `scope`, `auto_heal`, `fail_on_drift_above`) and calls one step.

They share the sync operators' base (sfjira.operators.step: mapping file, connection ids, inputs as
XComArgs); XCom carries paths, counts and the value-free drift summary only.
"""

from __future__ import annotations

from typing import Any

from sfjira.operators.step import StepOperator
from sfjira.reconcile.run import SCOPE_ALL, ReconcileRun
from sfjira.retention import remove_old_runs


class ReconcileStepOperator(StepOperator):
    """Base of the reconciliation steps (arguments as StepOperator)."""

    ui_color = "#fdf1e4"

    def make_run(self, context: Any) -> ReconcileRun:
        params = context["params"]
        return ReconcileRun.create(
            mapping_file=self.mapping_file, dag_id=self.dag_id, airflow_run_id=context["run_id"],
            scope=params.get("scope", SCOPE_ALL), auto_heal=params.get("auto_heal", False),
            fail_on_drift_above=params.get("fail_on_drift_above"), salesforce_conn_id=self.salesforce_conn_id,
            jira_conn_id=self.jira_conn_id, state_conn_id=self.state_conn_id, group=self.group)


class ReconcileExtractSalesforceOperator(ReconcileStepOperator):
    """Every record in scope (the mapping's filter OR a Jira key) -> Parquet parts."""

    def step(self, run: ReconcileRun) -> dict[str, Any]:
        from sfjira.reconcile.extract import extract_salesforce  # local import: keeps DAG parsing fast

        return extract_salesforce(run)


class ReconcileExtractJiraOperator(ReconcileStepOperator):
    """Every issue in scope (project and type OR carrying a Salesforce id) -> Parquet parts."""

    def step(self, run: ReconcileRun) -> dict[str, Any]:
        from sfjira.reconcile.extract import extract_jira  # local import: keeps DAG parsing fast

        return extract_jira(run)


class CompareOperator(ReconcileStepOperator):
    """Counterparts fetched, both sides compared field by field; JSON, CSV and HTML report written,
    drift counts kept for the trend; emits the drift Asset event (give it `outlets`).

    :param salesforce: the Salesforce extract's output; :param jira: the Jira extract's output
    """

    inputs = ("salesforce", "jira")
    salesforce: dict[str, Any]
    jira: dict[str, Any]

    def step(self, run: ReconcileRun) -> dict[str, Any]:
        from sfjira.reconcile.steps import compare_step  # local import: keeps DAG parsing fast

        return compare_step(run, self.salesforce, self.jira)


class DriftLimitOperator(ReconcileStepOperator):
    """Fails the run (no retries) when drift rows exceed the `fail_on_drift_above` param.

    :param compare: the compare step's output
    """

    inputs = ("compare",)
    compare: dict[str, Any]

    def __init__(self, **kwargs: Any) -> None:
        kwargs["retries"] = 0  # the count will not change on a retry
        super().__init__(**kwargs)

    def step(self, run: ReconcileRun) -> dict[str, Any]:
        from sfjira.reconcile.steps import limit_step  # local import: keeps DAG parsing fast

        # DriftLimitExceeded is terminal: the base's execute turns it into AirflowFailException.
        return limit_step(run, self.compare)


class HealOperator(ReconcileStepOperator):
    """With `auto_heal`: the healable drift through the sync's transform/plan/load; closes the run either
    way, and removes this DAG's run folders older than the retention period.

    :param salesforce: the Salesforce extract's output; :param jira: the Jira extract's output;
    :param compare: the compare step's output
    """

    inputs = ("salesforce", "jira", "compare")
    salesforce: dict[str, Any]
    jira: dict[str, Any]
    compare: dict[str, Any]

    def step(self, run: ReconcileRun) -> dict[str, Any]:
        from sfjira.reconcile.heal_run import heal_step  # local import: keeps DAG parsing fast

        out = heal_step(run, self.salesforce, self.jira, self.compare)
        remove_old_runs(run.dag_id, run.airflow_run_id)
        return out
