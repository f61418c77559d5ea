"""Streaming compare: both extracts split into buckets of whole identity groups, compared a bucket at a time.

    plan = plan_buckets(mapping, sf_ids, jira_ids, links, bucket_count(records, part_records))
    sf_b = partition(plan, sf_parts, SALESFORCE, out_folder)      # one extract part in memory at a time
    jira_b = partition(plan, jira_parts, JIRA, out_folder)
    for bucket, result in compare_buckets(mapping, plan, sf_b, jira_b, links, synced_for=...):
        ...                                                                # one bucket's frames in memory

`compare` pairs a record and an issue through three claims -- an active link (found by key, else by
issue id), the Salesforce id the issue carries and the Jira key the record carries -- and reports a
leftover by what it claims (a duplicate names the partner already taken, a `missing_*` row says the
claimed side is not there). So everything a claim reaches must be compared together. The plan reads
only the identity columns of the window, numbers every distinct id (Arrow dictionaries: the ids of a
million pairs take tens of MB, no Python objects) and joins records, issues and links into connected
groups; a group goes to bucket `number of its first-seen member % B`, so records and issues nothing
else touches -- a record by its Id, an issue carrying no id by its key -- are dealt out evenly.
Refused claims and links go with the group of their record or issue.

Each bucket's compare is the plain `compare` on that bucket's records, issues, links and synced state:
its rows, concatenated over the buckets and sorted, are the rows one compare of the window gives
(tests/sfjira/reconcile/test_buckets.py checks it on seeded worlds).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from airflow.sdk import ObjectStoragePath

from sfjira.files import open_private
from sfjira.heap import give_back
from sfjira.mapping.model import Mapping
from sfjira.pii import PiiProtection
from sfjira.pii.frames import SEALED_KEY
from sfjira.reconcile.compare import compare
from sfjira.reconcile.result import CATEGORIES, DriftResult
from sfjira.storage import make_folder, read_frame
from sfjira.values.coerce import text_of

SALESFORCE, JIRA = "salesforce", "jira"
_KEY = {SALESFORCE: "Id", JIRA: "key"}


def bucket_count(records: int, part_records: int) -> int:
    """Buckets for a window of `records` (the larger side) at about `part_records` records each."""
    return max(1, math.ceil(records / max(1, part_records)))


def identity_columns(mapping: Mapping) -> tuple[list[str], list[str]]:
    """(Salesforce, Jira) columns that say who claims whom: what the plan, the identity rules and the
    counterparts read of the whole window."""
    sf = ["Id", mapping.salesforce.jira_key_field]
    jira = ["key", "id", *(c for c in (mapping.jira.salesforce_id_field, mapping.jira_property_column()) if c)]
    return sf, list(dict.fromkeys(jira))


def part_paths(folder: str) -> list[str]:
    return sorted(str(p) for p in ObjectStoragePath(folder).iterdir() if str(p).endswith(".parquet"))


def read_identities(folder: str, columns: Sequence[str], key: str) -> pd.DataFrame:
    """The identity columns of every part of one side (one row per `key`, the first, as read_parts
    keeps it): the whole window's ids without its field values."""
    frames = [_read_columns(p, columns) for p in part_paths(folder)]
    filled = [f for f in frames if len(f)] or frames[:1]
    if not filled:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    frame = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]
    frame = frame.drop_duplicates(subset=[key], keep="first").reset_index(drop=True)
    del frames, filled
    give_back()   # the parts' frames: the plan, built next, would peak on top of them
    return frame


def _read_columns(path: str, columns: Sequence[str]) -> pd.DataFrame:
    with ObjectStoragePath(path).open("rb") as fh:
        schema = pq.read_schema(fh)
        fh.seek(0)
        present = [c for c in columns if c in schema.names]
        sealed = (schema.metadata or {}).get(SEALED_KEY)
        if sealed is not None and set(json.loads(sealed)["columns"]) & set(present):
            return read_frame(path)[present]  # an id column sealed as PII: opened the usual way
        return pd.read_parquet(fh, columns=present)


def _text(values: pd.Series | np.ndarray) -> pa.Array:
    """A column of ids as compare reads them (`text_of`: empty is none), as one Arrow string array."""
    return text_of(pd.Series(values, dtype=object) if isinstance(values, np.ndarray) else values)[0].cast(pa.string())


