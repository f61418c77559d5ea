"""The reconciliation DAG's operators: each builds the run's `ReconcileRun` from its context (the DAG
run's params `scope`, `auto_heal`, `fail_on_drift_above`) and calls one step.

They share the sync operators' arguments and validation (mapping file, connection ids); XCom carries
paths, counts and the value-free drift summary only.
"""

from __future__ import annotations

from typing import Any

from sfjira.operators.sync import SyncStepOperator
from sfjira.reconcile.run import SCOPE_ALL, ReconcileRun


class ReconcileStepOperator(SyncStepOperator):
    """Base of the reconciliation steps (arguments as SyncStepOperator)."""

    ui_color = "#fdf1e4"

    def sync_run(self, context: Any) -> ReconcileRun:
        params = context["params"]
        return ReconcileRun.create(
            mapping_file=self.mapping_file, dag_id=self.dag_id, airflow_run_id=context["run_id"],
            scope=params.get("scope", SCOPE_ALL), auto_heal=params.get("auto_heal", False),
            fail_on_drift_above=params.get("fail_on_drift_above"), salesforce_conn_id=self.salesforce_conn_id,
            jira_conn_id=self.jira_conn_id, state_conn_id=self.state_conn_id)


class ReconcileExtractSalesforceOperator(ReconcileStepOperator):
    """Every record in scope (the mapping's filter OR a Jira key) -> Parquet parts."""

    def step(self, run: Any, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        from sfjira.reconcile.extract import extract_salesforce

        return extract_salesforce(run)


class ReconcileExtractJiraOperator(ReconcileStepOperator):
    """Every issue in scope (project and type OR carrying a Salesforce id) -> Parquet parts."""

    def step(self, run: Any, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        from sfjira.reconcile.extract import extract_jira

        return extract_jira(run)


class CompareOperator(ReconcileStepOperator):
    """Counterparts fetched, both sides compared field by field; JSON, CSV and HTML report written,
    drift counts kept for the trend; emits the drift Asset event (give it `outlets`)."""

    upstream_steps = ("extract_salesforce", "extract_jira")

    def step(self, run: Any, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        from sfjira.reconcile.steps import compare_step

        return compare_step(run, upstream["extract_salesforce"], upstream["extract_jira"])


class DriftLimitOperator(ReconcileStepOperator):
    """Fails the run (no retries) when drift rows exceed the `fail_on_drift_above` param."""

    upstream_steps = ("compare",)

    def __init__(self, **kwargs: Any) -> None:
        kwargs["retries"] = 0  # the count will not change on a retry
        super().__init__(**kwargs)

    def step(self, run: Any, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        from sfjira.reconcile.steps import limit_step

        # DriftLimitExceeded is terminal: the base's execute turns it into AirflowFailException.
        return limit_step(run, upstream["compare"])


class HealOperator(ReconcileStepOperator):
    """With `auto_heal`: the healable drift through the sync's plan/load; closes the run either way, and
    removes this DAG's run folders older than the retention period."""

    upstream_steps = ("extract_salesforce", "extract_jira", "compare")

    def step(self, run: Any, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        from sfjira.reconcile.heal_run import heal_step
        from sfjira.retention import remove_old_runs

        out = heal_step(run, upstream["extract_salesforce"], upstream["extract_jira"], upstream["compare"])
        remove_old_runs(run.dag_id, run.airflow_run_id)
        return out
