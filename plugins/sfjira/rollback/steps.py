"""The rollback's plan step: the run's ledger + what each side holds now (read by id) -> the actions
(Parquet, PII sealed) and a readable diff (`rollback_diff.md`) in the rollback's run folder. It writes
nothing to either system; a dry run ends here."""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd

from sfjira.identity.keys import is_jira_key, is_sfid, key_project
from sfjira.mapping import Mapping
from sfjira.rollback.plan import plan_rollback, render_diff
from sfjira.rollback.run import RollbackRun
from sfjira.state.audit import audit
from sfjira.storage import read_frame, write_frame, write_text
from sfjira.sync.before import jira_images, salesforce_images

log = logging.getLogger(__name__)

VALUES = ("before", "after", "current")
"""Columns holding field values of any type: JSON text in the Parquet files, sealed when the mapping has PII."""


def writable(mapping: Mapping) -> dict[str, set[str]]:
    """The fields a rollback may write on each side: those the mapping writes there, and the key write-back."""
    sf = mapping.salesforce
    return {"jira": {f.jira for f in mapping.fields_for("sf_to_jira")},
            "salesforce": {f.salesforce for f in mapping.fields_for("jira_to_sf")}
            | {c for c in (sf.jira_key_field, sf.jira_url_field) if c}}


def target_ledger(run: RollbackRun) -> pd.DataFrame:
    """The ledger rows of the run(s) undone, oldest first, PII opened, whose record ids are well-formed
    and of this mapping's project (the ledger is ours, but values that address a write are checked)."""
    cipher = run.pii.cipher if run.pii.active else None
    parts = [audit(run.state, mapping=run.name, run=t, cipher=cipher) for t in run.targets]
    rows = pd.concat(parts, ignore_index=True).sort_values("seq") if parts else pd.DataFrame()
    if not len(rows):
        return rows
    project = run.mapping.jira.project
    key_ok = rows["jira_key"].map(lambda k: not isinstance(k, str) or (is_jira_key(k) and key_project(k) == project))
    ok = rows["sf_id"].map(is_sfid) & key_ok.astype(bool)
    if not ok.all():
        log.warning("%d ledger row(s) of %s name a record id that is not well-formed or not of project %s: "
                    "left out", int((~ok).sum()), run.target, project)
    return rows[ok]


def current_values(run: RollbackRun, ledger: pd.DataFrame, allowed: dict[str, set[str]]) -> dict[str, Any]:
    """What each side holds now in the records and fields the run wrote (one search per 100 issues, one
    SOQL per 200 records), the issues it created included."""
    if not len(ledger):
        return {"jira": {}, "salesforce": {}}
    jira_rows = ledger[ledger["side"] == "jira"]
    sf_rows = ledger[(ledger["side"] == "salesforce") & ledger["field"].isin(list(allowed["salesforce"]))]
    fields: dict[str, set[str]] = {}
    for sf_id, field in zip(sf_rows["sf_id"], sf_rows["field"], strict=True):
        fields.setdefault(str(sf_id), set()).add(str(field))
    return {"jira": jira_images(run, jira_rows["jira_key"].dropna()), "salesforce": salesforce_images(run, fields)}


def plan_step(run: RollbackRun) -> dict[str, Any]:
    earlier = started_plan(run)
    if earlier is not None:
        log.info("Rollback of %s: its restore began in an earlier attempt; that attempt's plan is kept",
                 ", ".join(run.targets))
        return earlier
    ledger = target_ledger(run)
    allowed = writable(run.mapping)
    planned = plan_rollback(ledger, current_values(run, ledger, allowed), created=run.created, writable=allowed)
    actions, created = planned["actions"], planned["created"]
    masked = {str(f) for f in actions["field"] if run.pii.names_pii(f)} if run.pii.active else set()
    diff = render_diff(", ".join(run.targets), planned, masked=masked, dry_run=run.dry_run)
    out: dict[str, Any] = {
        "targets": run.targets, "state_run": run.run_id, "dry_run": run.dry_run, "created_policy": run.created,
        "actions": write_frame(run.folder, "rollback_actions", as_json(actions), pii=run.pii, sealed=VALUES),
        "created": write_frame(run.folder, "rollback_created", created),
        "diff": write_text(run.folder, "rollback_diff.md", diff),
        "fields": {str(k): int(v) for k, v in actions["status"].value_counts().items()},
        "issues": {str(k): int(v) for k, v in created["status"].value_counts().items()},
    }
    log.info("Rollback of %s planned: %s; created issues: %s; diff: %s", ", ".join(run.targets), out["fields"],
             out["issues"], out["diff"])
    print(f"SFJIRA ROLLBACK PLAN {run.name}: {json.dumps({k: out[k] for k in ('targets', 'fields', 'issues')})}")
    if run.dry_run:
        run.state.finish_run(run.run_id, "success", summary={"rollback": {k: v for k, v in out.items()
                                                                          if k in ("targets", "fields", "issues")}})
    else:
        run.state.update_run_summary(run.run_id, {"rollback": {"plan": out}})
    return out


def started_plan(run: RollbackRun) -> dict[str, Any] | None:
    """The plan of an earlier attempt of this rollback whose restore began (it announced a chunk), else None.

    A re-run of the whole DAG run (cleared, or run again) plans again; planned afresh, the fields the
    killed attempt restored would read `already` and drop out of the restore, which would then neither
    ledger them (rolling the rollback back would miss them) nor chunk the rest as before -- and a chunk
    number the first attempt completed would be skipped with other records in it. The earlier plan
    keeps both: its chunks are the same, and the restore reads each record again before writing."""
    if run.dry_run or run.state.intents(run.name, run_id=run.run_id).empty:
        return None
    found = ((run.state.get_run(run.run_id) or {}).get("summary") or {}).get("rollback", {}).get("plan")
    return dict(found) if found else None


def as_json(frame: pd.DataFrame) -> pd.DataFrame:
    """Value columns as JSON text (Parquet holds one type per column; a field's values are of any type)."""
    return frame.assign(**{c: [json.dumps(v) for v in frame[c]] for c in VALUES})


def from_json(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(**{c: pd.Series([json.loads(v) for v in frame[c]], index=frame.index, dtype=object)
                           for c in VALUES})


def read_actions(path: str) -> pd.DataFrame:
    return from_json(read_frame(path))
