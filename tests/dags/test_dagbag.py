"""Every DAG file in dags/ imports cleanly, and each mapping file yields its DAGs."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}


def test_smoke_dag_present(dagbag) -> None:
    assert "sfjira_smoke" in dagbag.dag_ids
