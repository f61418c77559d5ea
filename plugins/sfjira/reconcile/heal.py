"""auto_heal, decided: which records the sync's own plan/load must re-process, and why the rest is left.

Nothing here writes to an API or to the state store. Healing goes through the normal sync path
with the same owner rules (never a second write path); this module only says what to send there:

  push_to_jira        (sf_id, jira_key, fields) whose Jira values must take Salesforce's
  pull_to_salesforce  (sf_id, jira_key, fields) whose Salesforce values must take Jira's
  create_in_jira      records to create again (missing in Jira; orphans under `jira_deleted: clear_key`)
  relink              pairs whose record lacks the issue's key: the link is confirmed again, so the
                      sync's key write-back rewrites the key field
  unlink              links to forget first (orphans whose issue is gone, or both sides gone)
  deletes             orphans whose record is gone, and settled links whose delete policy is not applied
                      (delete_unapplied): the sync's salesforce_deleted / jira_deleted handling
  actions             one row per drift row: the action taken or the reason none was (duplicates,
                      orphans and issues missing in Salesforce are never healed blindly; a key or id the
                      identity rules refused is never healed at all: a person must correct it)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sfjira.mapping.model import Mapping
from sfjira.reconcile import result as drift
from sfjira.reconcile.result import (
    CONFLICT_PENDING,
    DELETE_UNAPPLIED,
    DUPLICATE,
    FIELD_CATEGORIES,
    IDENTITY_REFUSED,
    MISSING_IN_JIRA,
    MISSING_IN_SALESFORCE,
    ORPHAN_LINK,
    DriftResult,
)

ACTION_COLUMNS = ("category", "sf_id", "jira_key", "field", "action", "side", "reason")
HEALABLE = (MISSING_IN_JIRA, ORPHAN_LINK, DELETE_UNAPPLIED, *FIELD_CATEGORIES)


@dataclass(frozen=True)
class HealPlan:
    mapping: str
    push_to_jira: pd.DataFrame
    pull_to_salesforce: pd.DataFrame
    create_in_jira: pd.DataFrame     # sf_id, stale_key (a key the record holds for an issue that is gone)
    unlink: pd.DataFrame             # sf_id, jira_key
    deletes: pd.DataFrame            # sf_id, jira_key, gone ("salesforce" | "jira"), policy (the mapping's action)
    actions: pd.DataFrame            # ACTION_COLUMNS, indexed like the drift rows they decide
    relink: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["sf_id", "jira_key"]))

    @property
    def sf_ids(self) -> list[str]:
        """Every Salesforce id the sync must re-process, sorted."""
        parts = [self.push_to_jira["sf_id"], self.pull_to_salesforce["sf_id"], self.create_in_jira["sf_id"],
                 self.deletes["sf_id"], self.relink["sf_id"]]
        return sorted({str(v) for p in parts for v in p.dropna()})

    @property
    def jira_keys(self) -> list[str]:
        """Every Jira key the sync must re-process, sorted."""
        parts = [self.push_to_jira["jira_key"], self.pull_to_salesforce["jira_key"], self.deletes["jira_key"]]
        return sorted({str(v) for p in parts for v in p.dropna()})

    @property
    def empty(self) -> bool:
        return not (len(self.push_to_jira) or len(self.pull_to_salesforce) or len(self.create_in_jira)
                    or len(self.unlink) or len(self.deletes) or len(self.relink))

    def counts(self) -> dict[str, int]:
        if not len(self.actions):
            return {}
        return {str(action): int(n) for action, n in self.actions["action"].value_counts().items()}

    def ledger_rows(self) -> pd.DataFrame:
        """The decisions in the ledger's shape (StateStore.append_ledger): `heal` for what is sent
        through the sync, `skip` with the reason for what is not."""
        acted = self.actions["action"] != "none"
        return pd.DataFrame({
            "side": self.actions["side"].to_numpy(), "action": np.where(acted, "heal", "skip"),
            "sf_id": self.actions["sf_id"].to_numpy(), "jira_key": self.actions["jira_key"].to_numpy(),
            "field": self.actions["field"].to_numpy(), "cause": "heal",
            "reason": (self.actions["category"] + ": " + self.actions["action"] + " -- "
                       + self.actions["reason"]).to_numpy(),
        })


def heal_plan(result: DriftResult, mapping: Mapping) -> HealPlan:
    rows = result.rows
    parts = [_fields(mapping, rows[rows["category"].isin(FIELD_CATEGORIES)]),
             _missing_in_jira(rows[rows["category"] == MISSING_IN_JIRA]),
             _orphans(mapping, rows[rows["category"] == ORPHAN_LINK]),
             _unapplied(rows[rows["category"] == DELETE_UNAPPLIED]),
             _unhealed(mapping, rows[rows["category"].isin([DUPLICATE, MISSING_IN_SALESFORCE])]),
             _refused(mapping, rows[rows["category"] == IDENTITY_REFUSED])]
    actions = pd.concat([p for p in parts if len(p)]) if any(len(p) for p in parts) else \
        pd.DataFrame(columns=list(ACTION_COLUMNS))
    return HealPlan(
        mapping=mapping.name,
        push_to_jira=_writes(actions, "write_jira"),
        pull_to_salesforce=_writes(actions, "write_salesforce"),
        create_in_jira=_creates(actions),
        unlink=_pick(actions, actions["action"].isin(["unlink", "unlink_and_recreate"]), ["sf_id", "jira_key"]),
        deletes=_deletes(mapping, actions),
        actions=actions.reindex(columns=list(ACTION_COLUMNS)),
        relink=_pick(actions, actions["action"] == "relink", ["sf_id", "jira_key"]),
    )


def _frame(rows: pd.DataFrame, action: object, side: object, reason: object) -> pd.DataFrame:
    return pd.DataFrame({"category": rows["category"].to_numpy(), "sf_id": rows["sf_id"].to_numpy(),
                         "jira_key": rows["jira_key"].to_numpy(), "field": rows["field"].to_numpy(),
                         "action": action, "side": side, "reason": reason}, index=rows.index)


def _fields(mapping: Mapping, rows: pd.DataFrame) -> pd.DataFrame:
    """The owner rules already picked the winner of each cell: write its value over the other side.
    The ids each side keeps of the other are not mapped fields: the record's key is rewritten by the
    sync's key write-back (relink); the sync writes the issue's Salesforce id only when it creates it."""
    if not len(rows):
        return pd.DataFrame()
    to_jira = (rows["winner"] == "salesforce").to_numpy()
    source = np.where(to_jira, "Salesforce", "Jira")
    conflict = (rows["category"] == CONFLICT_PENDING).to_numpy()
    reason = np.where(conflict, "conflict resolved by owner " + rows["owner"].astype(str).to_numpy() + ": ",
                      "") + source + " value sent through the sync"
    action = np.where(to_jira, "write_jira", "write_salesforce")
    side = np.where(to_jira, "jira", "salesforce")
    mapped = rows["field"].isin([f.canonical_key for f in mapping.synced_fields]).to_numpy()
    key_field = (rows["field"] == mapping.salesforce.jira_key_field).to_numpy() & ~mapped
    sfid_field = ~mapped & ~key_field
    action = np.select([key_field, sfid_field], ["relink", "none"], action)
    side = np.where(key_field, "salesforce", np.where(sfid_field, "jira", side))
    reason = np.select(
        [key_field, sfid_field],
        [f"the link is confirmed again, so the sync's key write-back rewrites {mapping.salesforce.jira_key_field}",
         "the sync writes the Salesforce id onto an issue only when it creates it: set it on the issue by hand"],
        reason)
    return _frame(rows, action, side, reason)


def _missing_in_jira(rows: pd.DataFrame) -> pd.DataFrame:
    if not len(rows):
        return pd.DataFrame()
    return _frame(rows, "create", "jira", "created through the sync's create path")


def _orphans(mapping: Mapping, rows: pd.DataFrame) -> pd.DataFrame:
    """By the mapping's delete policy: the side that is gone was deleted behind the sync's back."""
    if not len(rows):
        return pd.DataFrame()
    detail = rows["detail"].astype(str)
    jira_gone = detail.str.startswith(drift.ISSUE_GONE).to_numpy()
    sf_gone = detail.str.startswith(drift.RECORD_GONE).to_numpy()
    j_policy = mapping.deletes.jira_deleted.action
    s_policy = mapping.deletes.salesforce_deleted.action
    j_action = {"clear_key": "unlink_and_recreate", "flag": "jira_deleted", "ignore": "none"}[j_policy]
    s_action = "none" if s_policy == "ignore" else "salesforce_deleted"
    j_reason = {"clear_key": "deletes.jira_deleted is clear_key: the link is forgotten and the record created again",
                "flag": f"deletes.jira_deleted is flag: the record is flagged ({mapping.deletes.jira_deleted.field})",
                "ignore": "deletes.jira_deleted is ignore: left as it is; set clear_key or flag to heal it"}[j_policy]
    s_reason = (f"deletes.salesforce_deleted is {s_policy}: the issue is handled as for a deleted record"
                if s_policy != "ignore" else
                "deletes.salesforce_deleted is ignore: left as it is; set transition, label or delete to heal it")
    action = np.where(jira_gone, j_action, np.where(sf_gone, s_action, "unlink"))
    side = np.where(jira_gone, "salesforce", "jira")
    reason = np.where(jira_gone, j_reason, np.where(sf_gone, s_reason, "neither side exists: the link is forgotten"))
    return _frame(rows, action, side, reason)


def _unapplied(rows: pd.DataFrame) -> pd.DataFrame:
    """A settled link whose policy is not applied goes through the sync's delete handling again (heal_run
    makes a deleted_sf link active first: the sync's plan only deletes for active links)."""
    if not len(rows):
        return pd.DataFrame()
    jira_gone = rows["detail"].astype(str).str.startswith(drift.UNAPPLIED_JIRA_DELETED).to_numpy()
    return _frame(rows, np.where(jira_gone, "jira_deleted", "salesforce_deleted"),
                  np.where(jira_gone, "salesforce", "jira"), "the mapping's delete policy applied again by the sync")


