"""The Airflow import error of broken sfjira mapping files (no DAG is defined here).

Each problem reads `file:line: field `path`: [CODE] message -- fix: ...`. Kept apart from
sfjira_dags.py because Airflow marks every DAG of a file with an import error stale: the valid
mappings' DAGs must keep running while a broken one is shown.
"""

from __future__ import annotations

from pathlib import Path

from sfjira.dag_factory import raise_mapping_problems

raise_mapping_problems(Path(__file__).resolve().parent)
