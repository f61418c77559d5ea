"""Which side a differing field's value should come from, and whether it is a pending conflict.

The rules are the sync's own (sync/plan.py): a one-way field is owned by its source; a two-way
field takes the side that changed since the last sync; changed on both sides ("conflict_pending")
it takes its `owner`, and `latest` means the side modified later (Salesforce on a tie or when a
stamp is missing). "Changed since the last sync" compares the field hash of today's canonical
value with the one the state store kept when the sync last agreed the field (synced_state).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import cast

import numpy as np
import pandas as pd

from sfjira.mapping.model import Mapping
from sfjira.pii import PiiProtection
from sfjira.reconcile.result import CONFLICT_PENDING, FIELD_MISMATCH

SF, JIRA = "salesforce", "jira"


def classify(mapping: Mapping, cells: pd.DataFrame, synced_state: pd.DataFrame | None,
             pii: PiiProtection | None = None) -> pd.DataFrame:
    """`cells` (sf_id, field, sf_value, jira_value, sf_modified, jira_modified) -> category, owner,
    winner, detail, one per cell. `pii` keys the PII fields' hashes (default: the mapping's, from Airflow)."""
    fields = {f.canonical_key: f for f in mapping.synced_fields}
    owner = cells["field"].map({k: f.effective_owner for k, f in fields.items()}).to_numpy(dtype=object)
    one_way = cells["field"].map({k: f.direction != "both" for k, f in fields.items()}).to_numpy(dtype=bool)
    sf_changed, j_changed, known = _changes(cells, synced_state, pii or PiiProtection.for_mapping(mapping))
    conflict = sf_changed & j_changed
    sf_later = (cells["sf_modified"] >= cells["jira_modified"]).fillna(True).to_numpy() | cells[
        "jira_modified"].isna().to_numpy()
    by_owner = np.where(owner == "latest", np.where(sf_later, SF, JIRA), owner)
    one_sided = np.where(sf_changed & ~j_changed, SF, np.where(j_changed & ~sf_changed, JIRA, by_owner))
    winner = np.where(one_way | conflict, by_owner, one_sided)
    return pd.DataFrame({
        "category": np.where(conflict, CONFLICT_PENDING, FIELD_MISMATCH),
        "owner": owner, "winner": winner,
        "detail": _detail(conflict, sf_changed, j_changed, known, owner, winner, one_way),
    }, index=cells.index)


def _detail(conflict: np.ndarray, sf_changed: np.ndarray, j_changed: np.ndarray, known: np.ndarray,
            owner: np.ndarray, winner: np.ndarray, one_way: np.ndarray) -> np.ndarray:
    side = np.where(winner == SF, "Salesforce", "Jira")
    ruled = np.where(owner == "latest", "owner latest: " + side + " changed last",
                     "owner " + owner.astype(str) + ": " + side + " wins")
    since = np.where(
        ~known, "no synced state for this field",
        np.where(conflict, "changed on both sides since the last sync",
                 np.where(sf_changed, "Salesforce changed since the last sync",
                          np.where(j_changed, "Jira changed since the last sync",
                                   "neither side changed since the last sync"))))
    how = np.where(one_way, "one-way field: " + side + " value is written over the other", ruled)
    how = np.where(~one_way & ~conflict & (sf_changed ^ j_changed), side + " value goes to the other side", how)
    return (since.astype(object) + "; " + how.astype(object)).astype(object)


def _changes(cells: pd.DataFrame, synced_state: pd.DataFrame | None,
             pii: PiiProtection) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell: Salesforce changed, Jira changed (since the last agreed hash), and whether a hash was kept."""
    n = len(cells)
    stored = _stored_hashes(synced_state, cells["sf_id"].unique()) if synced_state is not None and n else None
    if stored is None or not len(stored):
        return np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    sf_h, j_h = _hashes(cells, "sf_value", pii), _hashes(cells, "jira_value", pii)
    keyed = pd.MultiIndex.from_arrays([cells["sf_id"].to_numpy(), cells["field"].to_numpy()])
    old_sf = _lookup(stored, keyed, ("sf_to_jira", "jira_to_sf"))
    old_j = _lookup(stored, keyed, ("jira_to_sf", "sf_to_jira"))
    known = pd.notna(old_sf) & pd.notna(old_j)
    return known & (sf_h != old_sf), known & (j_h != old_j), known


def _lookup(stored: pd.DataFrame, keyed: pd.MultiIndex, prefer: tuple[str, str]) -> np.ndarray:
    """The kept hash of each (sf_id, field): from the first direction that has one."""
    first = stored.get(prefer[0], pd.Series(dtype=object)).reindex(keyed)
    second = stored.get(prefer[1], pd.Series(dtype=object)).reindex(keyed)
    return first.where(first.notna(), second).to_numpy(dtype=object)


def _hashes(cells: pd.DataFrame, column: str, pii: PiiProtection) -> np.ndarray:
    """Field hashes of the cells' canonical text, exactly as the sync computes them (per field key)."""
    out = np.empty(len(cells), dtype=object)
    for key, idx in cells.groupby("field", sort=False).indices.items():
        values = pd.DataFrame({key: pd.Series(cells[column].to_numpy()[idx], dtype="str")})
        out[idx] = pii.field_hashes(values)[key].to_numpy(dtype=object)
    return out


def _stored_hashes(synced_state: pd.DataFrame, sf_ids: Iterable[str]) -> pd.DataFrame:
    """(sf_id, field) -> kept hash, one column per direction, for the given records only."""
    rows = synced_state[synced_state["sf_id"].isin(list(sf_ids))]
    rows = rows[rows["field_hashes"].notna()] if len(rows) else rows
    if not len(rows):
        return pd.DataFrame()
    decoded = [json.loads(v) if isinstance(v, str) else dict(v) for v in rows["field_hashes"]]
    wide = pd.DataFrame.from_records(decoded, index=pd.MultiIndex.from_arrays(
        [rows["sf_id"].to_numpy(), rows["direction"].to_numpy()], names=["sf_id", "direction"]))
    long = cast("pd.Series", wide.stack(future_stack=True)).dropna()  # one column level: stacks to a Series
    long.index.names = ["sf_id", "direction", "field"]
    return long.unstack("direction").reorder_levels(["sf_id", "field"]) if len(long) else pd.DataFrame()
