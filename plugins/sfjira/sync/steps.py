"""The transform step (extracts -> canonical frames + rejects, and the identity verdict on the claims
no link backs, the only step between the extracts and the loads that may ask an API) and the plan step
(those files + the state store -> plan tables + a readable diff; it opens no connection), all in the run
folder; and the reject bookkeeping the load step does before writing."""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from sfjira.identity.lookup import judge
from sfjira.pii import is_sealed
from sfjira.rejects import REJECT_COLUMNS
from sfjira.rows import each_row
from sfjira.storage import (
    PartSet,
    concat_parts,
    iter_parts,
    part_records,
    write_frame,
    write_text,
)
from sfjira.sync import buckets, budget
from sfjira.sync.plan import PLAN_TABLES, Plan, plan_transformed
from sfjira.sync.run import SyncRun
from sfjira.sync.transformed import read_result, transform_side, write_bucket
from sfjira.sync.writer import one_writer
from sfjira.values.missing import has_text, text_or_none

log = logging.getLogger(__name__)


@one_writer(keep=True)
def transform_step(run: SyncRun, sf_out: dict[str, Any], jira_out: dict[str, Any]) -> dict[str, Any]:
    """Both extracts through the mapping: canonical frames, other-side values and the transform's rejects,
    as Parquet in the run folder (sfjira.sync.transformed), and the claims the identity rules refuse
    (`refused`). Reads the extracts' files and the links; the identity look-ups (a GET per issue key in
    doubt, a describe for the id prefix; none when every claim is settled) are its only API calls, and
    are counted in the output (`identity_lookups`, `lookup_calls`) for the report.

    Memory: the extracts are read part by part and split into plan buckets (sfjira.sync.buckets), then
    transformed one bucket at a time. Only the identity columns of the whole window are held at once
    (duplicate claims are judged across the window): the id and key of the records that carry a key (none in
    a first sync), the key and carried ids of the issues, and the links of those."""
    mapping = run.mapping
    out: dict[str, Any] = {}
    key_field = mapping.salesforce.jira_key_field
    # A record without a key claims nothing, and the links of ids that claim nothing decide nothing here.
    sf_ids, sf_read = _columns(sf_out["records"], ["Id", key_field], only_with=key_field)
    jira_ids, _ = _columns(jira_out["issues"], ["key", *_sfid_columns(run)])
    links = run.state.links_of(mapping.name, sf_ids=_present(sf_ids["Id"], buckets.carried_sf_ids(mapping, jira_ids)),
                               jira_keys=_present(jira_ids["key"], sf_ids[mapping.salesforce.jira_key_field]))
    # Keys and ids no link backs are checked before anything can be adopted by them.
    verdict = judge(mapping, sf_ids, jira_ids, links, run.jira, run.salesforce)
    out["refused"] = write_frame(run.folder, "identity_refused", verdict.refused, pii=run.pii)
    out["identity_lookups"] = verdict.lookups
    out["lookup_calls"] = {"jira": run.jira.calls, "salesforce": run.salesforce.calls}
    out.update(budget.figures(run))  # what the look-ups cost, for the report's api_usage
    deleted = _count(sf_out.get("deleted"))
    count = buckets.bucket_count(max(sf_read + deleted, len(jira_ids)), part_records())
    of_key = buckets.issue_buckets(mapping, jira_ids, links, count)
    del sf_ids, jira_ids
    out["buckets"] = _split(run, sf_out, jira_out, verdict.refused, of_key, count)
    for side in ("salesforce", "jira"):
        kept = rejects = 0
        for bucket in range(count):
            result = transform_side(mapping, side, buckets.read_bucket(out["buckets"][side], bucket))
            out[side] = write_bucket(run.folder, side, result, run.pii, bucket)
            kept, rejects = kept + len(result.frame), rejects + len(result.rejects)
        out[f"{side}_kept"], out[f"{side}_rejects"] = kept, rejects
    log.info("Transform for %s: %d of %d Salesforce records and %d of %d Jira issues kept, %d and %d rejects, "
             "%d plan bucket(s)", run.name, out["salesforce_kept"], _read_count(sf_out), out["jira_kept"],
             _read_count(jira_out), out["salesforce_rejects"], out["jira_rejects"], count)
    return out


def _sfid_columns(run: SyncRun) -> list[str]:
    jira = run.mapping
    return [c for c in (jira.jira.salesforce_id_field, jira.jira_property_column()) if c]


