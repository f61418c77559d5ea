"""Airflow DAGs: one sync DAG and one reconciliation DAG per valid mapping file in include/mappings/.

A broken mapping file adds no DAG here and never fails this file (that would stop every mapping's
DAGs): its problems are the import error of sfjira_mapping_errors.py beside this file.
"""

from __future__ import annotations

from pathlib import Path

from sfjira.dag_factory import build_dags

globals().update(build_dags(Path(__file__).resolve().parent)[0])
