"""A delete policy the sync applied and settled is no drift; the same link with the policy undone on the
surviving side (the issue moved back out of Done by hand, as if the walk never finished) is one
`delete_unapplied` row, which auto_heal applies again through the sync's own delete handling."""

from __future__ import annotations

import pytest

from tests.e2e.world import make_cases
from tests.e2e_reconcile.recon import Recon

pytestmark = pytest.mark.e2e

MAPPING = "case_to_bug"


def test_a_salesforce_delete_walked_back_out_of_done_is_delete_unapplied(recon: Recon) -> None:
    ids = make_cases(recon.sf, 2)
    recon.run(MAPPING)
    keys = recon.store.links(MAPPING).set_index("sf_id").loc[ids, "jira_key"].tolist()
    recon.sf.delete("Case", ids[0])
    recon.run(MAPPING)
    assert recon.issue(keys[0])["fields"]["status"]["name"] == "Done"
    assert recon.store.links(MAPPING).set_index("sf_id").loc[ids[0], "state"] == "deleted_sf"

    clean = recon.reconcile(MAPPING)
    assert clean.counts == dict.fromkeys(clean.counts, 0), clean.rows.to_dict("records")
    assert "delete_unapplied" in clean.counts

    recon.transition(keys[0], "In Progress")
    drift = recon.reconcile(MAPPING)
    assert drift.found() == {("delete_unapplied", ids[0], keys[0], "status")}
    row = drift.rows.iloc[0]
    assert row["jira_value"] == "In Progress" and "transition to 'Done'" in row["detail"]
    assert "delete_unapplied" in (drift.folder / "drift.csv").read_text(encoding="utf-8")
    assert "delete_unapplied" in drift.html.read_text(encoding="utf-8")

    healed = recon.reconcile(MAPPING, auto_heal=True)
    assert healed.found() == drift.found() and healed.summary["heal"]["finished"]
    assert recon.issue(keys[0])["fields"]["status"]["name"] == "Done"
    assert recon.store.links(MAPPING).set_index("sf_id").loc[ids[0], "state"] == "deleted_sf"
    again = recon.reconcile(MAPPING)
    assert again.counts == dict.fromkeys(again.counts, 0), again.rows.to_dict("records")
