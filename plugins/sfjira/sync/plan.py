"""Plan: both sides' changes + the state store -> one action per record and direction.

Per linked record and mapped field, against the hashes of the values last agreed by the sync:
  changed on Salesforce only -> write Jira; changed on Jira only -> write Salesforce;
  changed on both to the same value -> nothing to write (converged);
  changed on both to different values -> a conflict, resolved by the field's owner and ledgered;
  unchanged (our own echo included: it hashes like what we wrote) -> skip.
A Salesforce record with no link and no Jira key is created in Jira; one that carries a Jira key,
or a Jira issue that carries a Salesforce id, is adopted as a link instead (never a second issue).
A linked issue a webhook reported deleted, and the extract confirmed gone, gets the mapping's
jira_deleted policy (`jira_deleted`).
Claims the identity rules refused (`sfjira.identity`: a key of another project, type or record...)
are left out of every table and listed in `rejects` with their code: nothing is written for them.
Nothing here reads or writes an API or the state store: the plan is files, so a dry run stops here. A
table's `fields` holds canonical target values (plain names, option values, decimal strings, ISO dates,
plain text); the hooks turn them into each API's wire shapes when the loads write them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from sfjira.hooks.payload import canonical
from sfjira.identity.rules import empty_refused, refused_keys, refused_sf_ids
from sfjira.mapping.model import FieldMapping, Mapping
from sfjira.pii import PiiProtection
from sfjira.rejects import combined, from_refused, from_transform
from sfjira.sync.transformed import without
from sfjira.transform import TransformResult, comments_to_jira, comments_to_salesforce, to_jira, to_salesforce

STATUS = "status"
PLAN_TABLES = ("jira_create", "jira_update", "sf_update", "state_only", "adopt", "sf_rekey", "deletes", "jira_deleted",
               "ledger", "rejects", "comments_to_jira", "comments_to_sf")


@dataclass
class Plan:
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {name: len(self.tables.get(name, ())) for name in PLAN_TABLES}


def hashes_json(frame: pd.DataFrame) -> pd.Series:
    """Per row: the field hashes as a JSON object (what the state store keeps as field_hashes)."""
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return pd.Series([json.dumps({k: v for k, v in r.items() if v is not None}, sort_keys=True) for r in records],
                     index=frame.index, dtype=object)


def _stored(synced: pd.DataFrame, direction: str) -> pd.DataFrame:
    rows = synced[synced["direction"] == direction] if len(synced) else synced
    if not len(rows):
        return pd.DataFrame(index=pd.Index([], name="sf_id", dtype=object))
    frame = pd.DataFrame.from_records(list(rows["field_hashes"].map(lambda d: d or {})), index=rows["sf_id"].to_numpy())
    frame.index.name = "sf_id"
    return frame


@dataclass
class _Sides:
    mapping: Mapping
    sf: TransformResult    # from Salesforce
    jira: TransformResult  # from Jira
    jira_by_sf: pd.DataFrame
    jira_meta_by_sf: pd.DataFrame


def build_plan(mapping: Mapping, sf_records: pd.DataFrame, sf_deleted: pd.DataFrame, jira_issues: pd.DataFrame,
               links: pd.DataFrame, synced: pd.DataFrame, *, run_id: str = "",
               sf_comments: pd.DataFrame | None = None, jira_comments: pd.DataFrame | None = None,
               comment_links: pd.DataFrame | None = None, refused: pd.DataFrame | None = None,
               pii: PiiProtection | None = None, jira_deleted: pd.DataFrame | None = None) -> Plan:
    """The transform and the plan in one call, on the extracted frames (the sync DAG runs them as two
    tasks: sfjira.sync.steps). Arguments as `plan_transformed`."""
    return plan_transformed(mapping, to_jira(mapping, sf_records), to_salesforce(mapping, jira_issues), sf_deleted,
                            links, synced, run_id=run_id, sf_comments=sf_comments,
                            jira_comments=jira_comments, comment_links=comment_links, refused=refused, pii=pii,
                            jira_deleted=jira_deleted)


def plan_transformed(mapping: Mapping, sf: TransformResult, jira: TransformResult, sf_deleted: pd.DataFrame,
                     links: pd.DataFrame, synced: pd.DataFrame, *, run_id: str = "",
                     sf_comments: pd.DataFrame | None = None, jira_comments: pd.DataFrame | None = None,
                     comment_links: pd.DataFrame | None = None, refused: pd.DataFrame | None = None,
                     pii: PiiProtection | None = None, jira_deleted: pd.DataFrame | None = None) -> Plan:
    """The plan from both sides' transform results (`to_jira` of the Salesforce records, `to_salesforce`
    of the Jira issues). `refused`: the claims `sfjira.identity` refused (rules.REFUSED_COLUMNS); their
    records and issues are left out of everything and become rejects (their transform rejects go with
    them). `pii`: the mapping's PII fields and key (default: from the Airflow connection when the mapping
    declares PII): their hashes are keyed, conflict values sealed. `jira_deleted`: the webhook-reported
    deletions the extract took (sfjira.sync.jira_deleted: sf_id, verdict): the confirmed ones of records
    still linked become the `jira_deleted` table, the mapping's jira_deleted policy to apply."""
    pii = pii if pii is not None else PiiProtection.for_mapping(mapping)
    refused = refused if refused is not None else empty_refused()
    barred = refused_sf_ids(refused)
    sf, jira = without(sf, barred), without(jira, refused_keys(refused))
    active = links[links["state"] == "active"] if len(links) else links
    key_of = pd.Series(active["jira_key"].to_numpy(), index=active["sf_id"].to_numpy()) if len(active) else \
        pd.Series(dtype=object)
    sf_of_key = pd.Series(key_of.index.to_numpy(), index=key_of.to_numpy()) if len(key_of) else pd.Series(dtype=object)

    # Jira rows -> Salesforce id: the id the issue carries, else the link.
    # The link decides; an id an issue carries counts only for a record not linked elsewhere, so a
    # duplicate issue carrying a linked record's id can never write its values into that record.
    linked = sf_of_key.reindex(jira.frame.index).to_numpy()
    carried = jira.meta["sf_id"].astype(object)
    carried = carried.where(~carried.isin(key_of.index))
    jira_sf = pd.Series(linked, index=carried.index).where(pd.notna(linked), carried)
    keep = jira_sf.notna().to_numpy() & ~jira_sf.isin(barred).to_numpy()
    jira_by_sf = jira.frame[keep].set_axis(pd.Index(jira_sf[keep].to_numpy(), name="sf_id"))
    jira_meta = jira.meta[keep].set_axis(jira_by_sf.index).assign(jira_key=jira.frame.index[keep])
    jira_target = jira.target[keep].set_axis(jira_by_sf.index)
    jira_by_sf = jira_by_sf[~jira_by_sf.index.duplicated(keep="last")]
    jira_meta = jira_meta[~jira_meta.index.duplicated(keep="last")]
    jira_target = jira_target[~jira_target.index.duplicated(keep="last")]

    tables: dict[str, pd.DataFrame] = {}
    sf_key = sf.meta["jira_key"].astype(object)
    linked_sf = sf.frame.index.isin(key_of.index)
    # A link that is no longer active was settled by a delete policy: never adopt it back from the key or
    # id either side still carries (that is how it was found deleted).
    known = list(links["sf_id"]) if len(links) else []
    settled = sf.frame.index.isin(known) & ~linked_sf
    carries_key = sf_key.notna().to_numpy() & ~linked_sf & ~settled
    jira_adopt = ~jira_by_sf.index.isin(key_of.index) & ~jira_by_sf.index.isin(known)
    tables["adopt"] = pd.concat([
        pd.DataFrame({"sf_id": sf.frame.index[carries_key], "jira_key": sf_key[carries_key].to_numpy(),
                      "jira_id": None, "source": "salesforce_key"}),
        pd.DataFrame({"sf_id": jira_by_sf.index[jira_adopt], "jira_key": jira_meta["jira_key"][jira_adopt].to_numpy(),
                      "jira_id": jira_meta["jira_id"][jira_adopt].to_numpy(), "source": "jira_sfid"}),
    ], ignore_index=True).drop_duplicates("sf_id")
    tables["sf_rekey"] = _stale_keys(key_of, sf_key)
    key_of = pd.concat([key_of, pd.Series(tables["adopt"]["jira_key"].to_numpy(),
                                          index=tables["adopt"]["sf_id"].to_numpy())])
    key_of = key_of[~key_of.index.duplicated(keep="first")]

    deleted_ids = set(sf_deleted["Id"]) if len(sf_deleted) else set()
    # A settled record that still carries its key was flagged, not released: only one whose key was
    # cleared (policy clear_key, or by a person) gets a new issue.
    new = (~sf.frame.index.isin(key_of.index) & ~sf.frame.index.isin(list(deleted_ids))
           & ~(settled & sf_key.notna().to_numpy()))
    tables["jira_create"] = _creates(mapping, sf, new, pii)

    stored_sj, stored_js = _stored(synced, "sf_to_jira"), _stored(synced, "jira_to_sf")
    decisions = _field_decisions(mapping, sf, jira_by_sf, jira_meta, key_of, stored_sj, stored_js, pii)
    tables.update(_writes(mapping, sf, jira_target, decisions, key_of))
    tables["ledger"] = _ledger(mapping, decisions, key_of, run_id, pii)
    tables["deletes"] = _deletes(mapping, deleted_ids, key_of)
    tables["jira_deleted"] = _jira_deleted(mapping, jira_deleted, active, deleted_ids)
    tables["rejects"] = combined(from_transform(sf.rejects), from_transform(jira.rejects), from_refused(refused))
    tables.update(_comments(mapping, sf_comments, jira_comments, comment_links, key_of,
                            creating=sf.frame.index[new]))
    return Plan(tables)


