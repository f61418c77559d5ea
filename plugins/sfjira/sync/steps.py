"""The transform step (extracts -> canonical frames + rejects) and the plan step (those frames + the
state store -> plan tables + a readable diff), all in the run folder; and the reject bookkeeping the
load step does before writing."""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd

from sfjira.identity.lookup import judge
from sfjira.pii import is_sealed
from sfjira.rows import each_row
from sfjira.storage import read_frame, write_frame, write_text
from sfjira.sync import budget
from sfjira.sync.plan import PLAN_TABLES, Plan, plan_transformed
from sfjira.sync.run import SyncRun
from sfjira.sync.transformed import Side, read_result, transform_side, write_result
from sfjira.sync.writer import one_writer

log = logging.getLogger(__name__)


@one_writer(keep=True)
def transform_step(run: SyncRun, sf_out: dict[str, Any], jira_out: dict[str, Any]) -> dict[str, Any]:
    """Both extracts through the mapping: canonical frames, other-side values and the transform's rejects,
    as Parquet in the run folder (sfjira.sync.transformed). Reads only the extracts' files, so it runs
    again on the same extracts once a mapping is fixed."""
    out: dict[str, Any] = {}
    sides: tuple[tuple[Side, str], ...] = (("salesforce", sf_out["records"]), ("jira", jira_out["issues"]))
    for side, records in sides:
        result = transform_side(run.mapping, side, read_frame(records))
        out[side] = write_result(run.folder, side, result, run.pii)
        out[f"{side}_kept"], out[f"{side}_rejects"] = len(result.frame), len(result.rejects)
    log.info("Transform for %s: %d of %d Salesforce records and %d of %d Jira issues kept, %d and %d rejects",
             run.name, out["salesforce_kept"], _read_count(sf_out), out["jira_kept"], _read_count(jira_out),
             out["salesforce_rejects"], out["jira_rejects"])
    return out


def _read_count(extract_out: dict[str, Any]) -> int:
    return int(extract_out.get("changed", 0))


@one_writer(keep=True)
def plan_step(run: SyncRun, sf_out: dict[str, Any], jira_out: dict[str, Any],
              transform_out: dict[str, Any]) -> dict[str, Any]:
    """The extracts (for the identity rules, deletions and comments) and the transform's frames + the state
    store -> plan tables and a readable diff. Its output names the state-store run the loads write under
    (`state_run`) and the window the extracts read (`window`): the steps after it take both from here."""
    mapping = run.mapping
    store = run.state
    if not run.dry_run:
        run.state_run = run.fresh_state_run()
    sf_records, jira_issues = read_frame(sf_out["records"]), read_frame(jira_out["issues"])
    links = store.links(mapping.name)
    # Keys and ids no link backs are checked before anything can be adopted by them.
    verdict = judge(mapping, sf_records, jira_issues, links, run.jira, run.salesforce)
    plan = plan_transformed(
        mapping, read_result(mapping, "salesforce", transform_out["salesforce"]),
        read_result(mapping, "jira", transform_out["jira"]), read_frame(sf_out["deleted"]),
        links, store.synced_state(mapping.name), cloud=_is_cloud(run), run_id=run.run_id,
        sf_comments=read_frame(sf_out["comments"]) if sf_out.get("comments") else None,
        jira_comments=read_frame(jira_out["comments"]) if jira_out.get("comments") else None,
        comment_links=store.comment_links(mapping.name) if mapping.comments else None, refused=verdict.refused,
        pii=run.pii,
    )
    # `fields` (JSON of the values to write) may hold PII values: sealed like the PII columns.
    paths = {name: write_frame(run.folder, f"plan_{name}", plan.tables[name], pii=run.pii, sealed=("fields",))
             for name in PLAN_TABLES}
    counts = plan.counts()
    diff = write_text(run.folder, "plan_diff.md", render_diff(run, plan))
    log.info("Plan for %s%s: %s (readable diff: %s)", mapping.name, " (dry run)" if run.dry_run else "", counts, diff)
    return {"tables": paths, "counts": counts, "diff": diff, "dry_run": run.dry_run, "state_run": run.state_run,
            "window": run.window.as_dict(), "identity_lookups": verdict.lookups,
            # What was read, so the load can close the rejects of records that went through (sync.settle).
            "read": {"salesforce": sf_out["records"], "jira": jira_out["issues"]},
            "lookup_calls": {"jira": run.jira.calls, "salesforce": run.salesforce.calls}, **budget.figures(run)}


def _is_cloud(run: SyncRun) -> bool:
    return bool(run.jira.is_cloud)


def render_diff(run: SyncRun, plan: Plan) -> str:
    """Markdown a reviewer can read: what each side would get, field by field (PII masked)."""
    mapping = run.mapping
    lines = [f"# Plan for `{mapping.name}`", "", f"Window: {run.window.since} .. {run.window.until}"
             f"{' (full resync)' if run.window.full else ''}", "", "| action | count |", "| --- | --- |"]
    lines += [f"| {name} | {count} |" for name, count in plan.counts().items()]
    masked = mapping.pii_columns
    for name, title in (("jira_create", "Create in Jira"), ("jira_update", "Update in Jira"),
                        ("sf_update", "Update in Salesforce")):
        table = plan.tables[name]
        if not len(table):
            continue
        lines += ["", f"## {title} ({len(table)})", ""]
        for row in each_row(table.head(500)):
            fields = {k: ("***" if k in masked else v) for k, v in json.loads(row.fields).items()}
            status = getattr(row, "status", None)
            extra = f" -> status {status}" if isinstance(status, str) else ""
            target = getattr(row, "jira_key", None) or "(new)"
            lines.append(f"- {row.sf_id} / {target}: {json.dumps(fields, ensure_ascii=False)}{extra}")
        if len(table) > 500:
            lines.append(f"- ... {len(table) - 500} more (see the Parquet table)")
    for name, title in (("ledger", "Conflicts"), ("rejects", "Rejected"), ("deletes", "Deletes")):
        table = plan.tables[name]
        if len(table):
            shown = table.head(200).map(lambda v: "***" if is_sealed(v) else v)
            lines += ["", f"## {title} ({len(table)})", "", shown.to_string(index=False)]
    return "\n".join(lines) + "\n"


def record_plan_rejects(run: SyncRun, plan_out: dict[str, Any]) -> int:
    """Transform rejects (bad values, unmapped picklist values...) go to the dead-letter table."""
    rejects = read_frame(plan_out["tables"]["rejects"])
    if not len(rejects):
        return 0
    side = rejects["direction"].map({"sf_to_jira": "salesforce", "jira_to_sf": "jira"}).fillna("salesforce")
    frame = pd.DataFrame({"side": side, "record_id": rejects["record_id"], "code": rejects["code"],
                          "field": rejects.get("source_field"), "message": rejects.get("message"),
                          "fix": _fixes(rejects), "payload": rejects.get("value")})
    run.state.upsert_rejects(frame, run_id=run.run_id, mapping=run.name)
    return len(frame)


def _fixes(rejects: pd.DataFrame) -> pd.Series:
    """Each reject's fix: its own (identity refusals carry one), else the message, which says it."""
    message = rejects["message"] if "message" in rejects else pd.Series(None, index=rejects.index, dtype=object)
    return rejects["fix"].where(rejects["fix"].notna(), message) if "fix" in rejects else message
