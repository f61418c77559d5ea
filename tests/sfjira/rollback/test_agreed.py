"""After a rollback the agreed state is the before-image, hashed as the sync hashes the field's canonical
value: the same hash whichever side the before-image was read from, so the next sync finds a restored
field unchanged on both sides (the e2e test shows it carrying a person's later edit across)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pandas as pd

from sfjira.mapping import load_mapping
from sfjira.pii import PiiProtection
from sfjira.rollback.agreed import before_cells
from sfjira.transform import canonical_values
from tests.e2e.world import SHIPPED_MAPPINGS

MAPPING = load_mapping(SHIPPED_MAPPINGS / "case_to_bug.yaml")


def _run() -> Any:
    return cast(Any, SimpleNamespace(mapping=MAPPING, pii=PiiProtection()))


def _sync_hash(key: str, **values: Any) -> str:
    """The hash the sync agrees on for `key` when Salesforce holds `values` (SF field -> value)."""
    frame = pd.DataFrame([dict.fromkeys(MAPPING.salesforce_columns()) | {"Id": "500A", **values}]).astype(object)
    canonical = canonical_values(MAPPING, frame, "salesforce").frame
    return str(PiiProtection().field_hashes(canonical[[key]])[key].iloc[0])


def _action(side: str, sf_id: str, jira_key: str, field: str, before: Any, status: str = "restore") -> dict[str, Any]:
    return {"side": side, "sf_id": sf_id, "jira_key": jira_key, "field": field, "action": "update",
            "before": before, "after": "Web", "current": "Web", "status": status}


def test_before_images_are_hashed_as_the_sync_hashes_the_same_value_on_the_other_side() -> None:
    actions = pd.DataFrame([
        _action("jira", "500A", "SUP-1", "summary", "Case 0: printer on fire"),
        _action("jira", "500B", "SUP-2", "priority", "High", status="changed_since"),
        _action("salesforce", "500A", "SUP-1", "Description", "Line one\nline two", status="already"),
    ])
    cells = before_cells(_run(), actions)
    got = {(c.sf_id, c.field): c.hash for c in cells.itertuples()}
    assert got == {("500A", "Subject"): _sync_hash("Subject", Subject="Case 0: printer on fire"),
                   ("500B", "Priority"): _sync_hash("Priority", Priority="High"),
                   ("500A", "Description"): _sync_hash("Description", Description="Line one\nline two")}


def test_refused_unmapped_and_created_issue_fields_keep_their_agreed_state() -> None:
    actions = pd.DataFrame([
        _action("jira", "500A", "SUP-1", "summary", "Case 0"),
        _action("salesforce", "500A", "SUP-1", "Description", "kept", status="unmapped"),
        _action("jira", "500C", "SUP-3", "summary", "new issue", status="issue_kept"),
        _action("salesforce", "500A", "SUP-1", "Jira_Key__c", "SUP-1"),  # the key write-back: no synced field
        _action("salesforce", "500D", "SUP-4", "Subject", "refused"),
    ])
    cells = before_cells(_run(), actions, refused={("salesforce", "500D")})
    assert list(zip(cells["sf_id"], cells["field"], strict=True)) == [("500A", "Subject")]
