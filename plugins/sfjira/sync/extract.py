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

Memory: pages are written as they arrive, as Parquet parts of `[sfjira] part_records` rows (part sets,
sfjira.storage), so the window is never held whole: records, deleted ids and comments each get their own
part set, split part by part. Only the window rows of the records a replay reads again are held back
(a replay's ids are few), to be merged with the by-id read, which is the newer.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd

from sfjira.batching import page_batches
from sfjira.hooks.jira_frames import adf_to_text, issues_to_frame
from sfjira.hooks.salesforce_frames import records_to_frame
from sfjira.hooks.soql import count_soql, incremental_soql
from sfjira.mapping.model import Mapping
from sfjira.storage import PartSet, part_records, rechunk, write_frame
from sfjira.sync import budget, bulk, jira_deleted, lanes
from sfjira.sync.replay import merged, replay_ids, salesforce_by_id
from sfjira.sync.run import SyncRun
from sfjira.sync.writer import one_writer

if TYPE_CHECKING:
    from sfjira.hooks.jira import JiraSyncHook, Page  # Page: the same list of records on both sides

log = logging.getLogger(__name__)

COMMENT_FIELDS = ("Id", "CreatedDate", "CreatedBy.Name")
RAW_ISSUES = 2_000  # Jira issues held as JSON at once, before they become a frame


def _log_pages(side: str, pages: Iterable[Page]) -> Iterator[Page]:
    """The pages, passed on as they arrive, with a log line each."""
    records = 0
    for number, page in enumerate(pages, start=1):
        records += len(page)
        log.info("%s: page %d read, %d records so far", side, number, records)
        yield page


class _Replay:
    """The window rows of the records a replay reads again, held back (few) and merged with the by-id read."""

    def __init__(self, ids: list[str], key: str) -> None:
        self.ids, self.key = set(ids), key
        self.held: list[pd.DataFrame] = []

    def keep(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not self.ids or not len(frame):
            return frame
        mine = frame[self.key].astype(str).isin(self.ids).to_numpy()
        if mine.any():
            self.held.append(frame[mine])
        return frame[~mine]

    def merged(self, replayed: pd.DataFrame, side: str) -> pd.DataFrame:
        window = pd.concat(self.held, ignore_index=True) if self.held else replayed.iloc[:0]
        return merged(window, replayed, self.key, side)


@one_writer(keep=True)
def extract_salesforce(run: SyncRun) -> dict[str, Any]:
    mapping, hook, window = run.mapping, run.salesforce, run.window
    budget.check_salesforce(run, "extract_salesforce reads")
    fields = [*mapping.salesforce_columns(), "IsDeleted"]
    size = part_records()
    records = PartSet(run.folder, "sf_records", pii=run.pii)
    deleted = PartSet(run.folder, "sf_deleted")
    replay = _Replay(replay_ids(run).salesforce if run.replay else [], "Id")
    frames, path = _salesforce_window(run, fields)
    for frame in rechunk(frames, size):
        _split_deleted(replay.keep(frame), records, deleted)
    if run.replay:
        _split_deleted(replay.merged(salesforce_by_id(run, fields, sorted(replay.ids)), "Salesforce"),
                       records, deleted)
    empty = records_to_frame([], fields)
    out = {
        "records": records.close(empty.drop(columns=["IsDeleted"])),
        "deleted": deleted.close(empty[["Id"]]),
        "changed": records.records,
        "deleted_count": deleted.records,
        "parts": records.parts,
        **path,
    }
    comments = mapping.comments
    if comments is not None and comments.flows("sf_to_jira"):
        sf = comments.salesforce
        cfields = list(dict.fromkeys([*COMMENT_FIELDS, sf.parent_field, sf.body_field]))
        cpages = _log_pages("Salesforce comments", hook.changed_records(sf.object, cfields, window.since, window.until))
        cparts = PartSet(run.folder, "sf_comments")
        for batch in page_batches(cpages, size):
            cparts.add(records_to_frame(batch, cfields))
        out["comments"] = cparts.close()
        out["comment_count"] = cparts.records  # its query pages: the report's minimum
    # The extract's own reads may have reached the share: stop here, before the plan and the loads.
    budget.check_salesforce(run, "the plan and the loads (reached by this extract's reads)")
    out["api_calls"] = hook.calls
    out.update(budget.figures(run))
    log.info("Salesforce: %d changed and %d deleted %s records in [%s, %s), %d part(s)", out["changed"],
             out["deleted_count"], mapping.salesforce.object, window.since, window.until, records.parts)
    return out


def _split_deleted(frame: pd.DataFrame, records: PartSet, deleted: PartSet) -> None:
    """One part of the window: its live records to `records`, the ids of its deleted ones to `deleted`."""
    if not len(frame):
        return
    gone = frame["IsDeleted"].fillna(False).astype(bool).to_numpy()
    if (~gone).any():
        records.add(frame[~gone].drop(columns=["IsDeleted"]).reset_index(drop=True))
    if gone.any():
        deleted.add(frame[gone][["Id"]].reset_index(drop=True))


def _salesforce_window(run: SyncRun, fields: list[str]) -> tuple[Iterator[pd.DataFrame], dict[str, Any]]:
    """The window's records (deleted ones too) as frames, through REST query pages or, when a COUNT() of the
    window is above `[sfjira] bulk_query_threshold`, a Bulk API 2.0 queryAll job (sfjira.sync.bulk); with the
    path taken, the count and (bulk) the describes its typing needed and its result set size, for the report's
    protocol minimum. The frames are read lazily: the figures about the describes are complete once they are
    consumed. Either path holds at most `[sfjira] part_records` records at a time: a bulk result set is read
    and typed whole, so its size is the part's, not the Bulk API's usual 50,000."""
    sf, hook, window = run.mapping.salesforce, run.salesforce, run.window
    count = hook.count(count_soql(sf.object, window.since, window.until, sf.where), include_deleted=True)
    soql = incremental_soql(sf.object, fields, window.since, window.until, sf.where)
    if not bulk.use_bulk_query(count):
        pages = _log_pages("Salesforce", hook.query_pages(soql, include_deleted=True))
        frames = (records_to_frame(batch, fields) for batch in page_batches(pages, part_records()))
        return frames, {"read_path": "rest", "window_count": count}
    log.info("Salesforce: %d records in the window, above the bulk query threshold: Bulk API 2.0 query job", count)
    page = part_records()
    figures: dict[str, Any] = {"read_path": "bulk", "window_count": count, "bulk_page": page}

    def parts() -> Iterator[pd.DataFrame]:
        yield records_to_frame([], fields)  # the columns, should the job return no part
        yield from hook.bulk_query(soql, fields=fields, include_deleted=True, page=page)
        figures["bulk_describes"] = hook.bulk.objects_described

    return parts(), figures


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
    frame_fields = [f for f in fields if f != "comment"]
    pages = _log_pages("Jira", hook.changed_issues(mapping.jira.project, mapping.jira.issue_type, window.since,
                                                   window.until, fields, properties=(prop,) if prop else ()))
    issues = PartSet(run.folder, "jira_issues", pii=run.pii)
    comments = PartSet(run.folder, "jira_comments") if with_comments else None
    replay = _Replay(replay_ids(run).jira if run.replay else [], "key")
    out: dict[str, Any] = {"comment_reads": 0} if with_comments else {}
    size = part_records()

    def frames() -> Iterator[pd.DataFrame]:
        # A few thousand issues' JSON at a time: as dicts an issue weighs kilobytes, as a frame's row a
        # fraction of that, so the part is gathered as frames (at 50,000 issues the dicts alone neared 1 GB).
        for batch in page_batches(pages, min(size, RAW_ISSUES)):
            if comments is not None:
                part, reads = _comments_frame(hook, batch)
                out["comment_reads"] += reads
                if len(part):
                    comments.add(part)
            frame = issues_to_frame(batch, frame_fields, sfid_property=prop)
            yield frame.drop(columns=[c for c in ("comment",) if c in frame.columns])

    empty = None
    for frame in rechunk(frames(), size):
        frame = replay.keep(frame)
        empty = frame.iloc[:0] if empty is None else empty
        if len(frame):
            issues.add(frame)
    if run.replay:
        replayed = replay.merged(issues_by_key(run, sorted(replay.ids)), "Jira")
        if len(replayed):
            issues.add(replayed)
    out.update({"issues": issues.close(empty), "changed": issues.records, "parts": issues.parts})
    if comments is not None:
        out["comments"] = comments.close(_comments_frame(hook, [])[0])
    # Deletions the webhook receiver heard of, each confirmed by reading the issue (sfjira.sync.jira_deleted).
    taken, out["delete_checks"] = jira_deleted.confirm(run)
    out["deleted"] = write_frame(run.folder, "jira_deleted", taken)
    out["api_calls"] = hook.calls
    out.update(budget.figures(run))
    log.info("Jira: %d changed %s/%s issues in [%s, %s), %d part(s)", issues.records, mapping.jira.project,
             mapping.jira.issue_type, window.since, window.until, issues.parts)
    return out


def _comments_frame(hook: JiraSyncHook, pages: Iterable[Page]) -> tuple[pd.DataFrame, int]:
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
