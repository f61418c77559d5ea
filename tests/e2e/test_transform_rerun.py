"""After fixing a mapping, clearing `transform` and what follows runs them again on the run's own
extracts: the record the transform rejected syncs, nothing is extracted again, and what synced
before is not written twice."""

from __future__ import annotations

from typing import Any

from tests.e2e.world import SQLITE_STATE_ONLY, STAGES, World, make_opportunities

pytestmark = [SQLITE_STATE_ONLY]

RERUN = ("transform", "plan", "load_jira", "load_salesforce", "report")


def _clear_and_run(dag: Any, dag_run: Any, task_ids: tuple[str, ...]) -> dict[str, tuple[str, int]]:
    """What clearing `task_ids` in Airflow does, then the scheduler: their task instances are cleared (the
    others keep their state and XComs) and run again in order, in process as `dag.test()` runs them.
    Returns every task's state and try number afterwards."""
    from airflow.models.taskinstance import clear_task_instances
    from airflow.sdk.definitions.dag import _run_task
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    with create_session() as session:
        clear_task_instances([ti for ti in dag_run.get_task_instances(session=session) if ti.task_id in task_ids],
                             session)
    with create_session() as session:
        for task_id in task_ids:
            ti = dag_run.get_task_instance(task_id, session=session)
            ti.try_number += 1  # as the scheduler does when it schedules the cleared task
            ti.state = TaskInstanceState.SCHEDULED
            session.commit()
            _run_task(ti=ti, task=dag.task_dict[task_id])
        return {ti.task_id: (str(ti.state), ti.try_number) for ti in dag_run.get_task_instances(session=session)}


def test_clearing_transform_after_a_mapping_fix_syncs_the_rejected_record(world: World) -> None:
    world.variant("opportunity_to_epic", "stage_fix", [("      Closed Lost: Closed Lost\n", "")])
    opps = dict(zip(STAGES, make_opportunities(world.sf, len(STAGES)), strict=True))
    first = world.run("stage_fix")
    assert world.xcom(first, "transform")["salesforce_rejects"] == 1
    assert list(world.store.rejects("stage_fix")["record_id"]) == [opps["Closed Lost"]]
    created = len(world.issues("project = DEL"))

    world.variant("opportunity_to_epic", "stage_fix")  # the fix: the stage is mapped again
    again = _clear_and_run(world.dag("stage_fix"), first.dag_run, RERUN)

    assert again == {"extract_salesforce": ("success", 1), "extract_jira": ("success", 1),
                     **dict.fromkeys(RERUN, ("success", 2))}, "only transform and what follows ran again"
    epics = {e["fields"]["customfield_10050"]: e["key"] for e in world.issues("project = DEL", "customfield_10050")}
    assert len(epics) == created + 1 and opps["Closed Lost"] in epics
    assert world.store.rejects("stage_fix").empty
    carried = {r["Id"]: r["Jira_Key__c"] for r in world.sf.query("SELECT Id, Jira_Key__c FROM Opportunity")}
    assert carried[opps["Closed Lost"]] == epics[opps["Closed Lost"]]