def _columns(path: str, columns: list[str], *, only_with: str | None = None) -> tuple[pd.DataFrame, int]:
    """Only `columns` (those present) of every part of `path`, as one frame: the window's identity columns;
    with `only_with`, only the rows where that column holds a value. And the number of rows read."""
    frames, read = [], 0
    for part in iter_parts(path):
        read += len(part)
        if only_with is not None:
            part = part[has_text(part[only_with])] if only_with in part.columns else part.iloc[:0]
        frames.append(part[[c for c in dict.fromkeys(columns) if c in part.columns]])
    frame = concat_parts(frames)
    for column in columns:
        if column not in frame.columns:
            frame[column] = pd.Series([None] * len(frame), dtype=object)
    return frame, read


def _present(*values: pd.Series) -> list[str]:
    """The distinct texts the columns hold, sorted (for a state-store IN list)."""
    texts = [text_or_none(v.reset_index(drop=True)) for v in values]
    return sorted(pd.concat(texts, ignore_index=True).dropna().unique()) if texts else []


def _count(path: str | None) -> int:
    return sum(len(part) for part in iter_parts(path)) if path else 0


def _split(run: SyncRun, sf_out: dict[str, Any], jira_out: dict[str, Any], refused: pd.DataFrame,
           of_key: pd.Series, count: int) -> dict[str, Any]:
    """The extracts' records, deleted ids, comments, webhook deletions and the refused claims, split into
    `count` plan buckets (sfjira.sync.buckets), part by part; returns the folders and the count."""
    mapping, folder = run.mapping, run.folder
    paths: dict[str, Any] = {"count": count}
    records = buckets.Bucketed(folder, "bucket_salesforce", count, pii=run.pii)
    for part in iter_parts(sf_out["records"]):
        records.add(part, buckets.of_ids(part["Id"], count))
    paths["salesforce"] = records.close()
    issues = buckets.Bucketed(folder, "bucket_jira", count, pii=run.pii)
    for part in iter_parts(jira_out["issues"]):
        issues.add(part, buckets.key_buckets(part["key"], of_key, count))
    paths["jira"] = issues.close()
    # A refused record goes with its Salesforce id, a refused issue with its key (record_id is either).
    side = (refused["side"] == "salesforce").to_numpy()
    refused_at = np.where(side, buckets.of_ids(refused["record_id"], count),
                          buckets.key_buckets(refused["record_id"].fillna("").astype(str), of_key, count))
    paths["refused"] = _bucketed(folder, "bucket_refused", count, [(refused, refused_at)], refused, run)
    parent = mapping.comments.salesforce.parent_field if mapping.comments else ""
    for name, path, column, by_key, pii in (
            ("sf_deleted", sf_out.get("deleted"), "Id", False, False),
            ("sf_comments", sf_out.get("comments"), parent, False, False),
            ("jira_comments", jira_out.get("comments"), "issue_key", True, False),
            ("jira_deleted", jira_out.get("deleted"), "sf_id", False, False)):
        if not path:
            continue
        split = ((part, buckets.key_buckets(part[column], of_key, count) if by_key
                  else buckets.of_ids(part[column], count)) for part in iter_parts(path))
        paths[name] = _bucketed(folder, f"bucket_{name}", count, split, None, run if pii else None)
    return paths


def _bucketed(folder: str, name: str, count: int, parts: Any, empty: pd.DataFrame | None,
              run: SyncRun | None) -> str:
    into = buckets.Bucketed(folder, name, count, pii=run.pii if run is not None else None)
    for part, at in parts:
        into.add(part, at)
    return into.close(empty)


def _read_count(extract_out: dict[str, Any]) -> int:
    return int(extract_out.get("changed", 0))


@one_writer(keep=True)
def plan_step(run: SyncRun, sf_out: dict[str, Any], jira_out: dict[str, Any],
              transform_out: dict[str, Any]) -> dict[str, Any]:
    """The extracts (for deletions and comments), the transform's frames and refused claims + the state
    store -> plan tables and a readable diff; no API is asked (a dry run's plan needs no connection). Its output names the state-store run the loads write under
    (`state_run`) and the window the extracts read (`window`): the steps after it take both from here.

    Memory: one plan bucket at a time (sfjira.sync.buckets): its transform results, deletions, comments and
    refused claims, and the links, synced state and comment links of its ids only; `plan_transformed`
    plans it and each plan table gets one Parquet part per bucket (a part set, read part by part by the loads)."""
    mapping = run.mapping
    if not run.dry_run:
        run.state_run = run.fresh_state_run()
    at = transform_out["buckets"]
    tables = {name: PartSet(run.folder, f"plan_{name}", pii=run.pii, sealed=("fields",)) for name in PLAN_TABLES}
    sample = Plan({})
    for bucket in range(int(at["count"])):
        plan = _plan_bucket(run, at, transform_out, bucket)
        for name in PLAN_TABLES:
            tables[name].add(plan.tables[name])
            shown = sample.tables.get(name)
            if shown is None or len(shown) < DIFF_ROWS:
                sample.tables[name] = plan.tables[name] if shown is None else \
                    pd.concat([shown, plan.tables[name].head(DIFF_ROWS)], ignore_index=True)
    paths = {name: parts.close() for name, parts in tables.items()}
    counts = {name: parts.records for name, parts in tables.items()}
    diff = write_text(run.folder, "plan_diff.md", render_diff(run, sample, counts))
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


