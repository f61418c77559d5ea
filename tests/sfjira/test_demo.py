"""`make demo` keeps what `airflow dags test` printed of each DAG run (the tasks' logs: it runs them in its
own process) as one file per run under the demo's logs/ folder, and says where -- checked on the smoke DAG
(the whole demo takes minutes; its steps all go through the same `Demo.dags_test`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfjira.demo import Demo, start_emulators
from sfjira.local_airflow import LocalAirflowError, run_airflow


@pytest.mark.e2e
def test_each_dag_run_of_the_demo_leaves_its_task_log(tmp_path: Path) -> None:
    sf, jira = start_emulators(tmp_path)
    try:
        demo = Demo(tmp_path, sf, jira)
        run_airflow(demo.env, "db", "migrate", timeout=300)
        out, log = demo.dags_test("sfjira_smoke")
        with pytest.raises(LocalAirflowError, match="no_such_dag") as err:  # a failing run keeps its output too
            demo.dags_test("no_such_dag")
    finally:
        jira.stop()
        sf.stop()
    assert log == tmp_path / "logs" / "01-sfjira_smoke.log"
    kept = log.read_text()
    assert kept == out
    assert "[DAG TEST] starting task_id=count_salesforce_objects" in kept
    assert "SMOKE Account: 25" in kept  # the task's own output, from the demo's seeded Salesforce
    failed = tmp_path / "logs" / "02-no_such_dag.log"
    assert failed.read_text() and str(failed) in str(err.value)