def _stale_keys(key_of: pd.Series, sf_key: pd.Series) -> pd.DataFrame:
    """Linked records whose Salesforce copy does not carry the linked key: the run that made the link
    failed before its write-back, or someone edited the key. The load writes the key back."""
    linked = key_of.reindex(sf_key.index)
    stale = linked.notna() & (sf_key.fillna("") != linked.fillna(""))
    return pd.DataFrame({"sf_id": sf_key.index[stale.to_numpy()], "jira_key": linked[stale].to_numpy()},
                        dtype=object)


def _creates(mapping: Mapping, sf: TransformResult, new: np.ndarray, pii: PiiProtection) -> pd.DataFrame:
    fields = [f for f in mapping.fields_for("sf_to_jira")]
    target = sf.target[new]
    ids = sf.frame.index[new]
    payload: dict[str, list[Any]] = {}
    status = None
    for f in fields:
        values = target[f.jira].astype(object).where(target[f.jira].notna(), None).tolist()
        if f.jira == STATUS:
            status = values
            continue
        payload[f.jira] = [canonical(v) for v in values]
    if mapping.jira.salesforce_id_field:
        payload[mapping.jira.salesforce_id_field] = list(ids)
    rows = [dict(zip(payload, vals, strict=True)) for vals in zip(*payload.values(), strict=True)] if payload else \
        [{} for _ in ids]
    hashes = pii.field_hashes(sf.frame[new])
    # Two-way fields start out agreed at the Salesforce value the new issue is created with.
    two_way = [f.canonical_key for f in fields if f.flows("jira_to_sf")]
    return pd.DataFrame({"sf_id": ids, "fields": [json.dumps(r, ensure_ascii=False) for r in rows],
                         "status": status if status is not None else [None] * len(ids),
                         "sj_hashes": hashes_json(hashes).to_numpy(), "js_hashes": hashes_json(hashes[two_way]).to_numpy()})


