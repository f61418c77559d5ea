"""The one DAG builder: the sync DAG and a sync embedded in a DAG of one's own (`sync_task_group`) are
the same tasks with the same dependencies."""

from __future__ import annotations

import pendulum
import pytest
from airflow.sdk import DAG
from airflow.sdk.bases.operator import BaseOperator

from sfjira.dag_factory import events_asset, sync_dag, sync_params
from sfjira.mapping import load_mapping
from tests.sfjira.mapping.conftest import SHIPPED

START = pendulum.datetime(2026, 1, 1, tz="UTC")
SYNC_EDGES = {
    "extract_salesforce": set(), "extract_jira": set(),
    "transform": {"extract_salesforce", "extract_jira"},
    "plan": {"extract_salesforce", "extract_jira", "transform"},
    "load_jira": {"plan"},
    "load_salesforce": {"plan", "load_jira"},
    "report": {"extract_salesforce", "extract_jira", "transform", "plan", "load_jira", "load_salesforce"},
}


class Note(BaseOperator):
    """A team's own task."""

    def execute(self, context: object) -> None:
        return None


def _edges(dag: DAG, prefix: str = "") -> dict[str, set[str]]:
    return {t.task_id.removeprefix(prefix): {u.removeprefix(prefix) for u in t.upstream_task_ids}
            for t in dag.tasks if t.task_id.startswith(prefix)}


def test_the_sync_dag_has_the_promised_shape() -> None:
    dag = sync_dag(load_mapping(SHIPPED / "opportunity_to_epic.yaml"))
    assert _edges(dag) == SYNC_EDGES
    assert set(dag.params.keys()) == set(sync_params())


def test_a_sync_embeds_in_a_dag_of_ones_own_between_its_tasks() -> None:
    from sfjira import sync_task_group  # the public place

    with DAG("crm_nightly", schedule=None, start_date=START, params=sync_params()) as dag:
        before = Note(task_id="prepare")
        group = sync_task_group(SHIPPED / "opportunity_to_epic.yaml", salesforce_conn_id="sf_prod")
        after = Note(task_id="notify")
        before >> group >> after
    prefix = "sfjira_sync__opportunity_to_epic."
    assert group.group_id == prefix[:-1]
    assert _edges(dag, prefix) == {**SYNC_EDGES, "extract_salesforce": {"prepare"}, "extract_jira": {"prepare"}}
    assert dag.get_task("notify").upstream_task_ids == {prefix + "report"}
    assert {t.salesforce_conn_id for t in dag.tasks if t.task_id.startswith(prefix)} == {"sf_prod"}
    assert dag.get_task(prefix + "plan").group == prefix[:-1]


def test_two_mappings_embed_side_by_side_under_their_own_group_ids() -> None:
    from sfjira.dag_factory import sync_task_group

    mapping = load_mapping(SHIPPED / "opportunity_to_epic.yaml")
    with DAG("two", schedule=None, start_date=START) as dag:
        sync_task_group(mapping, group_id="eu")
        sync_task_group(mapping, group_id="us")
    assert _edges(dag, "eu.") == SYNC_EDGES and _edges(dag, "us.") == SYNC_EDGES


def test_a_broken_mapping_path_fails_where_the_dag_is_built(tmp_path) -> None:  # noqa: ANN001
    from sfjira.dag_factory import sync_task_group
    from sfjira.exceptions import MappingError

    with DAG("broken", schedule=None, start_date=START), pytest.raises(MappingError):
        sync_task_group(tmp_path / "missing.yaml")


def test_the_sync_reads_the_mappings_events_asset() -> None:
    """The webhook receiver records events on `sfjira://<name>/events`; an inlet of the extract steps is what
    makes Airflow create that asset in its database (sfjira.webhooks needs it to exist)."""
    mapping = load_mapping(SHIPPED / "opportunity_to_epic.yaml")
    dag = sync_dag(mapping)
    expected = events_asset(mapping.name)
    assert expected.uri == f"sfjira://{mapping.name}/events"
    for task_id in ("extract_salesforce", "extract_jira"):
        assert dag.get_task(task_id).inlets == [expected]


def test_the_sync_dag_runs_on_its_cron_or_an_event_and_one_run_at_a_time() -> None:
    """Near-real-time (issue 15.5): the receiver's events start runs; the cron stays as the safety net.
    The serialized form is what the scheduler reads, so it is checked through it."""
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.assets import AssetOrTimeSchedule
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.interval import CronDataIntervalTimetable
    from airflow.utils.types import DagRunType

    mapping = load_mapping(SHIPPED / "opportunity_to_epic.yaml")
    dag = DagSerialization.from_dict(DagSerialization.to_dict(sync_dag(mapping)))
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    assert isinstance(dag.timetable.timetable, CronDataIntervalTimetable)
    assert dag.timetable.timetable._expression == mapping.schedule == "*/15 * * * *"
    assert [a.uri for _, a in dag.timetable.asset_condition.iter_assets()] == \
        [events_asset(mapping.name).uri]
    assert dag.max_active_runs == 1  # what makes a burst of events coalesce (queued while a run is on)
    # Scheduled runs keep their intervals and run ids: the cron's own.
    restriction = TimeRestriction(earliest=START, latest=None, catchup=False)
    info = dag.timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert info == dag.timetable.timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert info is not None and info.data_interval.end - info.data_interval.start == pendulum.duration(minutes=15)
    ids = {kind: dag.timetable.generate_run_id(run_type=kind, run_after=info.run_after,
                                               data_interval=info.data_interval) for kind in DagRunType}
    assert ids[DagRunType.SCHEDULED] == dag.timetable.timetable.generate_run_id(
        run_type=DagRunType.SCHEDULED, run_after=info.run_after, data_interval=info.data_interval)
    assert ids[DagRunType.ASSET_TRIGGERED].startswith("asset_triggered__")
    # Backfills (and the re-sync code around them) still see the cron's intervals.
    assert dag.timetable.periodic
    begin = pendulum.datetime(2026, 11, 29, 15, 0, tz="UTC")
    assert [(i.data_interval.start.minute, i.data_interval.end.minute)
            for i in dag.iter_dagrun_infos_between(begin, begin.add(minutes=30))] == [(0, 15), (15, 30), (30, 45)]


def test_a_run_under_way_outranks_the_extracts_of_runs_still_waiting() -> None:
    """The scheduler's weights, computed from the serialized DAG as the scheduler does: each task of a
    run outranks every task before it, so a backfill's lease holder gets the next free slot."""
    from types import SimpleNamespace

    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.task.priority_strategy import validate_and_load_priority_weight_strategy

    dag = DagSerialization.from_dict(DagSerialization.to_dict(sync_dag(load_mapping(SHIPPED / "case_to_bug.yaml"))))
    weight = {t.task_id: validate_and_load_priority_weight_strategy(t.weight_rule).get_weight(SimpleNamespace(task=t))
              for t in dag.tasks}
    for task_id, upstream in SYNC_EDGES.items():
        assert all(weight[task_id] > weight[u] for u in upstream), (task_id, weight)
    assert max(weight["extract_salesforce"], weight["extract_jira"]) < weight["transform"]