DIFF_ROWS = 500


def _plan_bucket(run: SyncRun, at: dict[str, Any], transform_out: dict[str, Any], bucket: int) -> Plan:
    """The plan of one bucket: its rows and the state-store rows of its ids (see plan_step)."""
    mapping, store = run.mapping, run.state

    def part(name: str) -> pd.DataFrame | None:
        return buckets.read_bucket(at[name], bucket) if at.get(name) else None

    sf = read_result(mapping, "salesforce", transform_out["salesforce"], bucket)
    jira = read_result(mapping, "jira", transform_out["jira"], bucket)
    deleted, jira_deleted = part("sf_deleted"), part("jira_deleted")
    sf_comments, jira_comments = part("sf_comments"), part("jira_comments")
    parent = mapping.comments.salesforce.parent_field if mapping.comments else ""
    sf_ids = _present(pd.Series(sf.frame.index, dtype=object), jira.meta["sf_id"],
                      *(f[c] for f, c in ((deleted, "Id"), (jira_deleted, "sf_id"), (sf_comments, parent))
                        if f is not None and c in f.columns))
    keys = _present(pd.Series(jira.frame.index, dtype=object),
                    *([jira_comments["issue_key"]] if jira_comments is not None and len(jira_comments) else []))
    links = store.links_of(mapping.name, sf_ids=sf_ids, jira_keys=keys)
    return plan_transformed(
        mapping, sf, jira, deleted if deleted is not None else pd.DataFrame({"Id": pd.Series([], dtype=object)}),
        links, store.synced_state_of(mapping.name, _present(pd.Series(sf_ids, dtype=object), links["sf_id"])),
        run_id=run.run_id, sf_comments=sf_comments, jira_comments=jira_comments,
        comment_links=store.comment_links_of(mapping.name, sf_parent_ids=sf_ids, jira_keys=keys)
        if mapping.comments else None,
        refused=part("refused"), pii=run.pii, jira_deleted=jira_deleted)


def render_diff(run: SyncRun, plan: Plan, counts: dict[str, int] | None = None) -> str:
    """Markdown a reviewer can read: what each side would get, field by field (PII masked). `plan` may hold
    only the first rows of each table (plan_step's sample over its buckets), `counts` the tables' totals."""
    mapping = run.mapping
    counts = counts if counts is not None else plan.counts()
    lines = [f"# Plan for `{mapping.name}`", "", f"Window: {run.window.since} .. {run.window.until}"
             f"{' (full resync)' if run.window.full else ''}", "", "| action | count |", "| --- | --- |"]
    lines += [f"| {name} | {count} |" for name, count in counts.items()]
    masked = mapping.pii_columns
    for name, title in (("jira_create", "Create in Jira"), ("jira_update", "Update in Jira"),
                        ("sf_update", "Update in Salesforce")):
        table, total = plan.tables[name], counts[name]
        if not len(table):
            continue
        lines += ["", f"## {title} ({total})", ""]
        for row in each_row(table.head(500)):
            fields = {k: ("***" if k in masked else v) for k, v in json.loads(row.fields).items()}
            status = getattr(row, "status", None)
            extra = f" -> status {status}" if isinstance(status, str) else ""
            target = getattr(row, "jira_key", None) or "(new)"
            lines.append(f"- {row.sf_id} / {target}: {json.dumps(fields, ensure_ascii=False)}{extra}")
        if total > 500:
            lines.append(f"- ... {total - 500} more (see the Parquet table)")
    for name, title in (("ledger", "Conflicts"), ("rejects", "Rejected"), ("deletes", "Deletes"),
                        ("jira_deleted", "Deleted in Jira")):
        table = plan.tables[name]
        if len(table):
            shown = table.head(200).map(lambda v: "***" if is_sealed(v) else v)
            lines += ["", f"## {title} ({counts[name]})", "", shown.to_string(index=False)]
    return "\n".join(lines) + "\n"


def record_plan_rejects(run: SyncRun, plan_out: dict[str, Any]) -> int:
    """The plan's rejects (transform: bad values, unmapped picklist values...; identity refusals), already
    in the one reject shape (sfjira.rejects), go to the dead-letter table."""
    total = 0
    for rejects in iter_parts(plan_out["tables"]["rejects"]):  # one plan part at a time
        if len(rejects):
            run.state.upsert_rejects(rejects[REJECT_COLUMNS], run_id=run.run_id, mapping=run.name)
            total += len(rejects)
    return total
