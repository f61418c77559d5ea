"""auto_heal: the drift `heal_plan` decided to repair, sent through the sync's own plan and load.

There is no second write path. The state store is prepared so that the sync's rules reach the
heal's decisions by themselves, then the sync's `transform_step`, `plan_step`, `load_jira` and
`load_salesforce` run on slices of the reconciliation's extract, under a run whose window is the full
one (so no watermark moves):

  field drift        the last-agreed hash of each healed field is set to the LOSER's current value:
                     the plan then sees the winner's side as changed and the loser's as not, and
                     writes the winner's value with the same payload, transitions and ledger as a sync
  missing in Jira    the record goes to the plan unlinked: it is created like any new record; a key it
                     still holds of an issue that is gone is blanked in the frame, or the plan would
                     adopt the dead key
  orphans            clear_key: the link is forgotten first, then as above; the record is gone: its id
                     goes to the plan as a Salesforce deletion (salesforce_deleted policy); the issue
                     is gone: the record goes to load_salesforce as an issue found deleted
                     (jira_deleted policy); both gone: the link is forgotten
  record lacks key   the link is confirmed again in this run: the load's key write-back rewrites it
  delete unapplied   as the orphans: a deleted_sf link is made active again first (the plan deletes
                     only for active links), and the load settles it again once the policy is applied

Every decision (healed or left, with the reason) is appended to the ledger once per run.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from sfjira.reconcile.heal import HealPlan, heal_plan
from sfjira.reconcile.result import DELETE_UNAPPLIED
from sfjira.reconcile.run import ReconcileRun
from sfjira.reconcile.steps import read_sides, stored_result
from sfjira.storage import read_frame, write_frame
from sfjira.sync.agreed import agreed_rows
from sfjira.sync.load_jira import load_jira
from sfjira.sync.load_salesforce import load_salesforce
from sfjira.sync.steps import plan_step, transform_step
from sfjira.sync.writer import auto_heal, one_writer
from sfjira.transform import canonical_values

log = logging.getLogger(__name__)

@one_writer(when=auto_heal)
def heal_step(run: ReconcileRun, sf_out: dict[str, Any], jira_out: dict[str, Any],
              compare_out: dict[str, Any]) -> dict[str, Any]:
    store = run.state
    if not run.auto_heal:
        store.finish_run(run.run_id, "success", summary={"heal": {"auto_heal": False}})
        return {"auto_heal": False}
    before = ((store.get_run(run.run_id) or {}).get("summary") or {}).get("heal") or {}
    if before.get("finished"):  # a retry of a heal that completed
        return {k: v for k, v in before.items() if k != "plan"}
    plan = heal_plan(stored_result(run, compare_out), run.mapping)
    out: dict[str, Any] = {"auto_heal": True, "decisions": plan.counts()}
    if not plan.empty:
        # A retried task re-uses its plan: the state was prepared for it, and the loads resume their intents.
        plan_out = before.get("plan") or _prepare_and_plan(run, plan, sf_out, jira_out)
        store.update_run_summary(run.run_id, {"heal": {"plan": plan_out}})
        jira_res = load_jira(run, plan_out)
        jira_res["jira_gone"] = _gone_issues(run, jira_res, plan)
        sf_res = load_salesforce(run, plan_out, jira_res)
        out["plan"] = plan_out["counts"]
        out["load_jira"] = _counts(jira_res)
        out["load_salesforce"] = _counts(sf_res)
    _ledger_once(run, plan)
    rejected = sum(int(out.get(step, {}).get(k, 0)) for step, k in
                   (("load_jira", "rejected"), ("load_jira", "transform_rejects"), ("load_salesforce", "sf_rejected")))
    store.finish_run(run.run_id, "partial" if rejected else "success", summary={"heal": {**out, "finished": True}})
    log.info("auto_heal for %s: %s", run.name, json.dumps(out, sort_keys=True))
    print(f"SFJIRA HEAL {run.name}: {json.dumps(out, sort_keys=True)}")
    return out


def _counts(result: dict[str, Any]) -> dict[str, Any]:
    """A load's result without its file paths (XCom and the run summary carry counts only)."""
    return {k: v for k, v in result.items() if isinstance(v, int | dict)}


