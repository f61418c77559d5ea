"""The full two-sided compare: both extracts in canonical form, paired, diffed field by field.

Both frames go through the sync's own transform (`canonical_values`, the to_jira / to_salesforce
normalisation for every field whatever its direction), so formatting -- offsets, number notation,
line ends, multi-value order, value-map vocabulary -- never shows up as drift: only values do.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping as MappingABC

import numpy as np
import pandas as pd

from sfjira.identity.rules import leave_out
from sfjira.mapping.model import PII_MASK, Mapping
from sfjira.pii import PiiProtection
from sfjira.reconcile.deletes import unapplied_rows
from sfjira.reconcile.fields import mismatches
from sfjira.reconcile.identity import Sides, pair
from sfjira.reconcile.owners import classify
from sfjira.reconcile.result import (
    CATEGORIES,
    DRIFT_COLUMNS,
    IDENTITY_REFUSED,
    DriftResult,
    ReconcileInputError,
    empty_rows,
)
from sfjira.transform import TransformResult, canonical_values

SyncedState = pd.DataFrame | Callable[[list[str]], pd.DataFrame]


def compare(mapping: Mapping, sf_frame: pd.DataFrame, jira_frame: pd.DataFrame, links: pd.DataFrame | None, *,
            synced_state: SyncedState | None = None,
            user_map: MappingABC[str, str] | None = None, refused: pd.DataFrame | None = None,
            pii: PiiProtection | None = None) -> DriftResult:
    """Every drift between the records in scope on both sides.

    :param sf_frame: flattened Salesforce records (reconcile.deletes.salesforce_columns(mapping): Id,
        SystemModstamp, the Jira key field, the mapped fields, the field `jira_deleted: flag` writes), as
        `records_to_frame` builds them.
    :param jira_frame: flattened Jira issues (mapping.jira_columns() plus `sfid` from the entity
        property), as `issues_to_frame` builds them.
    :param links: `StateStore.links(mapping.name)` (sf_id, jira_id, jira_key, state); active links pair, a
        settled one (deleted_sf / deleted_jira) is checked for its delete policy on the side that survives.
        The frames must hold both sides of every link passed (a link whose record is absent is an orphan).
    :param synced_state: `StateStore.synced_state(mapping.name)`; without it no drift is a conflict_pending.
        Or a function of Salesforce ids giving their rows (`StateStore.synced_state_of`): asked only for
        the records whose fields differ, so a window's state need not be read to judge its drift.
    :param user_map: Salesforce user -> Jira accountId, as for the sync (fields of type `user`).
    :param pii: the mapping's PII key (default: from the Airflow connection when the mapping declares PII):
        the changes of PII fields are told by their keyed hashes, as the sync keeps them.
    :param refused: the claims `sfjira.identity` refused (identity.rules.REFUSED_COLUMNS): their records and
        issues are not paired; each is one `identity_refused` row with the code and reason, never healed.
    """
    _check_inputs(sf_frame, jira_frame, links, None if callable(synced_state) else synced_state)
    sf_frame, jira_frame = leave_out(refused, sf_frame, jira_frame)
    sf = canonical_values(mapping, sf_frame, "salesforce", user_map=user_map)
    jira = canonical_values(mapping, jira_frame, "jira", user_map=user_map)
    pairing = pair(mapping, _sides(sf, jira), links)
    keys = tuple(f.canonical_key for f in mapping.synced_fields)
    cells = _field_rows(mapping, sf, jira, pairing.sf_pos, pairing.jira_pos, keys, synced_state, pii)
    unapplied = unapplied_rows(mapping, sf_frame, jira_frame, links)
    parts = [r for r in (pairing.rows, unapplied, cells, _refused_rows(refused)) if len(r)]
    rows = pd.concat(parts, ignore_index=True) if parts else empty_rows()
    return DriftResult(mapping.name, _finish(mapping, rows), len(sf.frame), len(jira.frame), len(pairing.sf_pos),
                       keys, _rejects(sf, jira))


def _refused_rows(refused: pd.DataFrame | None) -> pd.DataFrame:
    """One row per refused claim: the value claimed on the side that claims it, the code and reason in detail."""
    if refused is None or not len(refused):
        return pd.DataFrame()
    record_side = (refused["side"] == "salesforce").to_numpy()
    return pd.DataFrame({
        "category": IDENTITY_REFUSED, "sf_id": refused["sf_id"].to_numpy(), "jira_key": refused["jira_key"].to_numpy(),
        "field": refused["field"].to_numpy(),
        # numpy's stubs leave None out of ArrayLike; np.where takes it as the object null it is.
        "sf_value": np.where(record_side, refused["value"], None),  # type: ignore[call-overload]
        "jira_value": np.where(record_side, None, refused["value"]),  # type: ignore[call-overload]
        "owner": None, "winner": None,
        "detail": (refused["code"] + ": " + refused["message"] + " -- fix: " + refused["fix"]).to_numpy()})


def _check_inputs(sf_frame: object, jira_frame: object, links: object, synced_state: object) -> None:
    """Frames of the wrong kind fail here, naming what is expected (the transform checks the columns)."""
    expected = {"sf_frame": (sf_frame, ()), "jira_frame": (jira_frame, ()),
                "links": (links, ("sf_id", "jira_key")),
                "synced_state": (synced_state, ("sf_id", "direction", "field_hashes"))}
    for name, (value, columns) in expected.items():
        if value is None and name in ("links", "synced_state"):
            continue
        if not isinstance(value, pd.DataFrame):
            raise ReconcileInputError(f"`{name}` must be a pandas DataFrame, got {type(value).__name__}",
                                      fix=f"pass {_WHERE[name]}")
        missing = [c for c in columns if c not in value.columns]
        if missing:
            raise ReconcileInputError(f"`{name}` lacks column(s) {', '.join(missing)}", fix=f"pass {_WHERE[name]}")


_WHERE = {"sf_frame": "the flattened Salesforce extract (hooks.salesforce_frames.records_to_frame)",
          "jira_frame": "the flattened Jira extract (hooks.jira_frames.issues_to_frame)",
          "links": "StateStore.links(mapping.name) (or None)",
          "synced_state": "StateStore.synced_state(mapping.name) (or None)"}


def _sides(sf: TransformResult, jira: TransformResult) -> Sides:
    return Sides(
        sf_ids=pd.Index(sf.frame.index, dtype="str"),
        sf_keyref=sf.meta["jira_key"].to_numpy(dtype=object),
        jira_keys=pd.Index(jira.frame.index, dtype="str"),
        jira_ids=jira.meta["jira_id"].to_numpy(dtype=object),
        jira_sfref=jira.meta["sf_id"].to_numpy(dtype=object),
    )


def _field_rows(mapping: Mapping, sf: TransformResult, jira: TransformResult, sf_pos: np.ndarray,
                jira_pos: np.ndarray, keys: tuple[str, ...], synced_state: SyncedState | None,
                pii: PiiProtection | None) -> pd.DataFrame:
    cells = mismatches(keys, sf.frame, jira.frame, sf_pos, jira_pos)
    if not len(cells):
        return cells.iloc[0:0]
    if callable(synced_state):   # classify reads the state of the differing records only
        differing = sf.frame.index.to_numpy()[np.unique(sf_pos[cells["pair"].to_numpy()])]
        synced_state = synced_state([str(i) for i in differing])
        _check_inputs(sf.frame, jira.frame, None, synced_state)
    s, j = sf_pos[cells["pair"].to_numpy()], jira_pos[cells["pair"].to_numpy()]
    cells = cells.assign(
        sf_id=sf.frame.index.to_numpy()[s], jira_key=jira.frame.index.to_numpy()[j],
        sf_modified=_stamps(sf.meta["modified"], s), jira_modified=_stamps(jira.meta["modified"], j),
    )
    ruled = classify(mapping, cells, synced_state, pii)
    detail = ruled["detail"] + _reject_notes(cells, sf.rejects, jira.rejects)
    return cells.assign(category=ruled["category"], owner=ruled["owner"], winner=ruled["winner"],
                        detail=detail)[list(DRIFT_COLUMNS)]


def _stamps(modified: pd.Series, positions: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Modification instants (UTC) of the differing rows only: converting a whole 1M column costs seconds."""
    picked = modified.iloc[positions].reset_index(drop=True)
    if not isinstance(picked.dtype, pd.DatetimeTZDtype):  # canonical text, as older transforms give it
        picked = pd.to_datetime(picked, utc=True, format="ISO8601")
    return picked.array


