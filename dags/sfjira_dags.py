"""Airflow DAGs: one sync DAG (and one reconciliation DAG) per mapping file in include/mappings/.

An invalid mapping file fails this import with its file:line, field and fix.
"""

from __future__ import annotations

from pathlib import Path

from sfjira.dag_factory import build_dags

globals().update(build_dags(Path(__file__).resolve().parent))
