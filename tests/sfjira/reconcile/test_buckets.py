"""The bucketed compare (reconcile.buckets) finds exactly what one compare of the whole window finds.

Seeded random worlds with every kind of identity tangle -- drift, conflicts, clones claiming one record,
records claiming one issue, chains of claims across records, moved issues found by id, orphans, settled
deletes, issues and records claiming nothing or something absent, refused claims, a record read twice --
written as extract parts, then compared once whole and in 1..7 buckets: the rows must be identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sfjira.identity.rules import REFUSED_COLUMNS
from sfjira.mapping import Mapping
from sfjira.reconcile import DRIFT_COLUMNS, compare
from sfjira.reconcile.buckets import (
    JIRA,
    SALESFORCE,
    Totals,
    compare_buckets,
    identity_columns,
    partition,
    plan_buckets,
    read_identities,
)
from sfjira.reconcile.extract import read_parts, write_parts
from sfjira.state import StateStore
from tests.sfjira.reconcile.seeded import World, key, sf_id

PAIRS = 60


def _tangle(world: World, store: StateStore, rng: np.random.Generator) -> pd.DataFrame:
    """Seed the world at random (each pair gets at most one change); returns the refused claims."""
    name = world.mapping.name
    pairs = list(range(1, PAIRS + 1))
    rng.shuffle(pairs)
    picks = iter(pairs)
    extra = iter(range(200, 400))
    refused: list[dict[str, Any]] = []

    def take(k: int) -> list[int]:
        return [next(picks) for _ in range(k)]

    for n in take(int(rng.integers(2, 6))):                     # drift in Jira only
        world.issues[key(n)]["fields"]["summary"] = f"edited in Jira {n}"
    for n in take(int(rng.integers(1, 4))):                     # edited on both sides: pending conflicts
        world.issues[key(n)]["fields"]["summary"] = f"Jira {n}"
        world.records[sf_id(n)]["Subject"] = f"Salesforce {n}"
    for n in take(int(rng.integers(1, 4))):                     # issue deleted: orphan link
        del world.issues[key(n)]
    for n in take(int(rng.integers(1, 4))):                     # record deleted: orphan link
        del world.records[sf_id(n)]
    for n in take(int(rng.integers(1, 3))):                     # both gone: an orphan with no side
        del world.issues[key(n)]
        del world.records[sf_id(n)]
    for n in take(int(rng.integers(1, 3))):                     # deleted in SF, settled, policy undone in Jira
        del world.records[sf_id(n)]
        store.set_link_state(name, [sf_id(n)], "deleted_sf")
        world.issues[key(n)]["fields"]["status"] = {"name": "In Progress", "id": "3"}
    for n in take(int(rng.integers(1, 4))):                     # a cloned issue carrying the same record id
        clone = _copy(world.issues[key(n)])
        m = next(extra)
        clone["key"], clone["id"] = f"SUP-{m}", str(10_000 + m)
        world.issues[clone["key"]] = clone
    for n in take(int(rng.integers(1, 4))):                     # an unlinked record holding a taken key
        m = next(extra)
        twin = _copy(world.records[sf_id(n)])
        twin["Id"] = sf_id(m)
        world.records[twin["Id"]] = twin
    a, b = take(2)                                              # a chain: record a holds b's key, issue b
    world.records[sf_id(a)]["Jira_Key__c"] = key(b)             # carries a's id
    world.issues[key(b)]["fields"]["customfield_10050"] = sf_id(a)
    world.issues[key(b)]["properties"]["sfjira"]["sfid"] = sf_id(a)
    for i, n in enumerate(take(int(rng.integers(1, 3)))):       # moved issue: new key, same id (link by id)
        issue = world.issues.pop(key(n))
        issue["key"] = f"OPS-{n}"
        if i == 0:                                              # ... and only the link's issue id ties it
            issue["fields"]["customfield_10050"] = None
            issue.pop("properties", None)
        world.issues[issue["key"]] = issue
    for _ in range(int(rng.integers(1, 4))):                    # issues carrying no id / an absent id
        m = next(extra)
        lone = _copy(world.issues[next(iter(world.issues))])
        lone["key"], lone["id"] = f"SUP-{m}", str(10_000 + m)
        lone.pop("properties", None)
        lone["fields"]["customfield_10050"] = None if rng.random() < 0.5 else sf_id(900 + m)
        world.issues[lone["key"]] = lone
    for _ in range(int(rng.integers(1, 4))):                    # records holding no key / an absent key
        m = next(extra)
        lone = _copy(world.records[next(iter(world.records))])
        lone["Id"] = sf_id(m)
        lone["Jira_Key__c"] = None if rng.random() < 0.5 else f"SUP-{900 + m}"
        world.records[lone["Id"]] = lone
    for n in take(2):                                           # refused claims, on both sides
        m = next(extra)
        claimant = _copy(world.records[sf_id(n)])
        claimant["Id"] = sf_id(m)
        claimant["Jira_Key__c"] = key(n) if rng.random() < 0.5 else "NOPE-1"
        world.records[claimant["Id"]] = claimant
        refused.append({"side": "salesforce", "record_id": sf_id(m), "sf_id": sf_id(m),
                        "jira_key": claimant["Jira_Key__c"], "code": "KEY_REFUSED", "field": "Jira_Key__c",
                        "value": claimant["Jira_Key__c"], "message": "refused", "fix": "clear it"})
        issue = _copy(world.issues[next(iter(world.issues))])
        issue["key"], issue["id"] = f"SUP-{m}", str(10_000 + m)
        issue["fields"]["customfield_10050"] = sf_id(n)
        world.issues[issue["key"]] = issue
        refused.append({"side": "jira", "record_id": issue["key"], "sf_id": sf_id(n), "jira_key": issue["key"],
                        "code": "SFID_REFUSED", "field": "customfield_10050", "value": sf_id(n),
                        "message": "refused", "fix": "clear it"})
    return pd.DataFrame(refused, columns=REFUSED_COLUMNS)


def _copy(value: dict[str, Any]) -> dict[str, Any]:
    import json
    return json.loads(json.dumps(value))


def _as_parts(tmp: Path, name: str, frame: pd.DataFrame, rng: np.random.Generator, again: int = 0) -> str:
    """The frame as several extract parts, the first `again` rows read a second time in the last one
    (a record fetched twice: the first read wins)."""
    cuts = np.sort(rng.choice(np.arange(1, len(frame)), size=3, replace=False))
    bounds = [0, *cuts.tolist(), len(frame)]
    frames = [frame.iloc[a:b].reset_index(drop=True) for a, b in zip(bounds, bounds[1:], strict=False)]
    if again:
        frames.append(frame.iloc[:again].assign(Subject="read again"))
    folder, _, _ = write_parts(str(tmp), name, frames)
    return folder


def _sorted(rows: pd.DataFrame) -> list[tuple[Any, ...]]:
    picked = rows[list(DRIFT_COLUMNS)].astype(object)
    return sorted((tuple(None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in row)
                   for row in picked.itertuples(index=False)), key=repr)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_buckets_find_what_one_compare_finds(case_mapping: Mapping, store: StateStore, tmp_path: Path,
                                             seed: int) -> None:
    rng = np.random.default_rng(seed)
    world = World.clean(case_mapping, PAIRS)
    world.save_sync(store)
    refused = _tangle(world, store, rng)
    name = case_mapping.name
    sf_parts = _as_parts(tmp_path, "sf", world.sf(), rng, again=3)
    jira_parts = _as_parts(tmp_path, "jira", world.jira(), rng)
    links, synced = store.links(name), store.synced_state(name)

    whole = compare(case_mapping, read_parts(sf_parts, "Id"), read_parts(jira_parts, "key"), links,
                    synced_state=synced, refused=refused)
    categories = {c for c, n in whole.counts().items() if n}
    assert {"field_mismatch", "conflict_pending", "orphan_link", "duplicate", "missing_in_jira",
            "missing_in_salesforce", "delete_unapplied", "identity_refused"} <= categories, whole.counts()

    sf_cols, jira_cols = identity_columns(case_mapping)
    sf_ids, jira_ids = read_identities(sf_parts, sf_cols, "Id"), read_identities(jira_parts, jira_cols, "key")
    for buckets in (1, 2, 3, 7):
        plan = plan_buckets(case_mapping, sf_ids, jira_ids, links, buckets)
        out = str(tmp_path / f"buckets{buckets}")
        sf_b, jira_b = partition(plan, sf_parts, SALESFORCE, out), partition(plan, jira_parts, JIRA, out)
        totals, parts = Totals(name), []
        for _, result in compare_buckets(case_mapping, plan, sf_b, jira_b, links, refused=refused,
                                         synced_for=lambda ids: store.synced_state_of(name, ids)):
            totals.add(result)
            parts.append(result.rows)
        rows = pd.concat(parts, ignore_index=True)
        assert _sorted(rows) == _sorted(whole.rows), f"{buckets} buckets"
        expected = whole.summary()
        assert {k: totals.summary()[k] for k in ("total", "counts", "sf_records", "jira_issues", "pairs",
                                                 "rejected_records")} == \
               {k: expected[k] for k in ("total", "counts", "sf_records", "jira_issues", "pairs", "rejected_records")}


def test_synced_state_of_reads_only_the_records_asked(case_mapping: Mapping, store: StateStore) -> None:
    world = World.clean(case_mapping, 12)
    world.save_sync(store)
    every = store.synced_state(case_mapping.name)
    asked = [sf_id(2), sf_id(5), "500Qy9999999999999"]
    some = store.synced_state_of(case_mapping.name, asked)
    assert set(some["sf_id"]) == {sf_id(2), sf_id(5)}
    pd.testing.assert_frame_equal(some.reset_index(drop=True),
                                  every[every["sf_id"].isin(asked)].reset_index(drop=True))
    assert store.synced_state_of(case_mapping.name, []).empty