@dataclass(frozen=True)
class BucketPlan:
    """Which bucket every record, issue, link and refused claim belongs to."""

    buckets: int
    ids: dict[str, pa.Array]            # per id space, every distinct id seen (Arrow: compact, no objects)
    bucket_of_id: dict[str, np.ndarray]  # per id space, the bucket of each of those ids
    jira_ids_unique: bool                # compare finds a moved issue's link by id only when ids are unique

    @cached_property
    def _lookup(self) -> dict[str, _IdLookup]:
        # Built once: Arrow's index_in builds its hash table of a million ids again on every call (a
        # second each, per extract part).
        return {space: _IdLookup(ids) for space, ids in self.ids.items()}

    def of(self, values: pd.Series | np.ndarray, space: str) -> np.ndarray:
        """Bucket per value (ids in `space`); an id the plan never saw (or none) goes to bucket 0."""
        at = self._lookup[space].positions(_text(values))
        return np.where(at >= 0, self.bucket_of_id[space][np.maximum(at, 0)], 0)

    def of_links(self, links: pd.DataFrame) -> np.ndarray:
        return self.of(links["sf_id"], SALESFORCE)

    def of_refused(self, refused: pd.DataFrame) -> np.ndarray:
        """A refused claim goes with the record or issue that made it (its `record_id`)."""
        record_side = (refused["side"] == "salesforce").to_numpy()
        return np.where(record_side, self.of(refused["record_id"], SALESFORCE), self.of(refused["record_id"], JIRA))


class _IdLookup:
    """Position of each value among distinct ids, by a pandas Index of their 64-bit hashes: a million ids
    keep 30 MB of numbers, where an Index of the strings keeps a Python object per id (170 MB) for the
    whole compare. A hash found is checked against the id's text, so a value the plan never saw is never
    taken for one that shares its hash; ids whose hashes collide fall back to the Index of strings."""

    def __init__(self, ids: pa.Array) -> None:
        self.ids = ids
        hashes = pd.Index(_hashes(ids))
        self.index = hashes if hashes.is_unique else pd.Index(ids.to_pandas())
        self.by_hash = hashes.is_unique

    def positions(self, text: pa.Array) -> np.ndarray:
        """Per value its position in `ids`, -1 where it is none of them (or null)."""
        if not len(self.ids):
            return np.full(len(text), -1)
        if not self.by_hash:
            return np.asarray(self.index.get_indexer(text.to_pandas()))
        at = np.asarray(self.index.get_indexer(_hashes(text)))
        same = pc.equal(self.ids.take(pa.array(np.maximum(at, 0))), text).fill_null(False)
        return np.where((at >= 0) & same.to_numpy(zero_copy_only=False), at, -1)


def _hashes(text: pa.Array) -> np.ndarray:
    """A 64-bit hash per value (Python strings only for the call: a part's worth, or the plan's ids once)."""
    return np.asarray(pd.util.hash_array(text.to_numpy(zero_copy_only=False), categorize=False))


def _one_dictionary(encoded: pa.ChunkedArray) -> pa.ChunkedArray:
    """Chunks whose codes all index the last chunk's dictionary. Arrow encodes a chunked array with one
    memo, so each chunk's dictionary is the start of the next; where one is not, they are unified."""
    if not encoded.num_chunks:
        return encoded
    last = encoded.chunk(encoded.num_chunks - 1).dictionary
    if all(last.slice(0, len(c.dictionary)).equals(c.dictionary) for c in encoded.chunks):
        return encoded
    return encoded.unify_dictionaries()


class _Space:
    """The ids of one space (Salesforce ids or Jira keys) from several columns, numbered by first sight."""

    def __init__(self, columns: list[pa.Array], offset: int) -> None:
        # Encoded as chunks, not joined first: joining would copy every id of the window once more
        # (4,000,000 strings at 1,000,000 pairs, 75 MB more at the peak).
        encoded = _one_dictionary(pc.dictionary_encode(pa.chunked_array(columns, pa.string())))
        self.ids: pa.Array = encoded.chunk(encoded.num_chunks - 1).dictionary if encoded.num_chunks else \
            pa.array([], pa.string())
        codes = np.concatenate([c.indices.fill_null(-1).to_numpy(zero_copy_only=False) for c in encoded.chunks]
                               ).astype(np.int32) if encoded.num_chunks else np.array([], np.int32)
        self.nodes = np.where(codes >= 0, codes + offset, -1)
        self.bounds = np.cumsum([0, *(len(c) for c in columns)])
        self.offset = offset

    def column(self, number: int) -> np.ndarray:
        """Node per row of the `number`th column given (-1: no id)."""
        return self.nodes[self.bounds[number]:self.bounds[number + 1]]