@dataclass
class _Decisions:
    index: pd.Index
    write_jira: pd.DataFrame   # bool per (record, field key)
    write_sf: pd.DataFrame
    conflict: pd.DataFrame
    winner: pd.DataFrame       # "salesforce" | "jira" where conflict
    new_sj: pd.DataFrame       # agreed field hashes after this run
    new_js: pd.DataFrame
    sf_values: pd.DataFrame
    jira_values: pd.DataFrame
    touched: pd.Index          # records whose agreed hashes change without a write


def _field_decisions(mapping: Mapping, sf: TransformResult, jira_by_sf: pd.DataFrame, jira_meta: pd.DataFrame,
                     key_of: pd.Series, stored_sj: pd.DataFrame, stored_js: pd.DataFrame,
                     pii: PiiProtection) -> _Decisions:
    sf_linked = sf.frame[sf.frame.index.isin(key_of.index)]
    j_linked = jira_by_sf[jira_by_sf.index.isin(key_of.index)]
    index = sf_linked.index.union(j_linked.index)
    sf_h = pii.field_hashes(sf_linked).reindex(index)
    j_h = pii.field_hashes(j_linked).reindex(index)
    in_sf = pd.Series(index.isin(sf_linked.index), index=index)
    in_j = pd.Series(index.isin(j_linked.index), index=index)
    sf_mod = pd.to_datetime(sf.meta["modified"], utc=True, format="ISO8601").reindex(index)
    j_mod = pd.to_datetime(jira_meta["modified"], utc=True, format="ISO8601").reindex(index)
    out: dict[str, dict[str, pd.Series]] = {k: {} for k in
                                            ("write_jira", "write_sf", "conflict", "winner", "new_sj", "new_js")}
    for f in mapping.synced_fields:
        key = f.canonical_key
        to_j, to_s = f.flows("sf_to_jira"), f.flows("jira_to_sf")
        old_sj = _col(stored_sj, key, index)
        old_js = _col(stored_js, key, index)
        sf_changed = (in_sf & (sf_h[key] != old_sj).fillna(True)) if to_j else pd.Series(False, index=index)
        jira_changed = (in_j & (j_h[key] != old_js).fillna(True)) if to_s else pd.Series(False, index=index)
        both = sf_changed & jira_changed
        same = (sf_h[key] == j_h[key]).fillna(False) if to_j and to_s else pd.Series(False, index=index)
        conflict = both & ~same
        winner = _winner(f, sf_mod, j_mod, index)
        to_jira_write = (sf_changed & ~jira_changed) | (conflict & (winner == "salesforce")) if to_j else pd.Series(False, index=index)
        to_sf_write = (jira_changed & ~sf_changed) | (conflict & (winner == "jira")) if to_s else pd.Series(False, index=index)
        agreed = _agreed(f, sf_h[key] if to_j else None, j_h[key] if to_s else None, to_jira_write, to_sf_write, in_sf, in_j,
                         old_sj if to_j else old_js)
        for name, value in (("write_jira", to_jira_write), ("write_sf", to_sf_write), ("conflict", conflict), ("winner", winner)):
            out[name][key] = value
        if to_j:
            out["new_sj"][key] = agreed
        if to_s:
            out["new_js"][key] = agreed
    frames = {k: pd.DataFrame(v, index=index) for k, v in out.items()}
    changed = ((_filled(frames["new_sj"]) != _filled(_aligned(stored_sj, frames["new_sj"]))).any(axis=1)
               | (_filled(frames["new_js"]) != _filled(_aligned(stored_js, frames["new_js"]))).any(axis=1))
    touched = index[changed.to_numpy()]
    return _Decisions(index, frames["write_jira"], frames["write_sf"], frames["conflict"], frames["winner"],
                      frames["new_sj"], frames["new_js"], sf_linked.reindex(index), j_linked.reindex(index), touched)


