"""After a rollback, the sync's agreed state of every field the undone run wrote goes back to the value
that run replaced (its before-image), hashed as the sync hashes it.

The undone run left its own values as agreed. Kept, the next sync would take every restored field as
changed on the restored side -- and a field a person changed since on the other side as changed on
both: a conflict its owner rule may well settle against the person (under `latest`, the side the
rollback wrote to last wins). With the before-image agreed, restored fields are unchanged on both
sides, and a field left alone (changed since) is changed on that side only: the next sync carries the
person's value across, as it would have had the run never happened.

A field the rollback could not write (refused) keeps the undone run's agreed value, so the next sync
still sees its restored side as the changed one and completes the restore there.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Literal

import pandas as pd

from sfjira.mapping.model import Mapping
from sfjira.rollback.run import RollbackRun
from sfjira.sync.agreed import agreed_rows
from sfjira.transform import canonical_values

log = logging.getLogger(__name__)

SIDES: tuple[tuple[Literal["salesforce", "jira"], str], ...] = (("salesforce", "Id"), ("jira", "key"))

AGREED = ("restore", "already", "changed_since")
"""Plan statuses whose fields get the before-image as agreed (a field the mapping no longer writes, or
one on an issue the run created, keeps what it has)."""


def before_cells(run: RollbackRun, actions: pd.DataFrame, refused: Collection[tuple[str, str]] = ()) -> pd.DataFrame:
    """sf_id, field (canonical key), hash: the before-image of each field of `actions` with an AGREED
    status, hashed as the sync hashes that field's canonical value. `refused`: (side, record id) pairs
    the rollback could not write, left out."""
    mapping = run.mapping
    keys = {side: {getattr(f, side): f.canonical_key for f in mapping.synced_fields} for side in ("salesforce", "jira")}
    parts = []
    for side, id_column in SIDES:
        mine = actions[(actions["side"] == side) & actions["status"].isin(AGREED)
                       & actions["field"].isin(list(keys[side]))]
        record = mine["sf_id"] if side == "salesforce" else mine["jira_key"]
        mine = mine[[(side, str(r)) not in refused for r in record]]
        if not len(mine):
            continue
        frame = _side_frame(mapping, side, id_column, mine)
        canonical = canonical_values(mapping, frame, side).frame
        for field, group in mine.groupby("field"):
            key = keys[side][str(field)]
            ids = group["sf_id"] if side == "salesforce" else group["jira_key"]
            hashes = run.pii.field_hashes(canonical[[key]])[key].reindex(ids.astype(str))
            parts.append(pd.DataFrame({"sf_id": group["sf_id"].astype(str).to_numpy(), "field": key,
                                       "hash": hashes.to_numpy(dtype=object)}))
    if not parts:
        return pd.DataFrame(columns=["sf_id", "field", "hash"])
    return pd.concat(parts, ignore_index=True)


def _side_frame(mapping: Mapping, side: str, id_column: str, actions: pd.DataFrame) -> pd.DataFrame:
    """One row per record in the shape of `side`'s extract: the before-images in their columns, the other
    columns empty."""
    columns = mapping.salesforce_columns() if side == "salesforce" else mapping.jira_columns()
    rows: dict[str, dict[str, object]] = {}
    for a in actions.to_dict("records"):
        record = str(a["sf_id"] if side == "salesforce" else a["jira_key"])
        rows.setdefault(record, dict.fromkeys(columns))[a["field"]] = a["before"]
        rows[record][id_column] = record
    return pd.DataFrame(list(rows.values()), columns=columns).astype(object)


def restore_agreed(run: RollbackRun, actions: pd.DataFrame, refused: Collection[tuple[str, str]] = ()) -> int:
    """Save the before-images of `actions` as the agreed state (idempotent: a re-run saves the same
    hashes). Returns the number of fields set."""
    cells = before_cells(run, actions, refused)
    if not len(cells):
        return 0
    run.state.save_synced_state(run.name, agreed_rows(run, cells), run.run_id)
    log.info("Rollback: agreed state of %d field(s) on %d record(s) set to the before-images", len(cells),
             cells["sf_id"].nunique())
    return len(cells)
