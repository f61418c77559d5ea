"""Reconciliation: a full two-sided compare with a field-level drift report (issue 6).

    compare(mapping, sf_frame, jira_frame, links, *, synced_state=None, user_map=None) -> DriftResult
    write_report(result, folder, *, history=None, ...) -> ReportPaths      JSON + CSV + one HTML file
    heal_plan(result, mapping) -> HealPlan          what the sync's plan/load must re-process, and why not
    in_scope_links(links, sf_frame, jira_frame) / counterparts(...)        helpers for a since-date scope
"""

from __future__ import annotations

from sfjira.reconcile.compare import compare
from sfjira.reconcile.result import (
    CATEGORIES,
    CONFLICT_PENDING,
    DRIFT_COLUMNS,
    DUPLICATE,
    FIELD_MISMATCH,
    MISSING_IN_JIRA,
    MISSING_IN_SALESFORCE,
    ORPHAN_LINK,
    DriftLimitExceeded,
    DriftResult,
)

__all__ = ["CATEGORIES", "CONFLICT_PENDING", "DRIFT_COLUMNS", "DUPLICATE", "FIELD_MISMATCH", "MISSING_IN_JIRA",
           "MISSING_IN_SALESFORCE", "ORPHAN_LINK", "DriftLimitExceeded", "DriftResult", "compare"]
