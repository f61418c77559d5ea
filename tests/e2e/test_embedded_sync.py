"""A team embeds a mapping's sync in its own DAG (`sync_task_group`) between tasks of its own: a real
`dag.test()` run against the emulators syncs as the sync DAG does, and a second run writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.world import REPO, World, make_cases

GROUP = "crm"
TEAM_DAG = '''
from airflow.sdk import DAG, CronDataIntervalTimetable, task

from sfjira import sync_params, sync_task_group
from sfjira.dag_factory import start_date_of
from sfjira.mapping import load_mapping

mapping = load_mapping({path!r})
with DAG("team_nightly", schedule=CronDataIntervalTimetable(mapping.schedule, timezone="UTC"),
         start_date=start_date_of(mapping), catchup=False, params=sync_params()) as dag:

    @task
    def prepare() -> str:
        return "ready"

    @task
    def notify(ready: str) -> str:
        return f"{{ready}}, synced"

    ready = prepare()
    ready >> sync_task_group(mapping, group_id={group!r}) >> notify(ready)
'''


def _team_dag(world: World, name: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The team's DAG file in a DAG bundle of its own (dag.test() runs only DAGs a bundle holds)."""
    from airflow.dag_processing.dagbag import DagBag

    folder.mkdir()
    (folder / "team_nightly.py").write_text(TEAM_DAG.format(path=str(world.mappings_dir / f"{name}.yaml"),
                                                            group=GROUP))
    local = "airflow.dag_processing.bundles.local.LocalDagBundle"
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([
        {"name": "dags-folder", "classpath": local, "kwargs": {"path": str(REPO / "dags")}},
        {"name": "team", "classpath": local, "kwargs": {"path": str(folder)}}]))
    bag = DagBag(dag_folder=str(folder))
    assert bag.import_errors == {}
    return bag.dags["team_nightly"]


def test_an_embedded_sync_runs_between_the_teams_own_tasks(world: World, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    world.variant("case_to_bug", "team_cases")
    cases = make_cases(world.sf, 4)
    dag = _team_dag(world, "team_cases", tmp_path / "team_dags", monkeypatch)

    first = world.run("team_cases", dag=dag)

    assert set(first.task_states.values()) == {"success"} and len(first.task_states) == 9, first.task_states
    assert world.xcom(first, "notify") == "ready, synced"
    report = world.xcom(first, f"{GROUP}.report")
    assert report["sf_to_jira"]["created"] == 4 and report["mapping"] == "team_cases"
    links = world.store.links("team_cases")
    assert set(links["sf_id"]) == set(cases) and set(links["state"]) == {"active"}
    keys = {r["Id"]: r["Jira_Key__c"] for r in world.sf.query("SELECT Id, Jira_Key__c FROM Case")}
    assert keys == dict(zip(links["sf_id"], links["jira_key"], strict=True))
    # The group's files are in a folder of its own inside the run folder.
    assert (first.folder / GROUP / "plan_diff.md").is_file()
    assert list((first.folder / GROUP / "transform_salesforce_frame").glob("part-*.parquet"))  # a part per bucket
    assert not (first.folder / "plan_diff.md").exists()
    assert first.summary["status"] == "success"

    world.clear_calls()
    world.run("team_cases", dag=dag)
    assert world.writes() == {"salesforce": {}, "jira": {}}