def plan_buckets(mapping: Mapping, sf_ids: pd.DataFrame, jira_ids: pd.DataFrame, links: pd.DataFrame | None,
                 buckets: int) -> BucketPlan:
    """Group records, issues and links by every claim compare follows, and give each group a bucket.

    :param sf_ids: / jira_ids: `read_identities` of both sides (identity_columns), after the counterparts.
    """
    buckets = max(1, buckets)
    key_field = mapping.salesforce.jira_key_field
    links = links if links is not None and len(links) else None
    carried = [c for c in identity_columns(mapping)[1][2:] if c in jira_ids.columns]
    # Salesforce space: record Ids, the ids issues carry, link sf_ids; Jira space: keys, keys records hold, link keys.
    sf_space = _Space([_text(sf_ids["Id"]), *(_text(jira_ids[c]) for c in carried),
                       *([_text(links["sf_id"])] if links is not None else [])], 0)
    held = [_text(sf_ids[key_field])] if key_field in sf_ids.columns else []
    jira_space = _Space([_text(jira_ids["key"]), *held, *([_text(links["jira_key"])] if links is not None else [])],
                        len(sf_space.ids))
    record, issue = sf_space.column(0), jira_space.column(0)
    ends: list[tuple[np.ndarray, np.ndarray]] = []
    if held:                                               # a record claims the issue whose key it holds
        ends.append((record, jira_space.column(1)))
    # an issue claims the record whose id it carries
    ends.extend((issue, sf_space.column(1 + number)) for number in range(len(carried)))
    issue_ids = _text(jira_ids["id"]) if "id" in jira_ids.columns else pa.array([], pa.string())
    # As pandas' Index.is_unique, which compare asks: a second missing id is a repeat too.
    unique = pc.count_distinct(issue_ids, mode="all").as_py() == len(issue_ids)
    if links is not None:                                  # a link joins its record and its issue
        link_sf, link_key = sf_space.column(1 + len(carried)), jira_space.column(len(held) + 1)
        ends.append((link_sf, link_key))
        if unique and "jira_id" in links.columns and len(issue_ids):   # ... found by id once its key moved
            at = pc.index_in(_text(links["jira_id"]), value_set=issue_ids).fill_null(-1).to_numpy(
                zero_copy_only=False)
            ends.append((link_sf[at >= 0], issue[at[at >= 0]]))
    root = _components(len(sf_space.ids) + len(jira_space.ids), ends)
    # A group goes to the bucket of its first-seen member: records and issues nothing else touches are
    # dealt out in turn, in extract order.
    bucket = (root % buckets).astype(np.int32)
    ids, records = {SALESFORCE: sf_space.ids, JIRA: jira_space.ids}, len(sf_space.ids)
    del sf_space, jira_space, record, issue, held, ends, root
    give_back()   # the plan's window-sized temporaries, before the compare's buckets
    return BucketPlan(buckets, ids, {SALESFORCE: bucket[:records], JIRA: bucket[records:]}, unique)


def _components(n: int, edges: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Connected components of the graph (n nodes; edges u-v, -1 ends ignored): each node's smallest
    member. The edge lists are joined in one at a time: a component only ever grows, so the edges already
    joined stay joined, and only one list's arrays are held (joining all at once held 135 MB of edge
    arrays at 1,000,000 pairs)."""
    parent = np.arange(n, dtype=np.int32)   # int32: a million pairs' ids and claims in tens of MB
    for u, v in edges:
        both = (u >= 0) & (v >= 0)
        parent = _joined(parent, u[both], v[both])
    return parent


def _joined(parent: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """`parent` with edges u-v joined: the larger root hooked under the smaller and paths halved until no
    edge joins two roots (vectorized: claim groups are small, so a few rounds do). Returned flat: each
    node's parent is its root."""
    while True:
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        pu, pv = parent[u], parent[v]
        apart = pu != pv
        if not apart.any():
            return parent
        u, v, pu, pv = u[apart], v[apart], pu[apart], pv[apart]
        np.minimum.at(parent, np.maximum(pu, pv), np.minimum(pu, pv))


# -- partitioned parts ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Partitioned:
    """One side's rows as `<folder>/bNNNNN/part-NNNNN.parquet` (a bucket's files in extract order)."""

    side: str
    folder: str
    empty: pd.DataFrame = field(repr=False)   # the side's columns, no rows (a bucket with nothing of it)

    def read(self, bucket: int) -> pd.DataFrame:
        """One bucket's rows, one per id (the first read, as `read_parts` keeps it)."""
        where = ObjectStoragePath(self.folder) / f"b{bucket:05d}"
        if not where.exists():
            return self.empty
        frames = [read_frame(p) for p in part_paths(str(where))]
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return frame.drop_duplicates(subset=[_KEY[self.side]], keep="first").reset_index(drop=True)


