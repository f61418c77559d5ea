"""The sync DAG's operators: each builds the run's `SyncRun` from its context and its inputs, and calls
one step. Wired by their inputs (as sfjira.dag_factory.add_sync_tasks does):

    ex_sf = ExtractSalesforceOperator(task_id="extract_salesforce", mapping_file=...)
    ex_j = ExtractJiraOperator(task_id="extract_jira", mapping_file=...)
    tr = TransformOperator(task_id="transform", salesforce=ex_sf.output, jira=ex_j.output, ...)
    plan = PlanOperator(task_id="plan", salesforce=ex_sf.output, jira=ex_j.output, transformed=tr.output, ...)
    load_j = LoadJiraOperator(task_id="load_jira", plan=plan.output, ...)
    load_sf = LoadSalesforceOperator(task_id="load_salesforce", plan=plan.output, jira_load=load_j.output, ...)
    SyncReportOperator(task_id="report", steps={"extract_salesforce": ex_sf.output, ..., "plan": plan.output})

The extracts decide the run's window (sfjira.sync.cursor) and put it in their output; the plan hands it
on with the state-store run it opened (`window`, `state_run`): the loads and the report read both from
their `plan` input.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sfjira.mapping import load_mapping
from sfjira.operators.step import StepOperator
from sfjira.retention import remove_old_runs
from sfjira.sync import cursor
from sfjira.sync.run import SyncRun, Window

# The steps whose outputs the report reads (its `steps` argument); `plan` is required.
REPORTED_STEPS = ("extract_salesforce", "extract_jira", "transform", "plan", "load_jira", "load_salesforce")


def with_interval(context: Any, schedule: str) -> None:
    """A manual run triggered without a logical date (Airflow 3 allows it: the API's `logical_date: null`)
    has no data interval; it gets the schedule's interval that ends when the run was asked for (its
    `run_after`), so it reads like a scheduled run at that moment -- from the committed cursor on.

    An asset-triggered run (a webhook's event) has none either; its interval ends when the run STARTED,
    not at its `run_after`: Airflow 3.3 stamps that with the first of the queued events, and events recorded
    after it until the run is created get no run of their own (the queue entry they joined is deleted with
    the run's creation, airflow/jobs/scheduler_job_runner.py `_create_dag_runs_asset_triggered`) -- their
    changes happened before the run started, so this window covers them. Both extracts read the same
    stamp, so they read the same window."""
    if context.get("data_interval_start") is not None and context.get("data_interval_end") is not None:
        return
    from croniter import croniter

    dag_run = context.get("dag_run")
    started = getattr(dag_run, "start_date", None) if cursor.is_event_run(context) else None
    asked = started or getattr(dag_run, "run_after", None) or dt.datetime.now(dt.UTC)
    end = asked if asked.tzinfo else asked.replace(tzinfo=dt.UTC)
    context["data_interval_start"] = croniter(schedule, end).get_prev(dt.datetime)
    context["data_interval_end"] = end


class SyncStepOperator(StepOperator):
    """Base of the sync steps (arguments as StepOperator)."""

    decides_window: ClassVar[bool] = False
    """The extracts decide the run's window; later steps take the one they read (see sfjira.sync.cursor)."""

    def windows_read(self) -> list[dict[str, Any]]:
        """The windows the extracts read, as found in this step's inputs (the extracts' or the plan's)."""
        values = [getattr(self, name) for name in self.inputs]
        return [v["window"] for v in values if isinstance(v, dict) and v.get("window")]

    def plan_output(self) -> dict[str, Any]:
        """The plan's output among the inputs ({} before the plan)."""
        return dict(getattr(self, "plan", None) or {})

    def make_run(self, context: Any) -> SyncRun:
        params = context["params"]
        mapping = load_mapping(self.mapping_file)
        overlap = mapping.overlap_delta
        with_interval(context, mapping.schedule)
        window = Window.for_interval(context["data_interval_start"], context["data_interval_end"], overlap,
                                     full=bool(params.get("full_resync")))
        run = SyncRun(mapping_file=self.mapping_file, dag_id=self.dag_id, airflow_run_id=context["run_id"],
                      window=window, dry_run=bool(params.get("dry_run")), salesforce_conn_id=self.salesforce_conn_id,
                      jira_conn_id=self.jira_conn_id, state_conn_id=self.state_conn_id,
                      replay=bool(params.get("replay_rejects")), group=self.group,
                      # Steps after the plan write under the state-store run the plan opened (SyncRun.state_run).
                      state_run=self.plan_output().get("state_run"))
        # Not the interval alone: the committed cursor decides where the run reads from.
        run.window = cursor.for_step(run, context, overlap, read=None if self.decides_window else self.windows_read())
        return run


class ExtractSalesforceOperator(SyncStepOperator):
    """Changed and deleted records of the window (one queryAll) -> Parquet."""

    decides_window = True

    def step(self, run: SyncRun) -> dict[str, Any]:
        from sfjira.sync.extract import extract_salesforce  # local import: keeps DAG parsing fast

        return {**extract_salesforce(run), "window": run.window.as_dict()}


class ExtractJiraOperator(SyncStepOperator):
    """Issues updated in the window (minute-widened JQL, exact filter) -> Parquet."""

    decides_window = True

    def step(self, run: SyncRun) -> dict[str, Any]:
        from sfjira.sync.extract import extract_jira  # local import: keeps DAG parsing fast

        return {**extract_jira(run), "window": run.window.as_dict()}


class TransformOperator(SyncStepOperator):
    """Both extracts through the mapping: canonical frames and the transform's rejects -> Parquet.
    Clear it (and what follows) after fixing a mapping to run it again on the same extracts.

    :param salesforce: the Salesforce extract's output (`extract_salesforce.output`)
    :param jira: the Jira extract's output (`extract_jira.output`)
    """

    inputs = ("salesforce", "jira")
    salesforce: dict[str, Any]
    jira: dict[str, Any]

    def step(self, run: SyncRun) -> dict[str, Any]:
        from sfjira.sync.steps import transform_step  # local import: keeps DAG parsing fast

        return transform_step(run, self.salesforce, self.jira)


class PlanOperator(SyncStepOperator):
    """The transformed frames + the identity rules + the state store -> plan tables and a readable diff;
    writes nothing. Its output names the state-store run and the window the loads and report use.

    :param salesforce: the Salesforce extract's output
    :param jira: the Jira extract's output
    :param transformed: the transform's output (`transform.output`)
    """

    inputs = ("salesforce", "jira", "transformed")
    salesforce: dict[str, Any]
    jira: dict[str, Any]
    transformed: dict[str, Any]

    def step(self, run: SyncRun) -> dict[str, Any]:
        from sfjira.sync.steps import plan_step  # local import: keeps DAG parsing fast

        return plan_step(run, self.salesforce, self.jira, self.transformed)


class LoadJiraOperator(SyncStepOperator):
    """Creates, updates, transitions, deletes and comments in Jira, chunked under intents.

    :param plan: the plan's output (`plan.output`)
    """

    inputs = ("plan",)
    plan: dict[str, Any]

    def step(self, run: SyncRun) -> dict[str, Any]:
        from sfjira.sync.load_jira import load_jira  # local import: keeps DAG parsing fast

        return load_jira(run, self.plan)


class LoadSalesforceOperator(SyncStepOperator):
    """Key write-back, Jira-side changes and comments into Salesforce via sObject Collections.

    :param plan: the plan's output
    :param jira_load: the Jira load's output (`load_jira.output`: the keys of the issues it created)
    """

    inputs = ("plan", "jira_load")
    plan: dict[str, Any]
    jira_load: dict[str, Any]

    def step(self, run: SyncRun) -> dict[str, Any]:
        from sfjira.sync.load_salesforce import load_salesforce  # local import: keeps DAG parsing fast

        return load_salesforce(run, self.plan, self.jira_load)


class SyncReportOperator(SyncStepOperator):
    """Counts per direction and API calls against the protocol minimum; emits the Asset events (give it
    `outlets`); removes this DAG's run folders older than the retention period.

    :param steps: the outputs of the steps to report on, by step name (REPORTED_STEPS; `plan` required),
        e.g. `{"plan": plan.output, "load_jira": load_j.output, ...}`
    """

    inputs = ("steps",)
    steps: dict[str, Any]

    def check_input(self, name: str, value: Any) -> None:
        super().check_input(name, value)
        if not isinstance(value, dict):
            raise TypeError(f"{type(self).__name__}: `steps` must be a dict of step name -> that step's output "
                            f"(names: {', '.join(REPORTED_STEPS)}), got {type(value).__name__}")
        unknown = sorted(set(value) - set(REPORTED_STEPS))
        if unknown or "plan" not in value:
            raise ValueError(f"{type(self).__name__}: `steps` names {', '.join(unknown) or 'no plan'}; the steps "
                             f"it reports on are {', '.join(REPORTED_STEPS)} (`plan` required)")
        for step, output in value.items():
            super().check_input(f"steps[{step!r}]", output)

    def windows_read(self) -> list[dict[str, Any]]:
        return [out["window"] for out in self.steps.values() if isinstance(out, dict) and out.get("window")]

    def plan_output(self) -> dict[str, Any]:
        return dict(self.steps.get("plan") or {})

    def step(self, run: SyncRun) -> dict[str, Any]:
        from sfjira.sync.report import build_report, format_summary  # local import: keeps DAG parsing fast

        summary = build_report(run, {name: dict(out or {}) for name, out in self.steps.items()})
        print(f"SFJIRA SUMMARY {run.name}: {format_summary(summary)}")
        remove_old_runs(run.dag_id, run.airflow_run_id)
        return summary
