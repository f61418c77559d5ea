"""Reconciliation: a full two-sided compare with a field-level drift report (issue 6).

    compare(mapping, sf_frame, jira_frame, links, *, synced_state=None, user_map=None) -> DriftResult
    write_report(result, mapping, folder, *, history=None, run_id=None) -> ReportPaths   JSON + CSV + one HTML
    heal_plan(result, mapping) -> HealPlan       what the sync's plan/load must re-process, and why not the rest
    in_scope_links(links, sf_frame, jira_frame) / counterparts(mapping, links, sf_frame, jira_frame)
                                                 helpers for a "changed since a date" scope
"""

from __future__ import annotations

from sfjira.reconcile.compare import compare
from sfjira.reconcile.heal import HealPlan, heal_plan
from sfjira.reconcile.report import ReportPaths, write_report
from sfjira.reconcile.result import (
    CATEGORIES,
    CONFLICT_PENDING,
    DELETE_UNAPPLIED,
    DRIFT_COLUMNS,
    DUPLICATE,
    FIELD_MISMATCH,
    MISSING_IN_JIRA,
    MISSING_IN_SALESFORCE,
    ORPHAN_LINK,
    DriftLimitExceeded,
    DriftResult,
    ReconcileInputError,
)
from sfjira.reconcile.scope import Counterparts, counterparts, in_scope_links

__all__ = ["CATEGORIES", "CONFLICT_PENDING", "DELETE_UNAPPLIED", "DRIFT_COLUMNS", "DUPLICATE", "FIELD_MISMATCH",
           "MISSING_IN_JIRA", "MISSING_IN_SALESFORCE", "ORPHAN_LINK", "Counterparts", "DriftLimitExceeded", "DriftResult", "HealPlan",
           "ReconcileInputError", "ReportPaths", "compare", "counterparts", "heal_plan", "in_scope_links", "write_report"]
