"""One writer per mapping, for the DAG runs that write: `@one_writer` runs a step holding its mapping's
writer lease (sfjira.state.lease), held by the DAG run (`dag_id/run_id`) rather than by one task.

A sync run holds it from its extracts to its last load, not only around each load: a plan is made from
extracts and the state store together, and a load writes what its plan decided. Had another writer's
load run between this run's extract and its plan, the plan would see the other's new agreed values next
to extracts older than them, take the stale side for a change and write it back -- a lost update (seen in
the e2e test of two overlapping runs with the lease around the loads alone). So `extract_*`, `transform`,
`plan` and `load_jira` take the lease and keep it for the run's next task (`keep`: it lapses after the TTL if no
task of the run takes it again, e.g. the run was stopped), and `load_salesforce` releases it; a task
failing with a terminal error, or on its last try, releases it too, as no later task of its run comes. A reconciliation with
auto_heal holds it in the same way from its extracts through the heal (whose plan and loads run under
it: the lease is re-entrant for its holder within a process). Dry runs and reconciliations without
auto_heal write nothing and take no lease.

The TTL must cover the scheduler's pause between two tasks of a run (seconds, normally); if it lapses
and another writer takes the lease meanwhile, the next task simply waits for it.
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
        return run_holder(run)
    return f"{ti.dag_id}/{ti.run_id}/{ti.task_id} try {ti.try_number}"


def _last_try() -> bool:
    """Is the running Airflow task on its last try (True outside a task: nothing retries it)?"""
    from airflow.sdk import get_current_context

    try:
        context = get_current_context()
    except RuntimeError:
        return True
    return int(context["ti"].try_number) > int(context["task"].retries or 0)


def run_ended(holder: str) -> bool:
    """Has the DAG run holding a lease ended (success or failed)? Its lease is then free at once, instead of
    after its TTL: a run whose last task failed with the lease kept by a parallel task left it behind."""
    from airflow.sdk import get_current_context

    dag_id, sep, run_id = holder.partition("/")
    if not sep:
        return False
    try:
        state = get_current_context()["ti"].get_dagrun_state(dag_id, run_id)
    except Exception:  # noqa: BLE001 - not in a task, or Airflow does not know that run: wait it out
        return False
    return str(state) in ("success", "failed")


def run_holder(run: SyncRun) -> str:
    """The lease holder: the DAG run, shared by its tasks (and their retries)."""
    return f"{run.dag_id}/{run.airflow_run_id}"


def one_writer(*, keep: bool = False, when: Callable[[Any], bool] = lambda run: True
               ) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated step (first argument: its SyncRun) holding its mapping's writer lease, unless the
    run is a dry run or `when(run)` is false. `keep`: leave the lease held for the run's next task."""
    def decorate(step: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(step)
        def held(*args: P.args, **kwargs: P.kwargs) -> R:
            run = args[0]
            assert isinstance(run, SyncRun)
            if run.dry_run or not when(run):
                return step(*args, **kwargs)
            holder = run_holder(run)
            try:
                with writer_lease(run.state, run.name, holder, task=holder_name(task_name(run)), keep=keep,
                                  finished=run_ended,
                                  ttl=settings.get_float("writer_lease_seconds"),
                                  wait=settings.get_float("writer_lease_wait_seconds")):
                    return step(*args, **kwargs)
            except Exception:
                if keep and _last_try():  # no retry comes back for it: let the next run in now
                    run.state.release_lease(run.name, holder)
                raise
        return held
    return decorate


def auto_heal(run: Any) -> bool:
    """A reconciliation writes only with auto_heal."""
    return bool(getattr(run, "auto_heal", False))
