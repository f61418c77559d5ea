"""An Airflow DAG bundle for the reconciliation e2e tests: dag.test() runs only DAGs a bundle defines, and until
dags/sfjira_dags.py builds the reconciliation DAGs (dag_factory.build_dags) this file does, for the
mappings in SFJIRA_MAPPINGS_DIR. Once the dags folder has them, it defines nothing (no id twice)."""

from __future__ import annotations

from pathlib import Path

from sfjira.dag_factory import build_dags, mappings_dir
from sfjira.mapping import load_all
from sfjira.reconcile.dag import reconcile_dag

_REPO_DAGS = Path(__file__).resolve().parents[3] / "dags"

if not any(dag_id.startswith("sfjira_reconcile__") for dag_id in build_dags(_REPO_DAGS)):
    for _mapping in load_all(mappings_dir(_REPO_DAGS)):
        _dag = reconcile_dag(_mapping)
        globals()[_dag.dag_id] = _dag
