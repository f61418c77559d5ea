"""What Airflow's metadata database knows about sfjira's DAGs: which mappings have DAGs, each sync run's
task failures and retries, and the one way the dashboard acts -- creating a DAG run, as Airflow's own
trigger does.

This module runs inside the api-server (the dashboard is mounted there), the one Airflow component that
reads the metadata database for the UI; task code never imports it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from airflow.api.common.trigger_dag import trigger_dag
from airflow.models import DagModel, DagRun, TaskInstance
from airflow.models.taskinstancehistory import TaskInstanceHistory
from airflow.utils.session import create_session
from airflow.utils.types import DagRunTriggeredByType
from sqlalchemy import select

KINDS = ("sync", "reconcile", "rollback")
_DAG_ID = re.compile(r"^sfjira_(?P<kind>sync|reconcile|rollback)__(?P<mapping>.+)$")
# A try that ended in one of these counts as a failure, whether or not Airflow retried it.
FAILED_STATES = ("failed", "up_for_retry", "upstream_failed")


def dag_id(kind: str, mapping: str) -> str:
    """`sfjira_<kind>__<mapping>`, the DAG sfjira.dag_factory builds for the mapping."""
    return f"sfjira_{kind}__{mapping}"


def parse_dag_id(value: str) -> tuple[str, str] | None:
    """(kind, mapping) of an sfjira DAG id; None for any other DAG."""
    found = _DAG_ID.match(value)
    return (found["kind"], found["mapping"]) if found else None


def sfjira_dags() -> dict[str, dict[str, dict[str, Any]]]:
    """{mapping: {kind: {dag_id, is_paused}}} for every sfjira DAG Airflow currently has (not stale)."""
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    with create_session() as session:
        rows = session.execute(select(DagModel.dag_id, DagModel.is_paused)
                               .where(DagModel.dag_id.like("sfjira\\_%", escape="\\"), ~DagModel.is_stale))
        for found_id, paused in rows:
            parsed = parse_dag_id(found_id)
            if parsed is not None:
                out[parsed[1]][parsed[0]] = {"dag_id": found_id, "is_paused": bool(paused)}
    return dict(out)


def task_health(mapping: str, *, kind: str = "sync", limit: int = 30) -> list[dict[str, Any]]:
    """The newest `limit` DAG runs of the mapping's `kind` DAG, newest first, each with its tasks' failures
    and retries: `failed_tries` (every try that failed, retried or not), `failed_tasks` (tasks failed now)
    and `retried` ({task_id: tries} of the tasks that needed more than one)."""
    wanted = dag_id(kind, mapping)
    with create_session() as session:
        dag_runs = session.execute(
            select(DagRun.run_id, DagRun.state, DagRun.run_type, DagRun.logical_date, DagRun.start_date,
                   DagRun.end_date, DagRun.conf)
            .where(DagRun.dag_id == wanted).order_by(DagRun.run_after.desc()).limit(limit)).all()
        run_ids = [r.run_id for r in dag_runs]
        tries: dict[str, dict[str, int]] = defaultdict(dict)
        failed_now: dict[str, list[str]] = defaultdict(list)
        failed_tries: dict[str, int] = defaultdict(int)
        for run_id, task_id, state, try_number in session.execute(
                select(TaskInstance.run_id, TaskInstance.task_id, TaskInstance.state, TaskInstance.try_number)
                .where(TaskInstance.dag_id == wanted, TaskInstance.run_id.in_(run_ids))):
            tries[run_id][task_id] = max(tries[run_id].get(task_id, 0), int(try_number or 0))
            if state in FAILED_STATES:
                failed_now[run_id].append(task_id)
                failed_tries[run_id] += 1
        # Earlier tries live in the history table, one row per try that ended.
        for run_id, state in session.execute(
                select(TaskInstanceHistory.run_id, TaskInstanceHistory.state)
                .where(TaskInstanceHistory.dag_id == wanted, TaskInstanceHistory.run_id.in_(run_ids))):
            if state in FAILED_STATES:
                failed_tries[run_id] += 1
    return [{"run_id": r.run_id, "state": _text(r.state), "run_type": _text(r.run_type),
             "logical_date": _iso(r.logical_date), "start_date": _iso(r.start_date), "end_date": _iso(r.end_date),
             "conf": r.conf or {}, "failed_tasks": sorted(failed_now.get(r.run_id, [])),
             "failed_tries": failed_tries.get(r.run_id, 0),
             "retried": {t: n for t, n in sorted(tries.get(r.run_id, {}).items()) if n > 1}}
            for r in dag_runs]


def trigger(target_dag: str, conf: Mapping[str, Any], *, user: str, note: str) -> dict[str, Any]:
    """Create a manual DAG run of `target_dag` with `conf`, attributed to `user` and triggered from the UI:
    Airflow's own `trigger_dag` (what `airflow dags trigger` runs), which validates the conf against the
    DAG's Params and queues the run for the scheduler. Raises DagNotFound, or ValueError/ParamValidationError
    for a conf the DAG refuses.

    The run gets a logical date (now, to the microsecond so two actions in one second do not collide), as
    the UI's own Trigger dialog gives one: Airflow infers the data interval from it. Without one, Airflow 3
    creates a run with no data interval, and the sync's tasks, which read their window from it, fail."""
    now = dt.datetime.now(dt.UTC)
    run = trigger_dag(target_dag, triggered_by=DagRunTriggeredByType.UI, triggering_user_name=user,
                      conf=dict(conf), note=note, logical_date=now, run_after=now, replace_microseconds=False)
    if run is None:  # trigger_dag's signature allows it; it raises rather than return None today
        raise LookupError(f"Airflow created no run of {target_dag}")
    return {"dag_id": target_dag, "dag_run_id": run.run_id, "state": _text(run.state), "conf": run.conf or {},
            "note": note, "triggering_user_name": user}


def _text(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
