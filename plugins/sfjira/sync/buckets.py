"""Plan buckets: a window's rows split by a stable hash of the Salesforce id, so that the transform and
the plan work on one bucket (about `[sfjira] part_records` records) at a time and their memory does not
grow with the window.

A record's bucket is the hash of its Salesforce id (its first 15 characters: the 15- and 18-character
forms of an id land together). A Jira issue goes where the plan will join it (sfjira.sync.plan): the
Salesforce id its active link gives its key, else the id it carries, else (it cannot be planned, but its
rejects are kept) the hash of its key. Deleted ids, comments, webhook deletions and identity refusals
follow the record or issue they belong to, so every bucket holds all the plan needs for its ids; the
state store is then read for those ids only (links_of, synced_state_of, comment_links_of).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from airflow.sdk import ObjectStoragePath

from sfjira.mapping.model import Mapping
from sfjira.pii import PiiProtection
from sfjira.storage import PartSet, read_frame
from sfjira.values.missing import text_or_none


def bucket_count(records: int, per_bucket: int) -> int:
    """Buckets for a window of `records` (the larger side), about `per_bucket` records each; at least one."""
    return max(1, math.ceil(records / per_bucket))


def of_ids(ids: pd.Series | pd.Index, count: int) -> np.ndarray:
    """The bucket of each Salesforce id (or, for an issue that names none, of its key): a stable hash."""
    values = pd.Series(np.asarray(ids, dtype=object)).fillna("").astype(str).str[:15]
    if count == 1 or not len(values):
        return np.zeros(len(values), dtype=np.int64)
    hashes = pd.util.hash_pandas_object(values, index=False).to_numpy()
    return (hashes % np.uint64(count)).astype(np.int64)


def carried_sf_ids(mapping: Mapping, issues: pd.DataFrame) -> pd.Series:
    """The Salesforce id each extracted issue carries (custom field, else entity property), as the
    transform's `meta.sf_id` reads it."""
    carried = pd.Series([None] * len(issues), index=issues.index, dtype=object)
    for column in (mapping.jira.salesforce_id_field, mapping.jira_property_column()):
        if column and column in issues.columns:
            carried = carried.where(carried.notna(), text_or_none(issues[column]))
    return carried


def issue_sf_ids(mapping: Mapping, issues: pd.DataFrame, links: pd.DataFrame) -> pd.Series:
    """Per issue the Salesforce id the plan joins it to: its key's active link, else the id it carries."""
    active = links[links["state"] == "active"] if len(links) else links
    by_key = pd.Series(active["sf_id"].to_numpy(dtype=object), index=active["jira_key"].to_numpy(dtype=object)) \
        if len(active) else pd.Series(dtype=object)
    by_key = by_key[~by_key.index.duplicated(keep="first")]
    linked = pd.Series(by_key.reindex(issues["key"].astype(object)).to_numpy(dtype=object), index=issues.index)
    return linked.where(linked.notna(), carried_sf_ids(mapping, issues))


def issue_buckets(mapping: Mapping, issues: pd.DataFrame, links: pd.DataFrame, count: int) -> pd.Series:
    """Jira key -> bucket, for the issues of `issues` (key + Salesforce id columns suffice)."""
    sf = issue_sf_ids(mapping, issues, links)
    named = sf.where(sf.notna(), issues["key"].astype(object))
    return pd.Series(of_ids(named, count), index=issues["key"].astype(str).to_numpy())


def key_buckets(keys: pd.Series, known: pd.Series, count: int) -> np.ndarray:
    """The bucket of each Jira key: its issue's (`known`, from `issue_buckets`), else the hash of the key."""
    found = known.reindex(keys.astype(str).to_numpy()).to_numpy()
    fallback = of_ids(keys, count)
    return np.where(pd.notna(found), found, fallback).astype(np.int64)


class Bucketed:
    """Frames split into `count` buckets, each a part set `<folder>/<name>/b-NNNNN` (one part per `add`
    that had rows for it; `close` gives every bucket left empty one empty part with the columns)."""

    def __init__(self, folder: str, name: str, count: int, *, pii: PiiProtection | None = None) -> None:
        self.path = str(ObjectStoragePath(folder) / name)
        self.count = count
        self.sets = [PartSet(self.path, bucket_name(b), pii=pii) for b in range(count)]
        self.empty: pd.DataFrame | None = None

    def add(self, frame: pd.DataFrame, buckets: np.ndarray) -> None:
        if self.empty is None:
            self.empty = frame.iloc[:0]
        if not len(frame):
            return
        order = np.argsort(buckets, kind="stable")
        sorted_buckets = buckets[order]
        bounds = np.flatnonzero(np.diff(sorted_buckets)) + 1
        for rows in np.split(order, bounds):
            self.sets[int(buckets[rows[0]])].add(frame.iloc[rows].reset_index(drop=True))

    def close(self, empty: pd.DataFrame | None = None) -> str:
        shape = self.empty if self.empty is not None else empty
        for parts in self.sets:
            parts.close(shape)
        return self.path


def bucket_name(bucket: int) -> str:
    return f"b-{bucket:05d}"


def read_bucket(path: str, bucket: int) -> pd.DataFrame:
    """Bucket `bucket` of a `Bucketed` folder, as one frame."""
    return read_frame(str(ObjectStoragePath(path) / bucket_name(bucket)))
