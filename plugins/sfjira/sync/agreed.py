"""The sync's agreed state (sfjira_synced_state: per record and direction, the hash of each field's
last-agreed value) with some fields' hashes replaced -- for the writers outside the sync that decide
what the next sync must take as agreed: auto-heal (the loser's value) and rollback (the value the
undone run replaced)."""

from __future__ import annotations

import pandas as pd

from sfjira.mapping.model import FlowDirection
from sfjira.rows import each_row
from sfjira.sync.run import SyncRun
from sfjira.values.hashing import agreed_record_hashes

DIRECTIONS: tuple[FlowDirection, ...] = ("sf_to_jira", "jira_to_sf")


def agreed_rows(run: SyncRun, cells: pd.DataFrame) -> pd.DataFrame:
    """`cells` (sf_id, field: a canonical key, hash) -> the records' synced-state rows with those fields'
    hashes replaced, per direction the field flows in (the plan reads sf_to_jira for Salesforce changes
    and jira_to_sf for Jira's); the other fields keep their stored hashes."""
    mapping = run.mapping
    stored = run.state.synced_state(run.name)
    stored = stored[stored["sf_id"].isin(cells["sf_id"])]
    kept = {(r.sf_id, r.direction): dict(r.field_hashes or {}) for r in each_row(stored)}
    for cell in each_row(cells):
        f = mapping.field(cell.field)
        for direction in DIRECTIONS:
            if f.flows(direction):
                kept.setdefault((cell.sf_id, direction), {})[cell.field] = cell.hash
    agreed = {k: {f: h for f, h in sorted(v.items()) if h is not None} for k, v in kept.items()}
    return pd.DataFrame({"sf_id": [k[0] for k in agreed], "direction": [k[1] for k in agreed],
                         "hash": agreed_record_hashes(list(agreed.values())), "field_hashes": list(agreed.values())})
