"""The sync operators' wiring: inputs are other steps' outputs (XComArgs), which set the dependencies,
are validated when the DAG is built and are rendered into the values the steps read."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest
from airflow.sdk import DAG, TaskGroup

from sfjira.operators.reconcile import CompareOperator, HealOperator
from sfjira.operators.step import StepOperator
from sfjira.operators.sync import (
    REPORTED_STEPS,
    ExtractJiraOperator,
    ExtractSalesforceOperator,
    LoadJiraOperator,
    LoadSalesforceOperator,
    PlanOperator,
    SyncReportOperator,
    TransformOperator,
)

COMMON = {"mapping_file": "include/mappings/opportunity_to_epic.yaml"}
START = pendulum.datetime(2026, 1, 1, tz="UTC")


class XComs:
    """Airflow's task instance as XComArg.resolve uses it: the XCom each upstream task returned."""

    _upstream_map_indexes: dict[str, Any] = {}

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def xcom_pull(self, task_ids: str, key: str, default: Any, map_indexes: Any) -> Any:
        return self.values[task_ids]


def _extracts() -> tuple[ExtractSalesforceOperator, ExtractJiraOperator]:
    return (ExtractSalesforceOperator(task_id="extract_salesforce", **COMMON),
            ExtractJiraOperator(task_id="extract_jira", **COMMON))


def test_inputs_given_as_outputs_are_the_dependencies() -> None:
    with DAG("wiring", schedule=None, start_date=START):
        ex_sf, ex_j = _extracts()
        tr = TransformOperator(task_id="transform", salesforce=ex_sf.output, jira=ex_j.output, **COMMON)
        plan = PlanOperator(task_id="plan", salesforce=ex_sf.output, jira=ex_j.output, transformed=tr.output,
                            **COMMON)
        load_j = LoadJiraOperator(task_id="load_jira", plan=plan.output, **COMMON)
        load_sf = LoadSalesforceOperator(task_id="load_salesforce", plan=plan.output, jira_load=load_j.output,
                                         **COMMON)
        report = SyncReportOperator(task_id="report", steps={"plan": plan.output, "load_salesforce": load_sf.output},
                                    **COMMON)
    assert tr.upstream_task_ids == {"extract_salesforce", "extract_jira"}
    assert plan.upstream_task_ids == {"extract_salesforce", "extract_jira", "transform"}
    assert load_j.upstream_task_ids == {"plan"}
    assert load_sf.upstream_task_ids == {"plan", "load_jira"}
    assert report.upstream_task_ids == {"plan", "load_salesforce"}


def test_inputs_are_template_fields_of_each_step() -> None:
    base = ("mapping_file", "salesforce_conn_id", "jira_conn_id", "state_conn_id")
    assert ExtractSalesforceOperator.template_fields == base
    assert PlanOperator.template_fields == (*base, "salesforce", "jira", "transformed")
    assert LoadSalesforceOperator.template_fields == (*base, "plan", "jira_load")
    assert SyncReportOperator.template_fields == (*base, "steps")
    assert CompareOperator.template_fields == (*base, "salesforce", "jira")
    # One base for the sync's and the reconciliation's steps.
    assert issubclass(PlanOperator, StepOperator) and issubclass(HealOperator, StepOperator)


def test_rendering_hands_the_step_its_inputs_values_untemplated() -> None:
    with DAG("render", schedule=None, start_date=START):
        ex_sf, ex_j = _extracts()
        tr = TransformOperator(task_id="transform", salesforce=ex_sf.output, jira=ex_j.output, **COMMON)
        plan = PlanOperator(task_id="plan", salesforce=ex_sf.output, jira=ex_j.output, transformed=tr.output,
                            **COMMON)
        report = SyncReportOperator(task_id="report", steps={"plan": plan.output, "transform": tr.output},
                                    mapping_file="{{ params.folder }}/m.yaml")
    # A value read from a system is data: a path that looks like Jinja is not rendered again.
    outputs = {"extract_salesforce": {"records": "/runs/{{ oops }}.parquet", "window": {"since": "a"}},
               "extract_jira": {"issues": "/runs/j.parquet"}, "transform": {"salesforce": {"frame": "f"}},
               "plan": {"state_run": "run#2", "window": {"since": "w"}}}
    context: Any = {"ti": XComs(outputs), "params": {"folder": "/maps"}}
    plan.render_template_fields(context)
    assert plan.salesforce == outputs["extract_salesforce"] and plan.transformed == outputs["transform"]
    assert plan.windows_read() == [{"since": "a"}] and plan.plan_output() == {}
    report.render_template_fields(context)
    assert report.mapping_file == "/maps/m.yaml"
    assert report.steps == {"plan": outputs["plan"], "transform": outputs["transform"]}
    assert report.plan_output()["state_run"] == "run#2" and report.windows_read() == [{"since": "w"}]


