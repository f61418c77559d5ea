"""Smoke check: reach Salesforce through sfjira's hook and count the core objects.

Run it first against a new connection: if it prints counts, OAuth, TLS and SOQL all work.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

OBJECTS = ("Account", "Opportunity", "Case")

with DAG(
    dag_id="sfjira_smoke",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["sfjira", "smoke"],
    doc_md=__doc__,
) as dag:

    @task
    def count_salesforce_objects(salesforce_conn_id: str = "salesforce_default") -> dict[str, int]:
        from sfjira.hooks.salesforce import SalesforceSyncHook

        sf = SalesforceSyncHook(salesforce_conn_id=salesforce_conn_id).get_conn()
        counts = {obj: int(sf.query(f"SELECT COUNT() FROM {obj}")["totalSize"]) for obj in OBJECTS}
        for obj, n in counts.items():
            print(f"SMOKE {obj}: {n}")
        return counts

    count_salesforce_objects()
