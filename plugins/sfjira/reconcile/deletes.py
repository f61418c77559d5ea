"""`delete_unapplied`: a link the sync settled as deleted whose surviving side does not show the policy.

A link leaves "active" once the mapping's delete policy was applied (sync/load_jira.py `_deletes`,
load_salesforce.py `_jira_deleted`); from then on the sync never looks at the pair again. If the write
was lost, or a person undid it (moved the issue out of Done, removed the label, typed the key back),
nothing else would ever report it. Only the surviving side is checked -- a deleted record is not in the
Salesforce frame, a deleted issue not in the Jira frame -- and only where that side is the one gone:

  deleted_sf    transition: the issue is not in the status      label: the issue lacks the label
                delete: the issue still exists
  deleted_jira  flag: the record's field does not hold the value   clear_key: the record still holds a key
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sfjira.mapping.model import Mapping
from sfjira.reconcile.result import (
    DELETE_UNAPPLIED,
    UNAPPLIED_JIRA_DELETED,
    UNAPPLIED_SF_DELETED,
    ReconcileInputError,
)

# What heal_run does with these rows (heal.py `_unapplied`): the link is made active again and the
# record goes through the sync's own delete handling, which applies the policy and settles it again.
FIX = "fix: run the reconciliation with auto_heal, or apply it by hand; the sync never revisits a settled link"


def salesforce_columns(mapping: Mapping) -> list[str]:
    """The sync's Salesforce columns plus the field `jira_deleted: flag` writes (if not mapped anyway)."""
    columns = mapping.salesforce_columns()
    policy = mapping.deletes.jira_deleted
    if policy.action == "flag" and policy.field and policy.field not in columns:
        columns.append(policy.field)
    return columns


def unapplied_rows(mapping: Mapping, sf_frame: pd.DataFrame, jira_frame: pd.DataFrame,
                   links: pd.DataFrame | None) -> pd.DataFrame:
    """One `delete_unapplied` row per settled link whose surviving side lacks what its policy writes."""
    if links is None or not len(links) or "state" not in links.columns:
        return pd.DataFrame()
    state = links["state"].to_numpy()
    parts = [_sf_deleted(mapping, sf_frame, jira_frame, links[state == "deleted_sf"]),
             _jira_deleted(mapping, sf_frame, jira_frame, links[state == "deleted_jira"])]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _positions(index_values: pd.Series, wanted: pd.Series) -> np.ndarray:
    return pd.Index(index_values.astype("str")).get_indexer(pd.Index(wanted.astype("str")))


def _issue_positions(jira_frame: pd.DataFrame, links: pd.DataFrame) -> np.ndarray:
    """Where each link's issue is (-1: gone); by key, else by id (ids survive a move, keys do not)."""
    pos = _positions(jira_frame["key"], links["jira_key"])
    lost = np.flatnonzero(pos < 0)
    ids = jira_frame["id"].astype("str")
    if len(lost) and "jira_id" in links.columns and ids.is_unique:
        pos[lost] = _positions(ids, links["jira_id"].iloc[lost])
    return pos


def _sf_deleted(mapping: Mapping, sf_frame: pd.DataFrame, jira_frame: pd.DataFrame,
                links: pd.DataFrame) -> pd.DataFrame:
    policy = mapping.deletes.salesforce_deleted
    if policy.action == "ignore" or not len(links):
        return pd.DataFrame()
    gone = _positions(sf_frame["Id"], links["sf_id"]) < 0   # a record back from the recycle bin is not deleted
    pos = _issue_positions(jira_frame, links)
    there = gone & (pos >= 0)
    links, pos = links[there], pos[there]
    issues = jira_frame.iloc[pos]
    if policy.action == "transition":
        target = str(policy.status)
        status = issues["status"].astype("str")
        bad = (status.isna() | (status.str.casefold() != target.strip().casefold())).to_numpy(dtype=bool)
        field, value = "status", status.to_numpy(dtype=object)
        what = f"transition to {target!r}: the issue is in " + ("'" + status + "'").fillna("no status")
    elif policy.action == "label":
        labels = issues["labels"].reset_index(drop=True).explode()
        carries = (labels == policy.label).groupby(level=0).any().to_numpy()
        bad = ~carries
        text = issues["labels"].map(lambda v: ", ".join(map(str, v)) if isinstance(v, list | tuple | np.ndarray) else "")
        field, value = "labels", text.to_numpy(dtype=object)
        what = pd.Series(f"label {policy.label!r}: the issue does not carry it", index=issues.index)
    else:  # delete
        bad = np.ones(len(issues), bool)
        field, value = None, None
        what = pd.Series("delete: the issue still exists", index=issues.index)
    if not bad.any():
        return pd.DataFrame()
    detail = (UNAPPLIED_SF_DELETED + ", but deletes.salesforce_deleted is not applied ("
              + what.to_numpy(dtype=object)[bad] + "); " + FIX)
    return _rows(links["sf_id"].to_numpy(dtype=object)[bad], issues["key"].to_numpy(dtype=object)[bad], field,
                 None, value[bad] if value is not None else None, detail)


def _jira_deleted(mapping: Mapping, sf_frame: pd.DataFrame, jira_frame: pd.DataFrame,
                  links: pd.DataFrame) -> pd.DataFrame:
    policy = mapping.deletes.jira_deleted
    if policy.action == "ignore" or not len(links):
        return pd.DataFrame()
    pos = _positions(sf_frame["Id"], links["sf_id"])
    there = (pos >= 0) & (_issue_positions(jira_frame, links) < 0)
    links, pos = links[there], pos[there]
    field = mapping.salesforce.jira_key_field if policy.action == "clear_key" else str(policy.field)
    if field not in sf_frame.columns:
        raise ReconcileInputError(f"`sf_frame` lacks column {field}, which deletes.jira_deleted writes",
                                  fix="extract with reconcile.deletes.salesforce_columns(mapping)")
    held = sf_frame[field].iloc[pos].astype(object)
    blank = held.isna() | (held.astype("str").str.strip() == "")
    if policy.action == "clear_key":
        bad = ~blank.to_numpy()
        what = f"clear_key: {field} still holds a key"
    else:
        bad = (blank | (held.astype("str") != str(policy.value))).to_numpy()
        what = f"flag: {field} does not hold {policy.value!r}"
    if not bad.any():
        return pd.DataFrame()
    detail = (UNAPPLIED_JIRA_DELETED + ", but deletes.jira_deleted is not applied ("
              + what + "); " + FIX)
    return _rows(links["sf_id"].to_numpy(dtype=object)[bad], links["jira_key"].to_numpy(dtype=object)[bad], field,
                 held.to_numpy(dtype=object)[bad], None, detail)


def _rows(sf_id: np.ndarray, jira_key: np.ndarray, field: str | None, sf_value: object, jira_value: object,
          detail: object) -> pd.DataFrame:
    return pd.DataFrame({"category": DELETE_UNAPPLIED, "sf_id": sf_id, "jira_key": jira_key, "field": field,
                         "sf_value": sf_value, "jira_value": jira_value, "owner": None, "winner": None,
                         "detail": detail})