def test_a_missing_input_names_the_inputs_the_step_takes() -> None:
    with DAG("missing", schedule=None, start_date=START):
        ex_sf, _ = _extracts()
        with pytest.raises(TypeError, match=r"missing input\(s\) jira_load; it takes plan, jira_load"):
            LoadSalesforceOperator(task_id="load_salesforce", plan=ex_sf.output, **COMMON)


def test_an_input_that_is_not_an_output_is_refused() -> None:
    with DAG("bad", schedule=None, start_date=START), \
            pytest.raises(TypeError, match=r"input `plan` must be another step's output.*got str 'plan'"):
        LoadJiraOperator(task_id="load_jira", plan="plan", **COMMON)


@pytest.mark.parametrize(("steps", "message"), [
    ({"load_jira": {}}, "names no plan"),
    ({"plan": {}, "loadjira": {}}, "names loadjira; the steps it reports on are extract_salesforce"),
])
def test_report_steps_are_named_from_the_known_steps(steps: dict[str, Any], message: str) -> None:
    with DAG("report", schedule=None, start_date=START), pytest.raises(ValueError, match=message):
        SyncReportOperator(task_id="report", steps=steps, **COMMON)
    assert "plan" in REPORTED_STEPS


def test_an_empty_connection_id_is_refused() -> None:
    with DAG("conn", schedule=None, start_date=START), \
            pytest.raises(ValueError, match="jira_conn_id must be a non-empty string"):
        ExtractJiraOperator(task_id="extract_jira", jira_conn_id=" ", **COMMON)


def test_a_step_in_a_task_group_names_its_group() -> None:
    with DAG("grouped", schedule=None, start_date=START):
        plain, _ = _extracts()
        with TaskGroup("crm"):
            grouped = ExtractSalesforceOperator(task_id="extract_salesforce", **COMMON)
    assert plain.group is None
    assert grouped.task_id == "crm.extract_salesforce" and grouped.group == "crm"


def test_a_manual_run_without_a_logical_date_reads_the_interval_that_ends_when_it_was_asked_for() -> None:
    import datetime as dt
    from types import SimpleNamespace

    from sfjira.operators.sync import with_interval

    asked = dt.datetime(2026, 11, 29, 15, 7, 30, tzinfo=dt.UTC)
    context = {"data_interval_start": None, "data_interval_end": None, "dag_run": SimpleNamespace(run_after=asked)}
    with_interval(context, "*/10 * * * *")
    assert (context["data_interval_start"], context["data_interval_end"]) == (
        dt.datetime(2026, 11, 29, 15, 0, tzinfo=dt.UTC), asked)
    given = {"data_interval_start": asked - dt.timedelta(hours=1), "data_interval_end": asked}
    with_interval(given, "*/10 * * * *")
    assert given["data_interval_start"] == asked - dt.timedelta(hours=1), "a run with an interval keeps it"


def test_an_event_run_reads_the_interval_that_ends_when_it_started() -> None:
    """Airflow stamps an asset-triggered run's run_after with the first of the events it consumes; the
    later ones' changes happened before the run started, which is where its window ends."""
    import datetime as dt
    from types import SimpleNamespace

    from sfjira.operators.sync import with_interval

    first_event = dt.datetime(2026, 11, 29, 15, 7, 30, tzinfo=dt.UTC)
    started = first_event + dt.timedelta(seconds=40)  # queued behind the previous run meanwhile
    run = SimpleNamespace(run_after=first_event, start_date=started, run_type="asset_triggered")
    context = {"data_interval_start": None, "data_interval_end": None, "dag_run": run}
    with_interval(context, "*/10 * * * *")
    assert (context["data_interval_start"], context["data_interval_end"]) == (
        dt.datetime(2026, 11, 29, 15, 0, tzinfo=dt.UTC), started)
