"""Which Salesforce record goes with which Jira issue, and the record-level drift that falls out.

Three things claim a pair: an active link in the state store, the Salesforce id an issue carries
(custom field or entity property) and the Jira key a record carries (its key field). A pair claimed
by more of them wins; links always win. Each record and each issue ends up in at most one pair;
what is left over is missing on the other side, a duplicate (it claims a partner that is already
paired), or the surviving half of an orphan link (reported once, as the link).

Everything works on integer positions into the two canonical frames, so 1,000,000 records cost a
few hash look-ups and sorts, never a Python loop over records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sfjira.mapping.model import Mapping
from sfjira.reconcile.result import (
    DUPLICATE,
    FIELD_MISMATCH,
    ISSUE_CARRIES,
    ISSUE_GONE,
    MISSING_IN_JIRA,
    MISSING_IN_SALESFORCE,
    ORPHAN_LINK,
    RECORD_GONE,
)

# How strongly a candidate pair is claimed: bits add up, the highest total wins.
_LINK, _ISSUE_CLAIM, _RECORD_CLAIM = 4, 2, 1


@dataclass(frozen=True)
class Sides:
    """The identities of both canonical frames: positions in `sf_ids` / `jira_keys` are row numbers."""

    sf_ids: pd.Index          # unique Salesforce ids (str)
    sf_keyref: np.ndarray     # the Jira key each record carries (object, NaN if none)
    jira_keys: pd.Index       # unique Jira keys (str)
    jira_ids: np.ndarray      # numeric issue ids as text (object)
    jira_sfref: np.ndarray    # the Salesforce id each issue carries (object, NaN if none)


@dataclass(frozen=True)
class Pairing:
    sf_pos: np.ndarray        # paired rows, sorted by Salesforce id position
    jira_pos: np.ndarray
    rows: pd.DataFrame        # record-level drift (and identity-field mismatches of the pairs)


def sf_id_label(mapping: Mapping) -> str | None:
    """How the Salesforce id is kept on the issue, for reports (None if the issue keeps none)."""
    if mapping.jira.salesforce_id_field:
        return mapping.jira.salesforce_id_field
    prop = mapping.jira.salesforce_id_property
    return f"property {prop}.sfid" if prop else None


def pair(mapping: Mapping, sides: Sides, links: pd.DataFrame | None) -> Pairing:
    n_sf, n_j = len(sides.sf_ids), len(sides.jira_keys)
    sfref_pos = sides.sf_ids.get_indexer(pd.Index(sides.jira_sfref))
    keyref_pos = sides.jira_keys.get_indexer(pd.Index(sides.sf_keyref))
    link_sf, link_key, link_s, link_j, active = _links(sides, links)
    orphan = active & ((link_s < 0) | (link_j < 0))
    # The surviving half of an orphan is reported once, as the orphan; a link the sync already marked
    # deleted (deleted_sf / deleted_jira) was handled by the mapping's delete policy: not drift.
    settled = orphan | ~active
    accounted_sf = _mask(n_sf, link_s[settled & (link_s >= 0)])
    accounted_j = _mask(n_j, link_j[settled & (link_j >= 0)])

    ok = active & ~orphan
    s = np.concatenate([link_s[ok], sfref_pos, np.arange(n_sf)])
    j = np.concatenate([link_j[ok], np.arange(n_j), keyref_pos])
    bits = np.concatenate([np.full(ok.sum(), _LINK), np.full(n_j, _ISSUE_CLAIM), np.full(n_sf, _RECORD_CLAIM)])
    valid = (s >= 0) & (j >= 0)
    pair_s, pair_j = _assign(s[valid], j[valid], bits[valid], sides.jira_ids, n_j)

    sf_ids, keys = sides.sf_ids.to_numpy(dtype=object), sides.jira_keys.to_numpy(dtype=object)
    key_of_record = np.full(n_sf, None, dtype=object)
    key_of_record[pair_s] = keys[pair_j]
    record_of_issue = np.full(n_j, None, dtype=object)
    record_of_issue[pair_j] = sf_ids[pair_s]
    issues, records = _leftover_specs(mapping)
    parts = [
        _orphans(link_sf[orphan], link_key[orphan], link_s[orphan] >= 0, link_j[orphan] >= 0),
        _unpaired(issues, pd.isna(record_of_issue) & ~accounted_j, keys, sides.jira_sfref, sfref_pos, key_of_record),
        _unpaired(records, pd.isna(key_of_record) & ~accounted_sf, sf_ids, sides.sf_keyref, keyref_pos,
                  record_of_issue),
        _identity_fields(mapping, sides, pair_s, pair_j),
    ]
    rows = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    return Pairing(pair_s, pair_j, rows if rows is not None else pd.DataFrame())


def _mask(n: int, positions: np.ndarray) -> np.ndarray:
    out = np.zeros(n, bool)
    out[positions] = True
    return out


def _links(sides: Sides, links: pd.DataFrame | None,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Links, the rows they point at (-1: gone) and which are active. An issue whose key is gone is
    looked up by its id: ids survive a move to another project, keys do not."""
    if links is None or not len(links):
        empty, none = np.array([], dtype=object), np.array([], np.int64)
        return empty, empty, none, none, np.array([], bool)
    sf = links["sf_id"].astype("str").to_numpy(dtype=object)
    key = links["jira_key"].astype("str").to_numpy(dtype=object)
    active = (links["state"] == "active").to_numpy() if "state" in links.columns else np.ones(len(links), bool)
    link_s = sides.sf_ids.get_indexer(pd.Index(sf))
    link_j = sides.jira_keys.get_indexer(pd.Index(key))
    lost = np.flatnonzero(link_j < 0)
    if len(lost) and "jira_id" in links.columns:
        ids = pd.Index(sides.jira_ids)
        if ids.is_unique:
            link_j[lost] = ids.get_indexer(links["jira_id"].iloc[lost].astype("str").to_numpy(dtype=object))
    return sf, key, link_s, link_j, active


