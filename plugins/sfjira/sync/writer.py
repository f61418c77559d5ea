"""One writer per mapping, for the steps that write: `@one_writer` holds the mapping's writer lease
(sfjira.state.lease) around a load or a heal.

Each load task takes the lease for itself rather than one lease spanning load_jira and load_salesforce:
a load re-reads the links and intents it acts on once it holds the lease (a record another writer linked
meanwhile is not created again), and a lease held between two tasks would have no process renewing it.
A heal holds it across its state preparation and the loads it calls, which run under that same lease
(re-entrant: same store, mapping and holder). A dry run writes nothing and takes no lease.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sfjira import settings
from sfjira.state.lease import holder_name, writer_lease
from sfjira.sync.run import SyncRun

P = ParamSpec("P")
R = TypeVar("R")


def task_name(run: SyncRun) -> str:
    """`dag_id/run_id/task_id try n` of the running Airflow task; `dag_id/run_id` outside one (a test, the CLI)."""
    from airflow.sdk import get_current_context

    try:
        ti = get_current_context()["ti"]
    except RuntimeError:  # not inside an Airflow task
        return f"{run.dag_id}/{run.airflow_run_id}"
    return f"{ti.dag_id}/{ti.run_id}/{ti.task_id} try {ti.try_number}"


def one_writer(when: Callable[[Any], bool] = lambda run: True) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated step (first argument: its SyncRun) holding its mapping's writer lease, unless the
    run is a dry run or `when(run)` is false."""
    def decorate(step: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(step)
        def held(*args: P.args, **kwargs: P.kwargs) -> R:
            run = args[0]
            assert isinstance(run, SyncRun)
            if run.dry_run or not when(run):
                return step(*args, **kwargs)
            task = task_name(run)
            with writer_lease(run.state, run.name, holder_name(task), task=task,
                              ttl=settings.get_float("writer_lease_seconds"),
                              wait=settings.get_float("writer_lease_wait_seconds")):
                return step(*args, **kwargs)
        return held
    return decorate
