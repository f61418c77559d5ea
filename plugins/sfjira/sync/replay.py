"""Replay: the records of a mapping's open rejects, read again by id on both sides.

With the sync DAG's `replay_rejects` Param the extracts read, on top of their window, every record an
open reject names and its linked counterpart (Salesforce by `Id IN (...)`, Jira by `key in (...)`);
the frames are merged with the window's, so the records go through the normal plan and load, and
their rejects close or count another attempt like any other record's (sfjira.sync.settle).

A reject names a Jira issue by its key (an issue's value refused in the plan) and everything else by
the Salesforce record's Id: Salesforce Ids never hold a `-`, Jira keys always do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

import pandas as pd

from sfjira.hooks.by_id import by_id_soqls
from sfjira.hooks.salesforce_frames import records_to_frame
from sfjira.sync.run import SyncRun

log = logging.getLogger(__name__)

JIRA_KEY = r"^[A-Za-z][A-Za-z0-9_]*-[0-9]+$"


class ReplayIds(NamedTuple):
    salesforce: list[str]
    jira: list[str]


def is_jira_key(ids: pd.Series) -> pd.Series:
    return ids.astype(str).str.match(JIRA_KEY)


def replay_ids(run: SyncRun) -> ReplayIds:
    """The Salesforce ids and Jira keys of the open rejects, each with its linked counterpart."""
    ids = run.state.rejects(run.name)["record_id"].astype(str).drop_duplicates()
    keyish = is_jira_key(ids)
    sf_ids, keys = ids[~keyish], ids[keyish]
    links = run.state.links_of(run.name, sf_ids=sf_ids.tolist(), jira_keys=keys.tolist(), state="active")
    key_of = pd.Series(links["jira_key"].to_numpy(), index=links["sf_id"].to_numpy(), dtype=object)
    sf_of = pd.Series(links["sf_id"].to_numpy(), index=links["jira_key"].to_numpy(), dtype=object)
    salesforce = set(sf_ids) | set(sf_of.reindex(keys).dropna())
    jira = set(keys) | set(key_of.reindex(sf_ids).dropna())
    return ReplayIds(sorted(salesforce), sorted(jira))


def salesforce_by_id(run: SyncRun, fields: Sequence[str], ids: Sequence[str]) -> pd.DataFrame:
    """The records by Id, deleted ones too (queryAll), in the window extract's columns; the mapping's
    `where` still applies, so a record it no longer selects is not synced by a replay either."""
    mapping = run.mapping
    soqls = by_id_soqls(mapping.salesforce.object, fields, ids, mapping.salesforce.where)
    pages = [page for soql in soqls for page in run.salesforce.query_pages(soql, include_deleted=True)]
    return records_to_frame(pages, fields)


def merged(window: pd.DataFrame, replayed: pd.DataFrame, key: str, side: str) -> pd.DataFrame:
    """The window's rows plus the replayed ones, one row per `key` (the by-id read is the newer)."""
    log.info("%s: replaying %d record(s) of open rejects", side, len(replayed))
    if not len(replayed):
        return window
    if not len(window):
        return replayed.reset_index(drop=True)
    both = pd.concat([window, replayed.reindex(columns=window.columns)], ignore_index=True)
    return both.drop_duplicates(subset=[key], keep="last").reset_index(drop=True)
