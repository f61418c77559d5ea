"""What a reconciliation found: one row per drift, and the counts the trend and the threshold use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sfjira.exceptions import SfJiraError

MISSING_IN_JIRA = "missing_in_jira"
MISSING_IN_SALESFORCE = "missing_in_salesforce"
ORPHAN_LINK = "orphan_link"
DELETE_UNAPPLIED = "delete_unapplied"
DUPLICATE = "duplicate"
FIELD_MISMATCH = "field_mismatch"
CONFLICT_PENDING = "conflict_pending"
IDENTITY_REFUSED = "identity_refused"
CATEGORIES = (MISSING_IN_JIRA, MISSING_IN_SALESFORCE, ORPHAN_LINK, DELETE_UNAPPLIED, DUPLICATE, FIELD_MISMATCH,
              CONFLICT_PENDING, IDENTITY_REFUSED)
FIELD_CATEGORIES = (FIELD_MISMATCH, CONFLICT_PENDING)

# How record-level details begin (heal reads which side is gone or doubled from them).
ISSUE_GONE = "the linked Jira issue "
RECORD_GONE = "the linked Salesforce record "
ISSUE_CARRIES = "carries Salesforce id"
UNAPPLIED_SF_DELETED = "the Salesforce record was deleted and the link settled"
UNAPPLIED_JIRA_DELETED = "the Jira issue was deleted and the link settled"

# `owner`: who owns the field by the mapping (salesforce | jira | latest); `winner`: the side whose value
# the sync's owner rules keep for this row (what a heal writes over the other side); both empty for
# record-level categories.
DRIFT_COLUMNS = ("category", "sf_id", "jira_key", "field", "sf_value", "jira_value", "owner", "winner", "detail")


class DriftLimitExceeded(SfJiraError):
    """`fail_on_drift_above` was set and the reconciliation found more drift than that."""

    code = "DRIFT_LIMIT_EXCEEDED"


class ReconcileInputError(SfJiraError):
    """compare() was given something it cannot read."""

    code = "RECONCILE_INPUT_INVALID"


def empty_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in DRIFT_COLUMNS})


@dataclass(frozen=True)
class DriftResult:
    """The outcome of `compare`.

    rows       one row per drift (DRIFT_COLUMNS), sorted by category order, sf_id, jira_key, field;
               values of PII fields are already masked
    fields     canonical keys of the fields compared
    rejects    transform rejects of both sides (the sync holds these records back; PII masked)
    """

    mapping: str
    rows: pd.DataFrame
    sf_records: int
    jira_issues: int
    pairs: int
    fields: tuple[str, ...]
    rejects: pd.DataFrame = field(default_factory=pd.DataFrame)
    rejected: int | None = None      # rejected records when `rejects` is not kept (a bucketed compare's total)

    def counts(self) -> dict[str, int]:
        """Every category with its count, zeros included (what the state store's trend keeps)."""
        found = self.rows["category"].value_counts()
        return {c: int(found.get(c, 0)) for c in CATEGORIES}

    @property
    def total(self) -> int:
        return len(self.rows)

    def by_field(self) -> pd.Series:
        """Drifting cells per field (field_mismatch + conflict_pending), most first."""
        cells = self.rows[self.rows["category"].isin(FIELD_CATEGORIES)]
        return cells["field"].value_counts().rename("drift")

    def summary(self, top: int = 5) -> dict[str, Any]:
        """JSON-safe and value-free (fit for the task log and XCom)."""
        return {"mapping": self.mapping, "total": self.total, "counts": self.counts(),
                "sf_records": self.sf_records, "jira_issues": self.jira_issues, "pairs": self.pairs,
                "fields_compared": len(self.fields),
                "top_fields": {str(k): int(v) for k, v in self.by_field().head(top).items()},
                "rejected_records": self.rejected if self.rejected is not None else
                int(self.rejects["record_id"].nunique()) if len(self.rejects) else 0}

    def check_limit(self, limit: int | None) -> None:
        """Raise DriftLimitExceeded when `limit` is set and the drift total is above it."""
        check_limit(self.mapping, self.counts(), limit)


def check_limit(mapping: str, counts: dict[str, int], limit: int | None) -> None:
    """Raise DriftLimitExceeded when `limit` is set and the drift rows counted are above it (from the
    counts alone: a run over its limit need not read its rows back)."""
    total = sum(counts.values())
    if limit is not None and total > limit:
        found = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        raise DriftLimitExceeded(
            f"mapping `{mapping}`: {total} drift rows exceed fail_on_drift_above={limit} ({found})",
            fix="read the drift report of this run; heal with auto_heal=true or raise the limit")
