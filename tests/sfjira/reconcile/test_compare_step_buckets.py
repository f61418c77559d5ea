"""The reconciliation's compare step holds one bucket at a time: never a whole side, never two buckets.

The step runs on a world written as several extract parts, with the bucket size set to a few records.
Every frame compare receives is checked as it comes: its rows all belong to one bucket, and the frames
of the buckets before it are already gone (weak references dead after a collection). The whole-side
reader is never called. Then the step's outputs: the drift rows come back from their parts, and the
summary is what one compare of the window says.
"""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from sfjira.mapping import Mapping
from sfjira.reconcile import buckets, compare, steps
from sfjira.reconcile.buckets import JIRA, SALESFORCE
from sfjira.reconcile.extract import read_parts, write_parts
from sfjira.state import StateStore
from sfjira.storage import read_text
from tests.sfjira.reconcile.seeded import World, key, sf_id

PAIRS = 30


def _world(case_mapping: Mapping, store: StateStore) -> World:
    world = World.clean(case_mapping, PAIRS)
    world.save_sync(store)
    for n in (3, 11, 19):
        world.issues[key(n)]["fields"]["summary"] = f"edited in Jira {n}"     # drift
    clone = dict(world.issues[key(7)], key="SUP-500", id="10500")
    world.issues["SUP-500"] = clone                                            # a clone: duplicate
    lone = dict(world.records[sf_id(5)], Id=sf_id(600), Jira_Key__c=None)
    world.records[lone["Id"]] = lone                                           # never synced
    return world


def _parts(folder: Path, name: str, frame: pd.DataFrame, size: int) -> str:
    frames = [frame.iloc[i:i + size].reset_index(drop=True) for i in range(0, len(frame), size)]
    return write_parts(str(folder), name, frames)[0]


def test_the_compare_step_holds_one_bucket_at_a_time(case_mapping: Mapping, store: StateStore, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world(case_mapping, store)
    sf_parts = _parts(tmp_path, "sf", world.sf(), 7)
    jira_parts = _parts(tmp_path, "jira", world.jira(), 9)
    whole = compare(case_mapping, read_parts(sf_parts, "Id"), read_parts(jira_parts, "key"),
                    store.links(case_mapping.name), synced_state=store.synced_state(case_mapping.name))

    monkeypatch.setenv("AIRFLOW__SFJIRA__PART_RECORDS", "5")
    seen: list[tuple[weakref.ref[pd.DataFrame], weakref.ref[pd.DataFrame]]] = []
    plans: list[buckets.BucketPlan] = []
    real_plan, real_compare = buckets.plan_buckets, buckets.compare

    def plan_spy(*args: Any, **kwargs: Any) -> buckets.BucketPlan:
        plans.append(real_plan(*args, **kwargs))
        return plans[-1]

    def compare_spy(mapping: Mapping, sf: pd.DataFrame, jira: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
        gc.collect()
        assert all(s() is None and j() is None for s, j in seen), "an earlier bucket's frames are still held"
        held = set(plans[0].of(sf["Id"], SALESFORCE)) | set(plans[0].of(jira["key"], JIRA))
        assert len(held) <= 1, f"one compare got rows of buckets {held}"
        assert len(sf) < len(whole_sf) and len(jira) < len(whole_jira)
        seen.append((weakref.ref(sf), weakref.ref(jira)))
        return real_compare(mapping, sf, jira, *args, **kwargs)

    def no_whole_side(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the compare step read a whole side")

    whole_sf, whole_jira = read_parts(sf_parts, "Id"), read_parts(jira_parts, "key")
    monkeypatch.setattr(buckets, "plan_buckets", plan_spy)
    monkeypatch.setattr(steps, "plan_buckets", plan_spy)
    monkeypatch.setattr(buckets, "compare", compare_spy)
    monkeypatch.setattr(steps, "read_parts", no_whole_side)
    monkeypatch.setattr(steps, "insecure_tls_connections", lambda conn_ids: [])   # no Airflow connections here

    run = SimpleNamespace(
        mapping=case_mapping, name=case_mapping.name, state=store, folder=str(tmp_path / "run"), pii=None,
        since=None, scope="all", jira=None, salesforce=None, salesforce_conn_id="sf", jira_conn_id="jira",
        run_id=store.begin_run(case_mapping.name, "manual__2026-03-29T03:00:00+00:00"))
    Path(run.folder).mkdir()
    out = steps.compare_step.__wrapped__(run, {"parts": sf_parts}, {"parts": jira_parts})  # type: ignore[attr-defined]

    assert plans[0].buckets == 7 and len(seen) > 1           # 31 records at 5 a bucket
    summary = out["summary"]
    expected = whole.summary()
    assert {k: summary[k] for k in ("total", "counts", "sf_records", "jira_issues", "pairs")} == \
           {k: expected[k] for k in ("total", "counts", "sf_records", "jira_issues", "pairs")}
    assert summary["buckets"] == 7
    rows = steps.read_rows(out["rows"])
    pd.testing.assert_frame_equal(rows[whole.rows.columns].astype(object), whole.rows.astype(object),
                                  check_dtype=False)
    assert rows["auto_heal"].notna().all()
    assert str(whole.total) in read_text(out["report"]["json"])[:400]