def _col(stored: pd.DataFrame, key: str, index: pd.Index) -> pd.Series:
    if key not in stored.columns:
        return pd.Series(np.nan, index=index, dtype=object)
    return stored[key].reindex(index)


def _aligned(stored: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    return stored.reindex(index=like.index, columns=like.columns)


def _filled(hashes: pd.DataFrame) -> pd.DataFrame:
    # Columns of a store with nothing yet come back all-NaN float64; pandas will refuse "" as their fill.
    return hashes.astype(object).fillna("")


def _winner(f: FieldMapping, sf_mod: pd.Series, j_mod: pd.Series, index: pd.Index) -> pd.Series:
    owner = f.effective_owner
    if owner in ("salesforce", "jira"):
        return pd.Series(owner, index=index, dtype=object)
    later_sf = (sf_mod >= j_mod).fillna(True).to_numpy()
    return pd.Series(np.where(later_sf, "salesforce", "jira"), index=index, dtype=object)


def _agreed(f: FieldMapping, sf_h: pd.Series | None, j_h: pd.Series | None, to_jira_write: pd.Series, to_sf_write: pd.Series,
            in_sf: pd.Series, in_j: pd.Series, old: pd.Series) -> pd.Series:
    """The hash both sides hold for the field once this run's writes land."""
    agreed = old.copy()
    if sf_h is not None:
        agreed = agreed.mask(in_sf & ~to_sf_write, sf_h)
    if j_h is not None:
        seen_j = in_j & ~to_jira_write if sf_h is None else in_j & ~to_jira_write & ~in_sf
        agreed = agreed.mask(seen_j | to_sf_write, j_h)
        if sf_h is not None:
            agreed = agreed.mask(to_jira_write, sf_h)
    return agreed


def _writes(mapping: Mapping, sf: TransformResult, jira_target: pd.DataFrame, d: _Decisions,
            key_of: pd.Series) -> dict[str, pd.DataFrame]:
    sj, js = hashes_json(d.new_sj), hashes_json(d.new_js)
    jira_rows = d.write_jira.any(axis=1) if len(d.write_jira.columns) else pd.Series(False, index=d.index)
    sf_rows = d.write_sf.any(axis=1) if len(d.write_sf.columns) else pd.Series(False, index=d.index)
    sf_target = sf.target.reindex(d.index)
    j_updates = _payloads(mapping, d.write_jira[jira_rows.to_numpy()], sf_target, "jira")
    s_updates = _payloads(mapping, d.write_sf[sf_rows.to_numpy()], jira_target.reindex(d.index), "salesforce")
    quiet = d.touched[~d.touched.isin(d.index[jira_rows.to_numpy() | sf_rows.to_numpy()])]
    keys = key_of.reindex(d.index)
    return {
        "jira_update": j_updates.assign(jira_key=keys.reindex(j_updates["sf_id"]).to_numpy(),
                                        sj_hashes=sj.reindex(j_updates["sf_id"]).to_numpy(),
                                        js_hashes=js.reindex(j_updates["sf_id"]).to_numpy()),
        "sf_update": s_updates.assign(jira_key=keys.reindex(s_updates["sf_id"]).to_numpy(),
                                      sj_hashes=sj.reindex(s_updates["sf_id"]).to_numpy(),
                                      js_hashes=js.reindex(s_updates["sf_id"]).to_numpy()),
        "state_only": pd.DataFrame({"sf_id": quiet, "jira_key": keys.reindex(quiet).to_numpy(),
                                    "sj_hashes": sj.reindex(quiet).to_numpy(), "js_hashes": js.reindex(quiet).to_numpy()}),
    }


def _payloads(mapping: Mapping, writes: pd.DataFrame, target: pd.DataFrame, side: str) -> pd.DataFrame:
    """One row per record: the fields to set (JSON of canonical values) and, towards Jira, the status."""
    ids = writes.index
    rows: list[dict[str, Any]] = [{} for _ in ids]
    status: list[Any] = [None] * len(ids)
    for key in writes.columns:
        f = mapping.field(key)
        column = f.jira if side == "jira" else f.salesforce
        mask = writes[key].to_numpy()
        if not mask.any():
            continue
        values = target.loc[ids, column].astype(object)
        values = values.where(values.notna(), None).tolist()
        for i in np.flatnonzero(mask):
            if side == "jira" and column == STATUS:
                status[i] = values[i]
            else:
                rows[i][column] = canonical(values[i])
    frame = pd.DataFrame({"sf_id": ids, "fields": [json.dumps(r, ensure_ascii=False) for r in rows]})
    if side == "jira":
        frame["status"] = status
    return frame


def _ledger(mapping: Mapping, d: _Decisions, key_of: pd.Series, run_id: str, pii: PiiProtection) -> pd.DataFrame:
    """Conflicts with both values and the owner's decision (values of PII fields sealed)."""
    stacked = cast("pd.Series", d.conflict.stack())  # one column level: stacks to a Series
    hits = stacked[stacked.astype(bool)]
    if not len(hits):
        return pd.DataFrame(columns=["run_id", "side", "action", "sf_id", "jira_key", "field", "before", "after",
                                     "reason", "cause", "direction"])
    ids = hits.index.get_level_values(0)
    keys = hits.index.get_level_values(1)
    sf_vals = [d.sf_values.at[i, k] for i, k in zip(ids, keys, strict=True)]
    j_vals = [d.jira_values.at[i, k] for i, k in zip(ids, keys, strict=True)]
    winners = [str(d.winner.at[i, k]) for i, k in zip(ids, keys, strict=True)]
    written = ["jira" if w == "salesforce" else "salesforce" for w in winners]
    before = [pii.seal_field(k, j if w == "salesforce" else s)
              for k, s, j, w in zip(keys, sf_vals, j_vals, winners, strict=True)]
    after = [pii.seal_field(k, s if w == "salesforce" else j)
             for k, s, j, w in zip(keys, sf_vals, j_vals, winners, strict=True)]
    reasons = [f"changed on both sides; owner {mapping.field(k).effective_owner} -> {w} wins"
               for k, w in zip(keys, winners, strict=True)]
    return pd.DataFrame({"run_id": run_id, "side": written, "action": "conflict", "sf_id": ids,
                         "jira_key": key_of.reindex(ids).to_numpy(), "field": keys, "before": before,
                         "after": after, "reason": reasons, "cause": "conflict",
                         "direction": ["sf_to_jira" if w == "jira" else "jira_to_sf" for w in written]})


def _deletes(mapping: Mapping, deleted_ids: set[str], key_of: pd.Series) -> pd.DataFrame:
    policy = mapping.deletes.salesforce_deleted if mapping.deletes else None
    linked = sorted(i for i in deleted_ids if i in key_of.index)
    action = policy.action if policy else "ignore"
    return pd.DataFrame({"sf_id": linked, "jira_key": key_of.reindex(linked).to_numpy(), "action": action,
                         "status": getattr(policy, "status", None), "label": getattr(policy, "label", None)})


def _jira_deleted(mapping: Mapping, reported: pd.DataFrame | None, active: pd.DataFrame,
                  deleted_ids: set[str]) -> pd.DataFrame:
    """Confirmed Jira deletions of records still actively linked; a record deleted in Salesforce too has
    nothing left to flag (its link is settled by the Salesforce-deleted policy)."""
    policy = mapping.deletes.jira_deleted
    columns = ["sf_id", "jira_key", "action", "field", "value"]
    if reported is None or not len(reported) or not len(active):
        return pd.DataFrame(columns=columns)
    gone = reported[(reported["verdict"] == "gone") & reported["sf_id"].isin(active["sf_id"])
                    & ~reported["sf_id"].isin(list(deleted_ids))]
    key_of = pd.Series(active["jira_key"].to_numpy(), index=active["sf_id"].to_numpy())
    return pd.DataFrame({"sf_id": gone["sf_id"].to_numpy(dtype=object),
                         "jira_key": key_of.reindex(gone["sf_id"]).to_numpy(dtype=object),
                         "action": policy.action, "field": policy.field, "value": policy.value}, columns=columns)


def _comments(mapping: Mapping, sf_comments: pd.DataFrame | None, jira_comments: pd.DataFrame | None,
              comment_links: pd.DataFrame | None, key_of: pd.Series, creating: pd.Index) -> dict[str, pd.DataFrame]:
    """New comments on linked records, and on records this run creates in Jira (their key is filled in
    by the load once the issue exists: the comments' window will not come round again)."""
    out = {"comments_to_jira": pd.DataFrame(columns=["comment_id", "sf_id", "jira_key", "body"]),
           "comments_to_sf": pd.DataFrame(columns=["comment_id", "sf_id", "jira_key", "body"])}
    if mapping.comments is None:
        return out
    known_sf = set(comment_links["sf_comment_id"]) if comment_links is not None and len(comment_links) else set()
    known_j = set(comment_links["jira_comment_id"]) if comment_links is not None and len(comment_links) else set()
    sf_of_key = pd.Series(key_of.index.to_numpy(), index=key_of.to_numpy())
    if sf_comments is not None and len(sf_comments) and mapping.comments.flows("sf_to_jira"):
        res = comments_to_jira(mapping, sf_comments)
        frame = res.frame[~res.frame.index.isin(list(known_sf))]
        frame = frame[frame["parent_sf_id"].isin(key_of.index) | frame["parent_sf_id"].isin(creating)]
        out["comments_to_jira"] = pd.DataFrame({
            "comment_id": frame.index, "sf_id": frame["parent_sf_id"].to_numpy(),
            "jira_key": key_of.reindex(frame["parent_sf_id"]).to_numpy(), "body": frame["body"].to_numpy()})
    if jira_comments is not None and len(jira_comments) and mapping.comments.flows("jira_to_sf"):
        res = comments_to_salesforce(mapping, jira_comments.astype({"id": str}))
        frame = res.frame[~res.frame.index.isin(list(known_j))]
        frame = frame[frame["issue_key"].isin(sf_of_key.index)]
        out["comments_to_sf"] = pd.DataFrame({
            "comment_id": frame.index, "sf_id": sf_of_key.reindex(frame["issue_key"]).to_numpy(),
            "jira_key": frame["issue_key"].to_numpy(), "body": frame["body"].to_numpy()})
    return out
