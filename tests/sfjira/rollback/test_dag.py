"""No servers: the rollback DAG's shape and Params, and the run's input checks."""

from __future__ import annotations

import pytest

from sfjira.dag_factory import rollback_dag
from sfjira.exceptions import SfJiraError
from sfjira.mapping import load_mapping
from sfjira.rollback.run import RollbackRun, no_window
from tests.sfjira.mapping.conftest import SHIPPED


def test_a_triggered_only_dag_that_plans_then_restores_and_dry_runs_by_default() -> None:
    dag = rollback_dag(load_mapping(SHIPPED / "case_to_bug.yaml"))
    assert dag.dag_id == "sfjira_rollback__case_to_bug"
    assert type(dag.timetable).__name__ == "NullTimetable", "triggered only, never scheduled"
    assert {k: dag.params[k] for k in ("dry_run", "created")} == {"dry_run": True, "created": "keep"}
    assert dag.params.get_param("run").schema == {"type": "string", "minLength": 1}, "asked for, no default"
    assert {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks} == {"plan": [], "restore": ["plan"]}


def _run(**kwargs: str) -> RollbackRun:
    return RollbackRun(mapping_file=str(SHIPPED / "case_to_bug.yaml"), dag_id="d", airflow_run_id="r",
                       window=no_window(), **kwargs)  # type: ignore[arg-type]


def test_a_rollback_needs_a_run_and_a_known_created_policy() -> None:
    with pytest.raises(SfJiraError, match="ROLLBACK_RUN_UNKNOWN"):
        _run(target=" ")
    with pytest.raises(SfJiraError, match="ROLLBACK_POLICY_INVALID.*delete, label, keep"):
        _run(target="manual__1", created="burn")
    assert _run(target="manual__1").cause == "rollback"