def _reject_notes(cells: pd.DataFrame, sf_rejects: pd.DataFrame, jira_rejects: pd.DataFrame) -> pd.Series:
    """"; the sync rejects the Salesforce value (CODE)" where a differing cell failed the transform."""
    notes = pd.Series("", index=cells.index, dtype=object)
    for rejects, ids, side in ((sf_rejects, cells["sf_id"], "Salesforce"), (jira_rejects, cells["jira_key"], "Jira")):
        if not len(rejects):
            continue
        codes = rejects.groupby(["record_id", "field"])["code"].agg(lambda c: ", ".join(sorted(set(c))))
        found = codes.reindex(pd.MultiIndex.from_arrays([ids.to_numpy(), cells["field"].to_numpy()]))
        hit = found.notna().to_numpy()
        notes[hit] = notes[hit] + f"; the sync rejects the {side} value (" + found[hit].to_numpy(dtype=object) + ")"
    return notes


def _finish(mapping: Mapping, rows: pd.DataFrame) -> pd.DataFrame:
    """PII values masked, stable order: category as listed, then record, issue and field."""
    rows = rows.reindex(columns=list(DRIFT_COLUMNS)).astype(object)
    rows = rows.where(rows.notna(), None)
    pii = rows["field"].isin(list(mapping.pii_columns)).to_numpy()
    for column in ("sf_value", "jira_value"):
        present = rows[column].notna().to_numpy()
        rows.loc[pii & present, column] = PII_MASK
    order = pd.Categorical(rows["category"], categories=list(CATEGORIES), ordered=True)
    rows = rows.assign(_order=order).sort_values(["_order", "sf_id", "jira_key", "field"], na_position="last",
                                                 kind="stable")
    return rows.drop(columns="_order").reset_index(drop=True)


def _rejects(sf: TransformResult, jira: TransformResult) -> pd.DataFrame:
    parts = [r for r in (sf.rejects, jira.rejects) if len(r)]
    return pd.concat(parts, ignore_index=True) if parts else sf.rejects
