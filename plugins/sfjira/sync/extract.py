"""Extract: the changed records of one window from each side, as Parquet under the run folder.

Salesforce: one queryAll over the window on SystemModstamp, so changed and deleted records come
back in the same pages (a delete stamps SystemModstamp too) -- no second call for the deleted feed.
A COUNT() of the window first decides the path: REST query pages, or a Bulk API 2.0 queryAll job
above `[sfjira] bulk_query_threshold` (sfjira.sync.bulk).
Jira: one paged search over `updated` (the hook widens to whole minutes in the API user's zone
and filters on the exact instant), with the `sfjira` entity property and, when comments sync,
the issues' comments inline; and the issues a `jira:issue_deleted` webhook reported, each read to confirm
it is gone (sfjira.sync.jira_deleted).
With the `replay_rejects` Param both also read the records of the open rejects by id (sfjira.sync.replay).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from sfjira.hooks.jira_frames import adf_to_text, issues_to_frame
from sfjira.hooks.salesforce_frames import records_to_frame
from sfjira.hooks.soql import count_soql, incremental_soql
from sfjira.mapping.model import Mapping
from sfjira.storage import write_frame
from sfjira.sync import budget, bulk, jira_deleted, lanes
from sfjira.sync.replay import merged, replay_ids, salesforce_by_id
from sfjira.sync.run import SyncRun
from sfjira.sync.writer import one_writer

if TYPE_CHECKING:
    from sfjira.hooks.jira import JiraSyncHook, Page  # Page: the same list of records on both sides

log = logging.getLogger(__name__)

COMMENT_FIELDS = ("Id", "CreatedDate", "CreatedBy.Name")


def _log_pages(side: str, pages: Iterable[Page]) -> list[Page]:
    kept: list[Page] = []
    records = 0
    for number, page in enumerate(pages, start=1):
        kept.append(page)
        records += len(page)
        log.info("%s: page %d read, %d records so far", side, number, records)
    return kept


@one_writer(keep=True)
def extract_salesforce(run: SyncRun) -> dict[str, Any]:
    mapping, hook, window = run.mapping, run.salesforce, run.window
    budget.check_salesforce(run, "extract_salesforce reads")
    fields = [*mapping.salesforce_columns(), "IsDeleted"]
    frame, path = _salesforce_window(run, fields)
    if run.replay:
        frame = merged(frame, salesforce_by_id(run, fields, replay_ids(run).salesforce), "Id", "Salesforce")
    deleted = frame["IsDeleted"].fillna(False).astype(bool) if len(frame) else pd.Series([], dtype=bool)
    out = {
        "records": write_frame(run.folder, "sf_records", frame[~deleted.to_numpy()].drop(columns=["IsDeleted"]),
                               pii=run.pii),
        "deleted": write_frame(run.folder, "sf_deleted", frame[deleted.to_numpy()][["Id"]]),
        "changed": int((~deleted).sum()),
        "deleted_count": int(deleted.sum()),
        **path,
    }
    comments = mapping.comments
    if comments is not None and comments.flows("sf_to_jira"):
        sf = comments.salesforce
        cfields = list(dict.fromkeys([*COMMENT_FIELDS, sf.parent_field, sf.body_field]))
        cpages = _log_pages("Salesforce comments", hook.changed_records(sf.object, cfields, window.since, window.until))
        out["comments"] = write_frame(run.folder, "sf_comments", records_to_frame(cpages, cfields))
        out["comment_count"] = sum(len(page) for page in cpages)  # its query pages: the report's minimum
    # The extract's own reads may have reached the share: stop here, before the plan and the loads.
    budget.check_salesforce(run, "the plan and the loads (reached by this extract's reads)")
    out["api_calls"] = hook.calls
    out.update(budget.figures(run))
    log.info("Salesforce: %d changed and %d deleted %s records in [%s, %s)", out["changed"], out["deleted_count"],
             mapping.salesforce.object, window.since, window.until)
    return out


def _salesforce_window(run: SyncRun, fields: list[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The window's records (deleted ones too), through REST query pages or, when a COUNT() of the window
    is above `[sfjira] bulk_query_threshold`, a Bulk API 2.0 queryAll job (sfjira.sync.bulk); with the path
    taken, the count and (bulk) the describes its typing needed, for the report's protocol minimum."""
    sf, hook, window = run.mapping.salesforce, run.salesforce, run.window
    count = hook.count(count_soql(sf.object, window.since, window.until, sf.where), include_deleted=True)
    soql = incremental_soql(sf.object, fields, window.since, window.until, sf.where)
    if not bulk.use_bulk_query(count):
        pages = _log_pages("Salesforce", hook.query_pages(soql, include_deleted=True))
        return records_to_frame(pages, fields), {"read_path": "rest", "window_count": count}
    log.info("Salesforce: %d records in the window, above the bulk query threshold: Bulk API 2.0 query job", count)
    parts = list(hook.bulk_query(soql, fields=fields, include_deleted=True))
    frame = pd.concat(parts, ignore_index=True) if parts else records_to_frame([], fields)
    return frame, {"read_path": "bulk", "window_count": count, "bulk_describes": hook.bulk.objects_described}


