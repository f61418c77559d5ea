"""The sync DAG's operators: each builds the run's `SyncRun` from its context and calls one step.

XCom carries only paths, counts and API-call tallies: frames stay in Parquet under the run folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from airflow.sdk import BaseOperator

from sfjira.operators.failures import fail_terminal_errors
from sfjira.sync.run import SyncRun, Window


class SyncStepOperator(BaseOperator):
    """Base of the sync steps.

    :param mapping_file: path of the mapping YAML (templated)
    :param salesforce_conn_id: Airflow connection of type `salesforce` (templated)
    :param jira_conn_id: Airflow connection of type `jira` (templated)
    :param state_conn_id: Airflow connection holding the state store's SQLAlchemy URL (templated)
    """

    template_fields: Sequence[str] = ("mapping_file", "salesforce_conn_id", "jira_conn_id", "state_conn_id")
    upstream_steps: ClassVar[tuple[str, ...]] = ()
    decides_window: ClassVar[bool] = False
    """The extracts decide the run's window; later steps take the one they read (see sfjira.sync.cursor)."""
    ui_color = "#e8f4fa"

    def __init__(self, *, mapping_file: str, salesforce_conn_id: str = "salesforce_default",
                 jira_conn_id: str = "jira_default", state_conn_id: str = "sfjira_state", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, value in (("mapping_file", mapping_file), ("salesforce_conn_id", salesforce_conn_id),
                            ("jira_conn_id", jira_conn_id), ("state_conn_id", state_conn_id)):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{type(self).__name__}: {name} must be a non-empty string, got {value!r}")
        self.mapping_file = mapping_file
        self.salesforce_conn_id = salesforce_conn_id
        self.jira_conn_id = jira_conn_id
        self.state_conn_id = state_conn_id

    def sync_run(self, context: Any) -> SyncRun:
        from sfjira.mapping import load_mapping
        from sfjira.sync import cursor

        params = context["params"]
        overlap = load_mapping(self.mapping_file).overlap_delta
        window = Window.for_interval(context["data_interval_start"], context["data_interval_end"], overlap,
                                     full=bool(params.get("full_resync")))
        run = SyncRun(mapping_file=self.mapping_file, dag_id=self.dag_id, airflow_run_id=context["run_id"],
                      window=window, dry_run=bool(params.get("dry_run")), salesforce_conn_id=self.salesforce_conn_id,
                      jira_conn_id=self.jira_conn_id, state_conn_id=self.state_conn_id,
                      replay=bool(params.get("replay_rejects")))
        # Not the interval alone: the committed cursor decides where the run reads from.
        run.window = cursor.for_step(run, context, overlap, decides=self.decides_window)
        return run

    def upstream(self, context: Any) -> dict[str, dict[str, Any]]:
        ti = context["ti"]
        return {step: ti.xcom_pull(task_ids=step) or {} for step in self.upstream_steps}

    @fail_terminal_errors
    def execute(self, context: Any) -> dict[str, Any]:
        run, upstream = self.sync_run(context), self.upstream(context)
        # Steps after the plan write under the plan's state-store run (see SyncRun.state_run).
        run.state_run = upstream.get("plan", {}).get("state_run")
        out = self.step(run, upstream)
        return {**out, "window": run.window.as_dict()} if self.decides_window else out

    def step(self, run: SyncRun, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        raise NotImplementedError


class ExtractSalesforceOperator(SyncStepOperator):
    """Changed and deleted records of the window (one queryAll) -> Parquet."""

    decides_window = True

    def step(self, run: SyncRun, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        from sfjira.sync.extract import extract_salesforce

        return extract_salesforce(run)


class ExtractJiraOperator(SyncStepOperator):
    """Issues updated in the window (minute-widened JQL, exact filter) -> Parquet."""

    decides_window = True

    def step(self, run: SyncRun, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        from sfjira.sync.extract import extract_jira

        return extract_jira(run)


class PlanOperator(SyncStepOperator):
    """Both extracts + the state store -> plan tables and a readable diff; writes nothing."""

    upstream_steps = ("extract_salesforce", "extract_jira")

    def step(self, run: SyncRun, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        from sfjira.sync.steps import plan_step

        return plan_step(run, upstream["extract_salesforce"], upstream["extract_jira"])


class LoadJiraOperator(SyncStepOperator):
    """Creates, updates, transitions, deletes and comments in Jira, chunked under intents."""

    upstream_steps = ("plan",)

    def step(self, run: SyncRun, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        from sfjira.sync.load_jira import load_jira

        return load_jira(run, upstream["plan"])


class LoadSalesforceOperator(SyncStepOperator):
    """Key write-back, Jira-side changes and comments into Salesforce via sObject Collections."""

    upstream_steps = ("plan", "load_jira")

    def step(self, run: SyncRun, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        from sfjira.sync.load_salesforce import load_salesforce

        return load_salesforce(run, upstream["plan"], upstream["load_jira"])


class SyncReportOperator(SyncStepOperator):
    """Counts per direction and API calls against the protocol minimum; emits the Asset events; removes
    this DAG's run folders older than the retention period."""

    upstream_steps = ("extract_salesforce", "extract_jira", "plan", "load_jira", "load_salesforce")

    def step(self, run: SyncRun, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        from sfjira.retention import remove_old_runs
        from sfjira.sync.report import build_report, format_summary

        summary = build_report(run, upstream)
        print(f"SFJIRA SUMMARY {run.name}: {format_summary(summary)}")
        remove_old_runs(run.dag_id, run.airflow_run_id)
        return summary