def _unhealed(mapping: Mapping, rows: pd.DataFrame) -> pd.DataFrame:
    """Duplicates and issues without a Salesforce record need a person: deleting or merging an issue
    that may hold work is not the sync's call."""
    if not len(rows):
        return pd.DataFrame()
    key_field = mapping.salesforce.jira_key_field
    dup = (rows["category"] == DUPLICATE).to_numpy()
    sf_side_dup = dup & ~rows["detail"].astype(str).str.startswith(drift.ISSUE_CARRIES).to_numpy()
    reason = np.select(
        [sf_side_dup, dup, rows["sf_id"].isna().to_numpy()],
        [f"two Salesforce records hold one Jira key: clear {key_field} on the record that does not belong",
         "two Jira issues carry one Salesforce id: the sync keeps the paired issue and never deletes one on its own; "
         "merge or delete the other, or clear its Salesforce id",
         "the issue carries no Salesforce id and the sync creates no Salesforce records from Jira: link or "
         "delete it by hand"],
        "the Salesforce record it names is not in scope or was deleted; check the record, then link or delete the "
        "issue by hand")
    side = np.where(sf_side_dup, "salesforce", "jira")
    return _frame(rows, "none", side, reason)


def _refused(mapping: Mapping, rows: pd.DataFrame) -> pd.DataFrame:
    """Claims the identity rules refused: healing would write by an identity someone typed in, which is
    exactly what the rules forbid. The detail says what to correct, and where."""
    if not len(rows):
        return pd.DataFrame()
    record_side = (rows["field"] == mapping.salesforce.jira_key_field).to_numpy()
    reason = "the sync refuses this identity and writes nothing for it: " + rows["detail"].astype(str)
    return _frame(rows, "none", np.where(record_side, "salesforce", "jira"), reason.to_numpy())


