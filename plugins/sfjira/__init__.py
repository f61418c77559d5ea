"""sfjira: two-way Salesforce <-> Jira sync for Apache Airflow 3 (plugins/ is on Airflow's sys.path).

    from sfjira import sync_task_group     # a mapping's sync as a task group of your own DAG
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["sync_params", "sync_task_group"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        # local import: keeps `import sfjira` (the plugin, the CLI) from loading Airflow's DAG machinery
        from sfjira import dag_factory

        return getattr(dag_factory, name)
    raise AttributeError(f"module 'sfjira' has no attribute {name!r}")
