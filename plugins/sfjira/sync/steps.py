"""The transform step (extracts -> canonical frames + rejects, and the identity verdict on the claims
no link backs, the only step between the extracts and the loads that may ask an API) and the plan step
(those files + the state store -> plan tables + a readable diff; it opens no connection), all in the run
folder; and the reject bookkeeping the load step does before writing."""

from __future__ import annotations

import json
import logging
from typing import Any

from sfjira.identity.lookup import judge
from sfjira.pii import is_sealed
from sfjira.rejects import REJECT_COLUMNS
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
    as Parquet in the run folder (sfjira.sync.transformed), and the claims the identity rules refuse
    (`refused`). Reads the extracts' files and the links; the identity look-ups (a GET per issue key in
    doubt, a describe for the id prefix; none when every claim is settled) are its only API calls, and
    are counted in the output (`identity_lookups`, `lookup_calls`) for the report."""
    out: dict[str, Any] = {}
    # Keys and ids no link backs are checked before anything can be adopted by them.
    verdict = judge(run.mapping, read_frame(sf_out["records"]), read_frame(jira_out["issues"]),
                    run.state.links(run.mapping.name), run.jira, run.salesforce)
    out["refused"] = write_frame(run.folder, "identity_refused", verdict.refused, pii=run.pii)
    out["identity_lookups"] = verdict.lookups
    out["lookup_calls"] = {"jira": run.jira.calls, "salesforce": run.salesforce.calls}
    out.update(budget.figures(run))  # what the look-ups cost, for the report's api_usage
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
    """The extracts (for deletions and comments), the transform's frames and refused claims + the state
    store -> plan tables and a readable diff; no API is asked (a dry run's plan needs no connection). Its output names the state-store run the loads write under
    (`state_run`) and the window the extracts read (`window`): the steps after it take both from here."""
    mapping = run.mapping
    store = run.state
    if not run.dry_run:
        run.state_run = run.fresh_state_run()
    links = store.links(mapping.name)
    plan = plan_transformed(
        mapping, read_result(mapping, "salesforce", transform_out["salesforce"]),
        read_result(mapping, "jira", transform_out["jira"]), read_frame(sf_out["deleted"]),
        links, store.synced_state(mapping.name), run_id=run.run_id,
        sf_comments=read_frame(sf_out["comments"]) if sf_out.get("comments") else None,
        jira_comments=read_frame(jira_out["comments"]) if jira_out.get("comments") else None,
        comment_links=store.comment_links(mapping.name) if mapping.comments else None,
        refused=read_frame(transform_out["refused"]),
        pii=run.pii,
        jira_deleted=read_frame(jira_out["deleted"]) if jira_out.get("deleted") else None,
    )
    # `fields` (JSON of the values to write) may hold PII values: sealed like the PII columns.
    paths = {name: write_frame(run.folder, f"plan_{name}", plan.tables[name], pii=run.pii, sealed=("fields",))
             for name in PLAN_TABLES}
    counts = plan.counts()
    diff = write_text(run.folder, "plan_diff.md", render_diff(run, plan))
    log.info("Plan for %s%s: %s (readable diff: %s)", mapping.name, " (dry run)" if run.dry_run else "", counts, diff)
    return {"tables": paths, "counts": counts, "diff": diff, "dry_run": run.dry_run, "state_run": run.state_run,
            "window": run.window.as_dict(),
            # The transform's identity look-ups, handed on to the report's protocol minimum and call count.
            "identity_lookups": transform_out.get("identity_lookups") or {},
            "lookup_calls": transform_out.get("lookup_calls") or {},
            # What was read, so the load can close the rejects of records that went through (sync.settle).
            "read": {"salesforce": sf_out["records"], "jira": jira_out["issues"]},
            # The webhook-reported Jira deletions the extract took: settled by load_salesforce (sync.jira_deleted).
            "jira_deleted_taken": jira_out.get("deleted")}


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
    for name, title in (("ledger", "Conflicts"), ("rejects", "Rejected"), ("deletes", "Deletes"),
                        ("jira_deleted", "Deleted in Jira")):
        table = plan.tables[name]
        if len(table):
            shown = table.head(200).map(lambda v: "***" if is_sealed(v) else v)
            lines += ["", f"## {title} ({len(table)})", "", shown.to_string(index=False)]
    return "\n".join(lines) + "\n"


def record_plan_rejects(run: SyncRun, plan_out: dict[str, Any]) -> int:
    """The plan's rejects (transform: bad values, unmapped picklist values...; identity refusals), already
    in the one reject shape (sfjira.rejects), go to the dead-letter table."""
    rejects = read_frame(plan_out["tables"]["rejects"])
    if not len(rejects):
        return 0
    run.state.upsert_rejects(rejects[REJECT_COLUMNS], run_id=run.run_id, mapping=run.name)
    return len(rejects)
