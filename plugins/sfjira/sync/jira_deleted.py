"""Jira deletions reported by webhook, applied by the next sync run -- but only once Jira confirms them.

The receiver (sfjira.webhooks) keeps a verified `jira:issue_deleted` for a linked issue as a pending row
(sfjira.state.jira_deletes). A webhook is not proof, so the run's Jira extract (`confirm`) reads each
pending issue, by id where known (a moved issue keeps its id, and is not deleted): `gone` on a 404,
`exists` otherwise, and `out_of_scope` without a call for a key outside the mapping's project. The plan
turns the gone ones into its `jira_deleted` table, and load_salesforce applies the mapping's jira_deleted
policy to those records on the same path as to records whose issue a Jira write found gone: one write per
record under an intent, ledgered as `delete` / cause `delete_policy`, the link leaving "active" only once
the write succeeded. After its writes load_salesforce settles every report the run took (`settle`); a
record whose policy write failed stays pending, so the next run confirms and tries it again. Nothing is
settled before the load, so a failed or dry run leaves every report pending.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from sfjira.identity.keys import ISSUE_ID, is_jira_key, key_project
from sfjira.rows import each_row
from sfjira.storage import read_frame
from sfjira.sync.run import SyncRun

log = logging.getLogger(__name__)

TAKEN_COLUMNS = ["sf_id", "jira_key", "jira_id", "received_at", "verdict"]
GONE, EXISTS, OUT_OF_SCOPE = "gone", "exists", "out_of_scope"


def confirm(run: SyncRun) -> tuple[pd.DataFrame, int]:
    """The pending reports this run takes (TAKEN_COLUMNS), each with its `verdict`: `gone` (Jira answers
    404), `exists`, or `out_of_scope` (not a key of the mapping's project: not asked); and the GETs made."""
    pending = run.state.pending_jira_deletes(run.name)
    if not len(pending):
        return pd.DataFrame(columns=TAKEN_COLUMNS), 0
    project = run.mapping.jira.project
    in_scope = pending["jira_key"].map(lambda key: is_jira_key(key) and key_project(key) == project).astype(bool)
    verdict = pd.Series(OUT_OF_SCOPE, index=pending.index, dtype=object)
    for row in each_row(pending[in_scope]):
        found = run.jira.issue_identity(_address(row), ["project"])
        verdict[row.Index] = GONE if found is None else EXISTS
    taken = pending.assign(verdict=verdict)
    log.info("Jira deletions reported by webhook for %s: %s", run.name, verdict.value_counts().to_dict())
    return taken[TAKEN_COLUMNS].reset_index(drop=True), int(in_scope.sum())


def _address(row: Any) -> str:
    """The issue's id when it is one (ids survive a move), else its key; both shapes checked again by the hook."""
    jira_id = row.jira_id if isinstance(row.jira_id, str) else None
    return jira_id if jira_id and ISSUE_ID.fullmatch(jira_id) else str(row.jira_key)


def settle(run: SyncRun, plan_out: dict[str, Any], applied: set[str]) -> dict[str, int]:
    """After load_salesforce's writes: settle the reports this run took. `applied`: records whose policy
    write this run made. A record whose link is still active with a policy that writes had its write
    refused: its report stays pending for the next run."""
    taken = read_frame(plan_out["jira_deleted_taken"]) if plan_out.get("jira_deleted_taken") else None
    if taken is None or not len(taken):
        return {}
    policy = run.mapping.deletes.jira_deleted
    active = set(run.state.links_of(run.name, sf_ids=taken["sf_id"].astype(str).tolist(), state="active")["sf_id"])
    outcomes = {"exists": taken[taken["verdict"] == EXISTS], "out_of_scope": taken[taken["verdict"] == OUT_OF_SCOPE]}
    taken = taken[taken["verdict"] == GONE]
    ids = taken["sf_id"]
    outcomes |= {
        "ignored": taken[ids.isin(active)] if policy.action == "ignore" else taken.iloc[:0],
        "applied": taken[~ids.isin(active) & ids.isin(applied)],
        "settled": taken[~ids.isin(active) & ~ids.isin(applied)],
    }
    counts = {outcome: run.state.settle_jira_deletes(run.name, rows, outcome, run_id=run.run_id)
              for outcome, rows in outcomes.items() if len(rows)}
    left = len(taken) - sum(len(outcomes[o]) for o in ("ignored", "applied", "settled"))
    if left:
        counts["left_pending"] = left
    return counts
