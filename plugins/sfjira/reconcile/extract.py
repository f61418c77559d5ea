"""Read every record in scope on both sides, streamed to Parquet parts under the run folder.

Salesforce: the records the mapping's `where` selects plus every record carrying a Jira key, in one
SOQL query paged by `query_pages`. Jira: the issues of the mapping's project and type plus every
issue carrying a Salesforce id (`cf[N] IS NOT EMPTY` / `issue.property[p].sfid IS NOT EMPTY`),
paged by `search_pages`; an issue outside the project and type is kept only if it carries this
mapping's Salesforce id (its property names the mapping, or, without one, the id is of the
mapping's object). Pages are flushed to Parquet every FLUSH_RECORDS records, so the raw JSON of a
large org is never held at once. The frames have the sync extract's columns (plus the field a
`jira_deleted: flag` policy writes, for `delete_unapplied`), so auto_heal can hand slices of them to
the sync's plan.

With a "changed since" scope both queries also filter on the modification stamp; then the
counterparts the read records point at (`reconcile.scope.counterparts`) are fetched by id and key.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

import pandas as pd

from sfjira.batching import page_batches
from sfjira.hooks.by_id import CHUNK, by_id_soqls
from sfjira.hooks.jira_frames import issues_to_frame
from sfjira.hooks.jql import SfidLocation, jql_string, minute_bounds, user_zone
from sfjira.hooks.salesforce_frames import records_to_frame
from sfjira.hooks.soql import WATERMARK_FIELD, check_fields, check_sobject, soql_datetime
from sfjira.hooks.soql_condition import where_clause
from sfjira.mapping.model import Mapping
from sfjira.reconcile.deletes import salesforce_columns
from sfjira.reconcile.run import ReconcileRun
from sfjira.storage import concat_parts, iter_parts, part_paths, write_parts
from sfjira.sync.writer import auto_heal, one_writer

log = logging.getLogger(__name__)

FLUSH_RECORDS = 20_000
SF_PARTS, JIRA_PARTS = "reconcile_salesforce", "reconcile_jira"
_FILTER_FIELDS = ("project", "issuetype")


# -- queries -----------------------------------------------------------------------------------------

def reconcile_soql(mapping: Mapping, since: dt.datetime | None = None) -> str:
    """`SELECT <columns> FROM <object> [WHERE ...] ORDER BY Id`: the mapping's filter OR a Jira key."""
    sf = mapping.salesforce
    columns = check_fields(salesforce_columns(mapping))
    mine = where_clause(sf.where)
    scope = [f"{mine} OR {check_fields([sf.jira_key_field])[0]} != null"] if mine else []
    if since is not None:
        scope.insert(0, f"{WATERMARK_FIELD} >= {soql_datetime(since)}")
    where = f" WHERE {' AND '.join(f'({c})' for c in scope)}" if scope else ""
    return f"SELECT {', '.join(columns)} FROM {check_sobject(sf.object)}{where} ORDER BY Id"


def carried_terms(mapping: Mapping) -> list[str]:
    """JQL terms of the places an issue keeps the Salesforce id (custom field, entity property)."""
    jira = mapping.jira
    places = [jira.salesforce_id_field, f"{jira.salesforce_id_property}.sfid" if jira.salesforce_id_property else None]
    return [SfidLocation.parse(p).jql_term for p in places if p]


def reconcile_jql(mapping: Mapping, since_minute: str | None = None) -> str:
    """Project and type, OR any issue carrying a Salesforce id; `since_minute` a JQL minute literal."""
    jira = mapping.jira
    home = f"project = {jql_string(jira.project)} AND issuetype = {jql_string(jira.issue_type)}"
    scope = " OR ".join([f"({home})", *(f"{term} IS NOT EMPTY" for term in carried_terms(mapping))])
    if since_minute is not None:
        scope = f'updated >= "{since_minute}" AND ({scope})'
    return f"{scope} ORDER BY key ASC"


def jira_fields(mapping: Mapping) -> list[str]:
    """The issue fields the sync's extract requests (its frame's columns)."""
    return [c for c in mapping.jira_columns() if c not in ("id", "key", "updated")]


# -- parts -------------------------------------------------------------------------------------------

def read_parts(folder: str, key: str, only: Collection[str] | None = None) -> pd.DataFrame:
    """All parts of one side, in order, one row per `key` (a record fetched twice is kept once); with
    `only`, just the rows of those ids, filtered part by part (what a heal needs, not the window)."""
    wanted = list(only) if only is not None else None
    frame = concat_parts([f if wanted is None else f[f[key].isin(wanted)] for f in iter_parts(folder)])
    return frame.drop_duplicates(subset=[key], keep="first").reset_index(drop=True)


def _next_part(folder: str) -> int:
    return len(part_paths(folder))


# -- Salesforce --------------------------------------------------------------------------------------

def _sf_frames(run: ReconcileRun, soqls: Iterable[str]) -> Iterator[pd.DataFrame]:
    columns = salesforce_columns(run.mapping)
    pages = (page for soql in soqls for page in run.salesforce.query_pages(soql))
    for batch in page_batches(pages, FLUSH_RECORDS):
        yield records_to_frame(batch, columns)