def _issue_fields(mapping: Mapping) -> list[str]:
    return [c for c in mapping.jira_columns() if c not in ("id", "key", "updated")]


def issues_by_key(run: SyncRun, keys: list[str]) -> pd.DataFrame:
    """The mapped fields of the given issues (same frame as the extract), a page of keys per search, as many
    searches at once as a load's chunks (sfjira.sync.lanes); keys of issues that no longer exist are skipped."""
    mapping, hook = run.mapping, run.jira
    fields, prop = _issue_fields(mapping), mapping.jira.salesforce_id_property
    pages = hook.issues_by_key(keys, [*fields, "updated"], (prop,) if prop else (), workers=lanes.width())
    return issues_to_frame(pages, fields, sfid_property=prop)


@one_writer(keep=True)
def extract_jira(run: SyncRun) -> dict[str, Any]:
    mapping, hook, window = run.mapping, run.jira, run.window
    fields = _issue_fields(mapping)
    with_comments = mapping.comments is not None and mapping.comments.flows("jira_to_sf")
    if with_comments:
        fields.append("comment")
    prop = mapping.jira.salesforce_id_property
    pages = _log_pages("Jira", hook.changed_issues(mapping.jira.project, mapping.jira.issue_type, window.since,
                                                   window.until, fields, properties=(prop,) if prop else ()))
    frame = issues_to_frame(pages, [f for f in fields if f != "comment"], sfid_property=prop)
    frame = frame.drop(columns=[c for c in ("comment",) if c in frame.columns])
    if run.replay:
        frame = merged(frame, issues_by_key(run, replay_ids(run).jira), "key", "Jira")
    out: dict[str, Any] = {"issues": write_frame(run.folder, "jira_issues", frame, pii=run.pii),
                           "changed": len(frame)}
    if with_comments:
        comments, out["comment_reads"] = _comments_frame(hook, pages)
        out["comments"] = write_frame(run.folder, "jira_comments", comments)
    # Deletions the webhook receiver heard of, each confirmed by reading the issue (sfjira.sync.jira_deleted).
    taken, out["delete_checks"] = jira_deleted.confirm(run)
    out["deleted"] = write_frame(run.folder, "jira_deleted", taken)
    out["api_calls"] = hook.calls
    out.update(budget.figures(run))
    log.info("Jira: %d changed %s/%s issues in [%s, %s)", len(frame), mapping.jira.project, mapping.jira.issue_type,
             window.since, window.until)
    return out


def _comments_frame(hook: JiraSyncHook, pages: list[Page]) -> tuple[pd.DataFrame, int]:
    """Comments of the changed issues: inline from the search, or fetched when Jira truncated them; with
    the comment pages those fetches need (the report's protocol minimum)."""
    rows: list[dict[str, Any]] = []
    reads = 0
    for issue in (i for page in pages for i in page):
        block = (issue.get("fields") or {}).get("comment") or {}
        comments = block.get("comments") or []
        total = int(block.get("total", len(comments)))
        if total > len(comments):
            reads += math.ceil(total / hook.COMMENT_PAGE_MAX)
            comments = hook.comments(issue["key"])
            rows += [{**c, "issue_key": issue["key"]} for c in comments]
            continue
        rows += [{"id": c.get("id"), "issue_key": issue["key"], "body": adf_to_text(c.get("body")),
                  "created": c.get("created"), "author": (c.get("author") or {}).get("displayName")}
                 for c in comments]
    return pd.DataFrame(rows, columns=["id", "issue_key", "body", "created", "author"]), reads
