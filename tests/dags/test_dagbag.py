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


def test_a_mapping_with_pii_and_no_key_is_an_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.delenv("AIRFLOW_CONN_SFJIRA_CRYPTO", raising=False)
    bag = DagBag(dag_folder=str(REPO / "dags"))
    message = "\n".join(bag.import_errors.values())
    assert "case_to_bug.yaml" in message and "field `pii`: [PII_KEY_MISSING]" in message
    assert "airflow connections add sfjira_crypto" in message
    assert "sfjira_sync__case_to_bug" not in bag.dag_ids