@one_writer(keep=True, when=auto_heal)
def extract_salesforce(run: ReconcileRun) -> dict[str, Any]:
    soql = reconcile_soql(run.mapping, run.since)
    log.info("Salesforce: reading every %s record in scope: %s", run.mapping.salesforce.object, soql)
    folder, records, parts = write_parts(run.folder, SF_PARTS, _sf_frames(run, [soql]), pii=run.pii)
    log.info("Salesforce: %d records in %d Parquet part(s) under %s", records, parts, folder)
    return {"parts": folder, "records": records, "api_calls": run.salesforce.calls}


def fetch_salesforce(run: ReconcileRun, folder: str, ids: Sequence[str]) -> int:
    """Records by Id (the counterparts of what was read), appended to the Salesforce parts."""
    if not ids:
        return 0
    mapping = run.mapping
    soqls = by_id_soqls(mapping.salesforce.object, salesforce_columns(mapping), ids, chunk=CHUNK)
    _, records, _ = write_parts(run.folder, SF_PARTS, _sf_frames(run, soqls), start=_next_part(folder),
                                pii=run.pii)
    return records


# -- Jira --------------------------------------------------------------------------------------------

class _Belongs:
    """Which issues outside the mapping's project and type still belong to it (see the module doc)."""

    def __init__(self, run: ReconcileRun) -> None:
        self.run = run
        jira = run.mapping.jira
        self.project, self.issue_type = jira.project, jira.issue_type.casefold()
        self.field, self.prop = jira.salesforce_id_field, jira.salesforce_id_property

    @property
    def prefix(self) -> str:
        """The key prefix of the mapping's object ("500" for Case), asked once and only if needed."""
        return self.run.salesforce.key_prefix(self.run.mapping.salesforce.object)

    def __call__(self, issue: dict[str, Any]) -> bool:
        fields = issue.get("fields") or {}
        project = (fields.get("project") or {}).get("key") or str(issue.get("key", "")).rsplit("-", 1)[0]
        kind = str((fields.get("issuetype") or {}).get("name", "")).casefold()
        if project == self.project and kind == self.issue_type:
            return True
        prop = (issue.get("properties") or {}).get(self.prop) if self.prop else None
        if isinstance(prop, dict) and prop.get("mapping"):
            return bool(prop.get("mapping") == self.run.mapping.name)
        carried = fields.get(self.field) if self.field else None
        return bool(carried) and self.prefix != "" and str(carried).startswith(self.prefix)


def _jira_frames(run: ReconcileRun, searches: Iterable[Iterable[Sequence[Any]]],
                 belongs: _Belongs | None) -> Iterator[pd.DataFrame]:
    fields = jira_fields(run.mapping)
    pages = ([i for i in page if belongs is None or belongs(i)] for search in searches for page in search)
    for batch in page_batches(pages, FLUSH_RECORDS):
        frame = issues_to_frame(batch, fields, sfid_property=run.mapping.jira.salesforce_id_property)
        yield frame.drop(columns=[c for c in _FILTER_FIELDS if c in frame.columns and c not in fields])


def _wanted(run: ReconcileRun) -> list[str]:
    return list(dict.fromkeys([*jira_fields(run.mapping), "updated", *_FILTER_FIELDS]))


def _search(run: ReconcileRun, jql: str) -> Iterator[Sequence[Any]]:
    prop = run.mapping.jira.salesforce_id_property
    return run.jira.search_pages(jql, _wanted(run), run.jira.SEARCH_PAGE_MAX, (prop,) if prop else ())


def since_literal(run: ReconcileRun) -> str | None:
    """The scope's start as a JQL minute in the API user's zone (JQL reads dates there)."""
    if run.since is None:
        return None
    zone = user_zone(run.jira.myself().get("timeZone"))
    return minute_bounds(run.since, run.since + dt.timedelta(minutes=1), zone)[0]


@one_writer(keep=True, when=auto_heal)
def extract_jira(run: ReconcileRun) -> dict[str, Any]:
    jql = reconcile_jql(run.mapping, since_literal(run))
    log.info("Jira: reading every issue in scope: %s", jql)
    folder, records, parts = write_parts(run.folder, JIRA_PARTS, _jira_frames(run, [_search(run, jql)], _Belongs(run)),
                                         pii=run.pii)
    log.info("Jira: %d issues in %d Parquet part(s) under %s", records, parts, folder)
    return {"parts": folder, "records": records, "api_calls": run.jira.calls}


def _by_keys(run: ReconcileRun, keys: Sequence[str]) -> Iterator[Sequence[Any]]:
    prop = run.mapping.jira.salesforce_id_property
    return run.jira.issues_by_key(keys, _wanted(run), (prop,) if prop else (), chunk=CHUNK,
                                  page_size=run.jira.SEARCH_PAGE_MAX)


def fetch_jira(run: ReconcileRun, folder: str, keys: Sequence[str]) -> int:
    """Issues by key (the counterparts of what was read), appended to the Jira parts."""
    if not keys:
        return 0
    _, records, _ = write_parts(run.folder, JIRA_PARTS, _jira_frames(run, [_by_keys(run, keys)], None),
                                start=_next_part(folder), pii=run.pii)
    return records