def _older_first(s: np.ndarray, j: np.ndarray, jira_ids: np.ndarray) -> np.ndarray:
    """Tie-break between a record's equally claimed issues: the older one (lower numeric id) first.
    Only records with several candidates need it, so only their issue ids are parsed."""
    order = np.zeros(len(j))
    contested = pd.Series(s).duplicated(keep=False).to_numpy()
    if contested.any():
        numeric = pd.to_numeric(pd.Series(jira_ids[j[contested]], dtype=object), errors="coerce")
        order[contested] = numeric.fillna(np.inf).to_numpy(dtype=float)
    return order


def _assign(s: np.ndarray, j: np.ndarray, bits: np.ndarray, jira_ids: np.ndarray,
            n_j: int) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-to-one matching, strongest claim first; repeated for records whose best partner
    went to someone else (rare, so the loop runs once or twice)."""
    code = s.astype(np.int64) * max(n_j, 1) + j
    code, inverse = np.unique(code, return_inverse=True)
    weight = np.bincount(inverse, weights=bits).astype(np.int64)
    s, j = code // max(n_j, 1), code % max(n_j, 1)
    order = np.lexsort((s, _older_first(s, j, jira_ids), -weight))
    s, j = s[order], j[order]
    chosen_s, chosen_j = [], []
    while len(s):
        first = ~pd.Series(s).duplicated().to_numpy()
        first[first] = ~pd.Series(j[first]).duplicated().to_numpy()
        chosen_s.append(s[first])
        chosen_j.append(j[first])
        left = ~np.isin(s, s[first]) & ~np.isin(j, j[first])
        s, j = s[left], j[left]
    if not chosen_s:
        return np.array([], np.int64), np.array([], np.int64)
    pair_s, pair_j = np.concatenate(chosen_s), np.concatenate(chosen_j)
    order = np.argsort(pair_s, kind="stable")
    return pair_s[order], pair_j[order]


def _frame(category: str, sf_id: object, jira_key: object, detail: object, *, field: object = None,
           sf_value: object = None, jira_value: object = None, owner: object = None) -> pd.DataFrame:
    return pd.DataFrame({"category": category, "sf_id": sf_id, "jira_key": jira_key, "field": field,
                         "sf_value": sf_value, "jira_value": jira_value, "owner": owner, "winner": owner,
                         "detail": detail})


def _text(values: np.ndarray) -> pd.Series:
    return pd.Series(values, dtype="str")


def _orphans(sf: np.ndarray, key: np.ndarray, sf_there: np.ndarray, jira_there: np.ndarray) -> pd.DataFrame:
    if not len(sf):
        return pd.DataFrame()
    sf_t, key_t = _text(sf), _text(key)
    gone_jira = ISSUE_GONE + key_t + " no longer exists"
    gone_sf = RECORD_GONE + sf_t + " no longer exists"
    detail = np.where(sf_there, gone_jira, np.where(jira_there, gone_sf,
                                                    "neither the Salesforce record nor the Jira issue exists any more"))
    return _frame(ORPHAN_LINK, sf, key, detail)


@dataclass(frozen=True)
class _Leftovers:
    """How to report the rows of one side that ended up without a partner."""

    own_is_sf: bool           # the rows are Salesforce records (else Jira issues)
    holds: str                # "<holds> X" names the id a row carries of the other side
    paired_with: str          # "..., which is already paired with <paired_with> Y"
    missing: str              # category when the carried id points nowhere
    nothing: str              # detail when the row carries no id at all
    not_there: str            # "<holds> X, which <not_there>"


def _unpaired(spec: _Leftovers, unpaired: np.ndarray, ids: np.ndarray, refs: np.ndarray, ref_pos: np.ndarray,
              partner_ids: np.ndarray) -> pd.DataFrame:
    """Rows without a partner. `refs`: the other side's id each row carries, `ref_pos`: where that id
    is on the other side (-1: not there), `partner_ids`: per row of the other side, the id of the
    row of this side it is paired with. Claiming a partner that is taken makes a duplicate."""
    where = np.flatnonzero(unpaired)
    if not len(where):
        return pd.DataFrame()
    ids, refs, target = ids[where], refs[where], ref_pos[where]
    dup = target >= 0
    rows = []
    if dup.any():
        detail = (spec.holds + " " + _text(refs[dup]) + f", which is already paired with {spec.paired_with} "
                  + _text(partner_ids[target[dup]]))
        sf, key = (ids[dup], refs[dup]) if spec.own_is_sf else (refs[dup], ids[dup])
        rows.append(_frame(DUPLICATE, sf, key, detail.to_numpy()))
    if (~dup).any():
        ref = _text(refs[~dup])
        why = np.where(ref.isna(), spec.nothing, (spec.holds + " " + ref + ", which " + spec.not_there).to_numpy())
        sf, key = (ids[~dup], ref.to_numpy()) if spec.own_is_sf else (ref.to_numpy(), ids[~dup])
        rows.append(_frame(spec.missing, sf, key, why))
    return pd.concat(rows, ignore_index=True)


def _leftover_specs(mapping: Mapping) -> tuple[_Leftovers, _Leftovers]:
    """(Jira issues, Salesforce records)."""
    label = sf_id_label(mapping) or "Salesforce id"
    key_field = mapping.salesforce.jira_key_field
    return (_Leftovers(False, f"{ISSUE_CARRIES} ({label})", "Jira issue", MISSING_IN_SALESFORCE,
                       "the issue carries no Salesforce id", "is not in Salesforce"),
            _Leftovers(True, f"{key_field} holds", "Salesforce record", MISSING_IN_JIRA,
                       "no Jira issue carries this record", "is not in Jira"))


def _identity_fields(mapping: Mapping, sides: Sides, pair_s: np.ndarray, pair_j: np.ndarray) -> pd.DataFrame:
    """The ids each side keeps of the other are fields the sync writes too: a pair whose record lacks
    the issue's key (or whose issue lacks the record's id) drifts in that field."""
    sf_ids = sides.sf_ids.to_numpy()[pair_s]
    keys = sides.jira_keys.to_numpy()[pair_j]
    rows = []
    keyref = _text(sides.sf_keyref[pair_s])
    wrong = (keyref != keys).fillna(True).to_numpy()
    if wrong.any():
        field = mapping.salesforce.jira_key_field
        rows.append(_frame(FIELD_MISMATCH, sf_ids[wrong], keys[wrong],
                           f"Salesforce {field} does not hold the key of the paired issue", field=field,
                           sf_value=keyref[wrong].to_numpy(), jira_value=keys[wrong], owner="jira"))
    label = sf_id_label(mapping)
    if label:
        sfref = _text(sides.jira_sfref[pair_j])
        wrong = (sfref != sf_ids).fillna(True).to_numpy()
        if wrong.any():
            rows.append(_frame(FIELD_MISMATCH, sf_ids[wrong], keys[wrong],
                               f"the issue's {label} does not hold the id of the paired record", field=label,
                               sf_value=sf_ids[wrong], jira_value=sfref[wrong].to_numpy(), owner="salesforce"))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
