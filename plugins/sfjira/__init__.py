"""sfjira: two-way Salesforce <-> Jira sync for Apache Airflow 3 (plugins/ is on Airflow's sys.path)."""

from __future__ import annotations

__version__ = "0.1.0"