def _pick(actions: pd.DataFrame, mask: pd.Series, columns: list[str]) -> pd.DataFrame:
    if not len(actions):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return actions.loc[mask.to_numpy(), columns].drop_duplicates().reset_index(drop=True)


def _writes(actions: pd.DataFrame, action: str) -> pd.DataFrame:
    """One row per record: the fields whose value must go over."""
    picked = _pick(actions, actions["action"] == action, ["sf_id", "jira_key", "field"])
    if not len(picked):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ("sf_id", "jira_key", "fields")})
    grouped = picked.groupby(["sf_id", "jira_key"], sort=True)["field"].agg(lambda f: sorted(set(f)))
    return grouped.rename("fields").reset_index()


def _creates(actions: pd.DataFrame) -> pd.DataFrame:
    """`stale_key`: the key of the gone issue the record may still hold; the sync adopts a record by the
    key it holds, so that key must be cleared for the create to happen."""
    picked = _pick(actions, actions["action"].isin(["create", "unlink_and_recreate"]), ["sf_id", "jira_key"])
    return picked.rename(columns={"jira_key": "stale_key"})


def _deletes(mapping: Mapping, actions: pd.DataFrame) -> pd.DataFrame:
    picked = _pick(actions, actions["action"].isin(["jira_deleted", "salesforce_deleted"]),
                   ["sf_id", "jira_key", "action"])
    jira_gone = (picked["action"] == "jira_deleted").to_numpy()
    policy = np.where(jira_gone, mapping.deletes.jira_deleted.action, mapping.deletes.salesforce_deleted.action)
    return pd.DataFrame({"sf_id": picked["sf_id"].to_numpy(), "jira_key": picked["jira_key"].to_numpy(),
                         "gone": np.where(jira_gone, "jira", "salesforce"), "policy": policy})