def _prepare_and_plan(run: ReconcileRun, plan: HealPlan, sf_out: dict[str, Any],
                      jira_out: dict[str, Any]) -> dict[str, Any]:
    # Only the rows the heal sends through the sync: its memory follows the drift, not the window.
    sf, jira = read_sides(sf_out, jira_out, sf_ids=set(plan.sf_ids),
                          jira_keys=set(plan.jira_keys) | set(plan.relink["jira_key"].dropna().astype(str)))
    store, name = run.state, run.name
    if len(plan.unlink):
        store.delete_links(name, plan.unlink["sf_id"].tolist())
    reopen = plan.actions[(plan.actions["category"] == DELETE_UNAPPLIED)
                          & (plan.actions["action"] == "salesforce_deleted")]["sf_id"]
    if len(reopen):
        # The sync's plan deletes only for active links; its load settles them again once applied. No run
        # id: a link "updated" in this run would get its key written back onto the deleted record.
        store.set_link_state(name, reopen.tolist(), "active")
    agree_on_losers(run, plan, sf, jira)
    relink_keys = _relink(run, plan)
    written = pd.concat([plan.push_to_jira, plan.pull_to_salesforce], ignore_index=True)
    ids = set(written["sf_id"]) | set(plan.create_in_jira["sf_id"])
    records = sf[sf["Id"].isin(list(ids))].copy()
    stale = plan.create_in_jira.dropna(subset=["stale_key"])["sf_id"]
    records.loc[records["Id"].isin(list(stale)), run.mapping.salesforce.jira_key_field] = None
    issues = jira[jira["key"].isin(list(set(written["jira_key"]) | set(relink_keys)))]
    deleted = plan.deletes[plan.deletes["gone"] == "salesforce"]
    sf_paths = {"records": write_frame(run.folder, "heal_sf_records", records, pii=run.pii),
                "deleted": write_frame(run.folder, "heal_sf_deleted", pd.DataFrame({"Id": deleted["sf_id"].astype(
                    object).to_numpy()}))}
    jira_paths = {"issues": write_frame(run.folder, "heal_jira_issues", issues, pii=run.pii)}
    log.info("auto_heal: %d records, %d issues and %d Salesforce deletions go to the sync's plan", len(records),
             len(issues), len(deleted))
    return plan_step(run, sf_paths, jira_paths, transform_step(run, sf_paths, jira_paths))


def _long(frame: pd.DataFrame, loser: str) -> pd.DataFrame:
    cells = frame.explode("fields").rename(columns={"fields": "field"})
    return cells.assign(loser=loser)[["sf_id", "jira_key", "field", "loser"]]


def agree_on_losers(run: ReconcileRun, plan: HealPlan, sf: pd.DataFrame, jira: pd.DataFrame) -> int:
    """Set the agreed hash of every healed field to the loser's current canonical value (hashed as the
    sync hashes it), so the plan finds only the winner's side changed. Returns the records touched."""
    mapping = run.mapping
    keys = [f.canonical_key for f in mapping.synced_fields]
    cells = pd.concat([_long(plan.push_to_jira, "jira"), _long(plan.pull_to_salesforce, "salesforce")],
                      ignore_index=True)
    cells = cells[cells["field"].isin(keys)]
    if not len(cells):
        return 0
    sf_c = canonical_values(mapping, sf[sf["Id"].isin(cells["sf_id"])], "salesforce").frame
    jira_c = canonical_values(mapping, jira[jira["key"].isin(cells["jira_key"])], "jira").frame
    hashes = pd.Series(index=cells.index, dtype=object)
    for key, group in cells.groupby("field"):
        from_jira = run.pii.field_hashes(jira_c[[key]])[key].reindex(group["jira_key"]).to_numpy(dtype=object)
        from_sf = run.pii.field_hashes(sf_c[[key]])[key].reindex(group["sf_id"]).to_numpy(dtype=object)
        hashes[group.index] = np.where(group["loser"] == "jira", from_jira, from_sf)
    cells = cells.assign(hash=hashes)
    rows = agreed_rows(run, cells)
    run.state.save_synced_state(run.name, rows, run.run_id)
    log.info("auto_heal: agreed hashes of %d field(s) on %d record(s) set to the losing side's value", len(cells),
             cells["sf_id"].nunique())
    return int(cells["sf_id"].nunique())


def _relink(run: ReconcileRun, plan: HealPlan) -> list[str]:
    """Links whose record lacks the issue's key are confirmed again in this run (the load writes the key
    back for links of its run). A pair with no link yet is left to the plan, which adopts it: the keys
    of those issues are returned to go to the plan."""
    if not len(plan.relink):
        return []
    links = run.state.links(run.name, state="active")
    linked = links[links["sf_id"].isin(plan.relink["sf_id"])]
    if len(linked):
        run.state.upsert_links(run.name, linked[["sf_id", "jira_key", "jira_id"]], run.run_id)
    return plan.relink.loc[~plan.relink["sf_id"].isin(linked["sf_id"]), "jira_key"].tolist()


def _gone_issues(run: ReconcileRun, jira_res: dict[str, Any], plan: HealPlan) -> str:
    """The issues the Jira load found deleted plus the orphans whose issue is gone: load_salesforce
    applies the mapping's jira_deleted policy to both."""
    found = read_frame(jira_res["jira_gone"])["sf_id"] if jira_res.get("jira_gone") else pd.Series(dtype=object)
    orphans = plan.deletes.loc[plan.deletes["gone"] == "jira", "sf_id"]
    ids = pd.concat([found.astype(object), orphans.astype(object)], ignore_index=True).drop_duplicates()
    return write_frame(run.folder, "heal_jira_gone", pd.DataFrame({"sf_id": ids.to_numpy(dtype=object)}))


def _ledger_once(run: ReconcileRun, plan: HealPlan) -> None:
    rows = plan.ledger_rows()
    if not len(rows):
        return
    done = run.state.ledger(run_id=run.run_id, mapping=run.name)
    if len(done) and done["action"].isin(["heal", "skip"]).any():
        return
    run.state.append_ledger(rows, run_id=run.run_id, mapping=run.name)