def partition(plan: BucketPlan, parts_folder: str, side: str, out_folder: str) -> Partitioned:
    """Every extract part of `side` split by bucket, one part in memory at a time. The parts are split as
    Arrow tables, schema and metadata kept: PII columns stay sealed as the extract wrote them (never opened
    here), and no value goes through pandas. A partition left by an earlier try of the step is removed first."""
    target = ObjectStoragePath(out_folder) / side
    if target.exists():
        target.fs.rm(target.path, recursive=True)
    empty: pd.DataFrame | None = None
    for number, path in enumerate(part_paths(parts_folder)):
        with ObjectStoragePath(path).open("rb") as fh:
            table = pq.read_table(fh)
        if empty is None:
            empty = read_frame(path).iloc[0:0]   # the side's columns and dtypes, sealed ones opened
        bucket = plan.of(table.column(_KEY[side]).to_pandas(), side)
        order = np.argsort(bucket, kind="stable")           # one reordering, then a slice per bucket
        grouped, ends = table.take(pa.array(order)), np.cumsum(np.bincount(bucket, minlength=plan.buckets))
        for b in np.flatnonzero(np.bincount(bucket, minlength=plan.buckets)):
            folder = make_folder(target / f"b{int(b):05d}")
            start = int(ends[b - 1]) if b else 0
            with open_private(folder / f"part-{number:05d}.parquet", "wb") as out:
                pq.write_table(grouped.slice(start, int(ends[b]) - start), out, compression="snappy")
    return Partitioned(side, str(make_folder(target)), empty if empty is not None else pd.DataFrame({_KEY[side]: []}))


# -- the compare, bucket by bucket ----------------------------------------------------------------------

def compare_buckets(mapping: Mapping, plan: BucketPlan, sf: Partitioned, jira: Partitioned,
                    links: pd.DataFrame | None, *, synced_for: Callable[[list[str]], pd.DataFrame],
                    refused: pd.DataFrame | None = None, pii: PiiProtection | None = None,
                    user_map: dict[str, str] | None = None) -> Iterator[tuple[int, DriftResult]]:
    """`compare` of each bucket that holds anything; `synced_for(sf_ids)` gives the synced state of those
    records (StateStore.synced_state_of), asked for a bucket's records whose fields differ. Results come
    bucket by bucket, never held together."""
    links = links if links is not None and len(links) else None
    if links is not None and not plan.jira_ids_unique and "jira_id" in links.columns:
        links = links.drop(columns="jira_id")     # as compare does: no look-up by an ambiguous issue id
    link_bucket = plan.of_links(links) if links is not None else np.array([], np.int64)
    refused = refused if refused is not None and len(refused) else None
    refused_bucket = plan.of_refused(refused) if refused is not None else np.array([], np.int64)
    for b in range(plan.buckets):
        give_back(collect=False)   # the last bucket's compare (its frames are freed as they are dropped)
        sf_frame, jira_frame = sf.read(b), jira.read(b)
        bucket_links = links[link_bucket == b].reset_index(drop=True) if links is not None else None
        bucket_refused = refused[refused_bucket == b].reset_index(drop=True) if refused is not None else None
        if not (len(sf_frame) or len(jira_frame) or _any(bucket_links) or _any(bucket_refused)):
            continue
        yield b, compare(mapping, sf_frame, jira_frame, bucket_links, synced_state=synced_for, user_map=user_map,
                         refused=bucket_refused, pii=pii)


def _any(frame: pd.DataFrame | None) -> bool:
    return frame is not None and bool(len(frame))


@dataclass
class Totals:
    """The summary of a bucketed compare, summed as the buckets come (what DriftResult.summary gives)."""

    mapping: str
    fields: tuple[str, ...] = ()
    sf_records: int = 0
    jira_issues: int = 0
    pairs: int = 0
    rejected_records: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    by_field: dict[str, int] = field(default_factory=dict)

    def add(self, result: DriftResult) -> None:
        self.fields = self.fields or result.fields
        self.sf_records += result.sf_records
        self.jira_issues += result.jira_issues
        self.pairs += result.pairs
        # A rejected record is in one bucket only (ids and keys are never equal), so the counts add up.
        self.rejected_records += int(result.rejects["record_id"].nunique()) if len(result.rejects) else 0
        for category, count in result.counts().items():
            self.counts[category] += count
        for name, count in result.by_field().items():
            self.by_field[str(name)] = self.by_field.get(str(name), 0) + int(count)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self, top: int = 5) -> dict[str, Any]:
        """As DriftResult.summary (fields of equal count in name order)."""
        fields = sorted(self.by_field.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return {"mapping": self.mapping, "total": self.total, "counts": dict(self.counts),
                "sf_records": self.sf_records, "jira_issues": self.jira_issues, "pairs": self.pairs,
                "fields_compared": len(self.fields), "top_fields": dict(fields),
                "rejected_records": self.rejected_records}


__all__ = ["JIRA", "SALESFORCE", "BucketPlan", "Partitioned", "Totals", "bucket_count",
           "compare_buckets", "identity_columns", "partition", "plan_buckets", "read_identities"]
