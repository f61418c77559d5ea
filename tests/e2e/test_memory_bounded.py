"""Issue 14 point 3: memory bounded by the chunk, not the window.

With a small `[sfjira] part_records`, a real run against the emulators must (a) have the extracts write
the window as several Parquet parts, the transform split it into several plan buckets and every plan
table be a part set with one part per bucket, and (b) never materialise a frame of the window's size
after the extract: every Parquet file read and every part set concatenated during the run is counted,
and the largest must stay well under the window. A step that read a whole extract or plan table (the
shape before this change) materialises all the window's rows and fails (b). No timing is involved.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.e2e.world import SQLITE_STATE_ONLY, World, make_cases

pytestmark = [SQLITE_STATE_ONLY]

PART_RECORDS = 3
WINDOW = 24


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet"))


@pytest.fixture
def largest(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The largest frame (rows) read from one Parquet file, made by `read_frame` of a whole part set, and
    the largest identity frame the transform gathered across the window (`identity`: the records that
    carry a key and the issues, for the duplicate-claim rules; a first sync's records carry none)."""
    import sfjira.storage as storage
    import sfjira.sync.steps as steps
    from sfjira.state import StateStore

    seen = {"file": 0, "part_set": 0, "identity": 0, "load_salesforce_links": 0, "load_jira_links": 0}
    read_parquet, whole_part_set, concat = pd.read_parquet, storage._whole_part_set, steps.concat_parts

    def counted_read(*args: Any, **kwargs: Any) -> pd.DataFrame:
        frame = read_parquet(*args, **kwargs)
        seen["file"] = max(seen["file"], len(frame))
        return frame

    def counted_whole(path: str) -> pd.DataFrame:
        frame = whole_part_set(path)
        seen["part_set"] = max(seen["part_set"], len(frame))
        return frame

    def counted_concat(frames: Any) -> pd.DataFrame:
        frame = concat(frames)
        seen["identity"] = max(seen["identity"], len(frame))
        return frame

    def counted_links(read: Any) -> Any:
        def links(*args: Any, **kwargs: Any) -> pd.DataFrame:
            frame = read(*args, **kwargs)
            for step in ("load_salesforce", "load_jira"):
                if any(f.f_code.co_filename.endswith(f"{step}.py") for f, _ in traceback.walk_stack(None)):
                    seen[f"{step}_links"] = max(seen[f"{step}_links"], len(frame))
            return frame
        return links

    monkeypatch.setattr(pd, "read_parquet", counted_read)
    monkeypatch.setattr(steps, "concat_parts", counted_concat)
    monkeypatch.setattr(StateStore, "links", counted_links(StateStore.links))
    monkeypatch.setattr(StateStore, "links_of", counted_links(StateStore.links_of))
    monkeypatch.setattr(storage, "_whole_part_set", counted_whole)
    monkeypatch.setenv("AIRFLOW__SFJIRA__PART_RECORDS", str(PART_RECORDS))
    return seen


def test_a_window_is_extracted_planned_and_loaded_part_by_part(world: World, largest: dict[str, int]) -> None:
    ids = make_cases(world.sf, WINDOW, Status="New", Priority="Medium")
    run = world.run("case_to_bug")

    # Every case went through: one issue each, linked, the key written back.
    keys = {r["Id"]: r["Jira_Key__c"] for r in world.sf.query("SELECT Id, Jira_Key__c FROM Case")}
    assert all(keys[i] for i in ids) and len({keys[i] for i in ids}) == WINDOW
    assert len(world.store.links("case_to_bug")) == WINDOW

    # (a) The window was written and planned in parts.
    assert len(_parts(run.folder / "sf_records")) == WINDOW // PART_RECORDS
    transform = world.xcom(run, "transform")
    buckets = transform["buckets"]["count"]
    assert buckets == WINDOW // PART_RECORDS
    creates = _parts(run.folder / "plan_jira_create")
    assert len(creates) == buckets and sum(len(pd.read_parquet(p)) for p in creates) == WINDOW
    assert world.xcom(run, "plan")["counts"]["jira_create"] == WINDOW

    # (b) No step after the extract held the window: the largest frame is a bucket's, far under it.
    assert 0 < largest["file"] <= WINDOW // 2 and largest["part_set"] <= WINDOW // 2, largest
    # No case carried a key: the transform's identity check gathered no window-sized frame either.
    assert largest["identity"] == 0, largest
    # Nor did the Salesforce load's key write-back read every link of the mapping: a bucket's at a time.
    assert 0 < largest["load_salesforce_links"] <= WINDOW // 2, largest

    # A second run over the same interval finds nothing to do, bucket by bucket as well.
    again = world.run("case_to_bug")
    assert sum(world.xcom(again, "plan")["counts"][t] for t in ("jira_create", "jira_update", "sf_update")) == 0

    # Two new cases beside the window's 24 linked ones: the Jira load checks only their links before creating.
    make_cases(world.sf, 2, Status="New", Priority="Medium")
    more = world.run("case_to_bug")
    assert world.xcom(more, "plan")["counts"]["jira_create"] == 2 and len(world.store.links("case_to_bug")) == WINDOW + 2
    assert largest["load_jira_links"] <= 2, largest
