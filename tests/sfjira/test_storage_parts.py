"""Part sets: a frame written as numbered Parquet parts (PII sealed in each), read back part by part or
whole; `rechunk` regroups frames into parts of a fixed size; `[sfjira] part_records` is validated."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sfjira.exceptions import SfJiraError
from sfjira.pii import PiiProtection, is_sealed
from sfjira.storage import (
    PartSet,
    is_part_set,
    iter_parts,
    part_paths,
    part_records,
    read_frame,
    rechunk,
    run_path,
    write_parts,
)
from tests.sfjira.test_storage import _frame, pii, storage  # noqa: F401 - fixtures


def test_parts_are_numbered_sealed_and_read_back_in_order(storage: Path, pii: PiiProtection) -> None:  # noqa: F811
    folder = run_path("dag", "run")
    frame = _frame()
    path, records, parts = write_parts(folder, "sf_records", [frame.iloc[:2], frame.iloc[2:]], pii=pii)
    assert (records, parts) == (3, 2) and is_part_set(path)
    assert [Path(p).name for p in part_paths(path)] == ["part-00000.parquet", "part-00001.parquet"]
    raw = pq.read_table(Path(part_paths(path)[0]).as_posix()).to_pandas()
    assert is_sealed(raw["Contact.Email"].iloc[0])
    assert [len(f) for f in iter_parts(path)] == [2, 1]
    whole = read_frame(path)
    pd.testing.assert_frame_equal(whole.drop(columns=["Amount"]), frame.drop(columns=["Amount"]),
                                  check_dtype=False)


def test_an_empty_part_set_keeps_its_columns(storage: Path) -> None:  # noqa: F811
    parts = PartSet(run_path("dag", "run"), "sf_deleted")
    path = parts.close(pd.DataFrame({"Id": pd.Series([], dtype=object)}))
    assert parts.parts == 1 and list(read_frame(path).columns) == ["Id"] and len(read_frame(path)) == 0


def test_rechunk_cuts_frames_into_parts_of_the_size() -> None:
    frames = [pd.DataFrame({"a": range(n)}) for n in (3, 0, 7, 1)]
    assert [len(f) for f in rechunk(frames, 4)] == [4, 4, 3]
    assert [len(f) for f in rechunk([pd.DataFrame({"a": []})], 4)] == [0]
    assert list(rechunk([], 4)) == []


def test_part_records_must_be_a_whole_number_of_at_least_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SFJIRA__PART_RECORDS", "7")
    assert part_records() == 7
    for bad in ("0", "many"):
        monkeypatch.setenv("AIRFLOW__SFJIRA__PART_RECORDS", bad)
        with pytest.raises(SfJiraError, match="part_records"):
            part_records()


def test_a_part_set_written_again_from_part_zero_drops_the_earlier_attempts_parts(storage: Path) -> None:  # noqa: F811
    folder = run_path("dag", "run")
    frames = [pd.DataFrame({"a": [i]}) for i in range(3)]
    write_parts(folder, "set", frames)
    path, _, _ = write_parts(folder, "set", frames[:1])
    assert len(part_paths(path)) == 1 and list(read_frame(path)["a"]) == [0]
    write_parts(folder, "set", frames[1:], start=1)  # appending (the reconcile's by-id fetches)
    assert list(read_frame(path)["a"]) == [0, 1, 2]
