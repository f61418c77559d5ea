"""`sfjira_reconcile__<mapping name>`: the full two-sided compare of one mapping, daily and on demand.

    extract_salesforce ─┐
                        ├─> compare ─> check_drift_limit ─> heal
    extract_jira ───────┘

Params of a manual run: `scope` ("all" or "YYYY-MM-DD": records changed since that day, UTC),
`auto_heal` (send the healable drift through the sync's plan/load) and `fail_on_drift_above` (fail
the run when drift rows exceed it). The limit is checked after the reports are written and BEFORE
healing: drift that large is more likely a broken mapping or connection than edits, so it is not
healed blindly.
"""

from __future__ import annotations

from airflow.sdk import DAG, Asset, Param

from sfjira.mapping import Mapping
from sfjira.reconcile.run import SCOPE_ALL, SCOPE_PATTERN

RECONCILE_SCHEDULE = "0 3 * * *"  # daily at 03:00 UTC, off the business hours of most orgs


def drift_asset(mapping: Mapping) -> Asset:
    return Asset(name=f"sfjira.{mapping.name}.drift", uri=f"sfjira://{mapping.name}/drift")


def reconcile_params() -> dict[str, Param]:
    return {
        "scope": Param(SCOPE_ALL, type="string", pattern=SCOPE_PATTERN,
                       description='"all", or a date YYYY-MM-DD: only records changed since that day (UTC)'),
        "auto_heal": Param(False, type="boolean",
                           description="Repair the healable drift through the sync's own plan and load"),
        "fail_on_drift_above": Param(None, type=["null", "integer"], minimum=0,
                                     description="Fail the run when drift rows exceed this count (empty: off)"),
    }


def reconcile_dag(mapping: Mapping) -> DAG:
    # Imported here: dag_factory builds this DAG, so a module-level import would be circular.
    from sfjira.dag_factory import JIRA_POOL, SALESFORCE_POOL, mapping_dag
    from sfjira.operators.reconcile import (
        CompareOperator,
        DriftLimitOperator,
        HealOperator,
        ReconcileExtractJiraOperator,
        ReconcileExtractSalesforceOperator,
    )

    common = {"mapping_file": str(mapping.source_file)}
    with mapping_dag(mapping, "reconcile", RECONCILE_SCHEDULE, doc_md=_doc(mapping),
                     params=reconcile_params()) as dag:
        ex_sf = ReconcileExtractSalesforceOperator(task_id="extract_salesforce", pool=SALESFORCE_POOL, **common)
        ex_j = ReconcileExtractJiraOperator(task_id="extract_jira", pool=JIRA_POOL, **common)
        compare = CompareOperator(task_id="compare", outlets=[drift_asset(mapping)], **common)
        limit = DriftLimitOperator(task_id="check_drift_limit", **common)
        heal = HealOperator(task_id="heal", max_active_tis_per_dag=1, **common)
        [ex_sf, ex_j] >> compare >> limit >> heal
    return dag


def _doc(mapping: Mapping) -> str:
    return (f"### sfjira reconciliation: `{mapping.name}`\n\n"
            f"Every record of Salesforce `{mapping.salesforce.object}` and every issue of Jira "
            f"`{mapping.jira.project}/{mapping.jira.issue_type}` in scope, compared field by field. Reports "
            "(drift.json, drift.csv, drift_report.html) land in the run folder under SFJIRA_STORAGE.\n\n"
            "Params: `scope` (\"all\" or YYYY-MM-DD), `auto_heal` (repair through the sync's plan/load), "
            "`fail_on_drift_above` (fail the run above this many drift rows; checked before healing).")
