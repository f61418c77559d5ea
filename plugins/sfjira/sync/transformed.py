"""The transform step's output: each side's TransformResult as Parquet in the run folder, and back.

`transform` writes them, one Parquet part per plan bucket (sfjira.sync.buckets) in a part set per frame,
`plan` reads them bucket by bucket (`read_result(..., bucket=b)`; without a bucket, the whole result): the two tasks meet through files (XCom carries the paths),
so after a mapping is fixed, clearing `transform` (and what follows) re-runs it on the same extracts.
PII columns are sealed at rest as in every other frame (sfjira.storage); hashes are computed from the
frames read back, which hold the same values and dtypes as the ones written.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from airflow.sdk import ObjectStoragePath

from sfjira.mapping.model import Mapping
from sfjira.pii import PiiProtection
from sfjira.storage import make_folder, part_paths, read_frame, write_frame
from sfjira.transform import TransformResult, to_jira, to_salesforce

Side = Literal["salesforce", "jira"]
PARTS = ("frame", "target", "meta", "rejects")
DIRECTION = {"salesforce": "sf_to_jira", "jira": "jira_to_sf"}
INDEX = {"salesforce": "sf_id", "jira": "jira_key"}


def transform_side(mapping: Mapping, side: Side, records: pd.DataFrame) -> TransformResult:
    """One side's extracted records through the mapping: canonical + other-side values, and rejects."""
    return to_jira(mapping, records) if side == "salesforce" else to_salesforce(mapping, records)


def write_result(folder: str, side: Side, result: TransformResult, pii: PiiProtection) -> dict[str, str]:
    """The four frames of `result` as `transform_<side>_<part>.parquet`; returns their paths by part.
    The index (the record id) is stored as a column: Parquet frames here are written without one."""
    paths = {part: write_frame(folder, f"transform_{side}_{part}", getattr(result, part).reset_index(), pii=pii)
             for part in ("frame", "target", "meta")}
    paths["rejects"] = write_frame(folder, f"transform_{side}_rejects", result.rejects, pii=pii)
    return paths


def write_bucket(folder: str, side: Side, result: TransformResult, pii: PiiProtection, bucket: int) -> dict[str, str]:
    """The four frames of one bucket's `result` as `transform_<side>_<part>/part-<bucket>.parquet`; returns the
    part sets' folders by part (every bucket writes its part, empty or not, so part N is bucket N)."""
    paths: dict[str, str] = {}
    for part in PARTS:
        frame = getattr(result, part)
        target = make_folder(ObjectStoragePath(folder) / f"transform_{side}_{part}")
        if bucket == 0:  # a re-run transform (fewer buckets, maybe) replaces every part of the last one
            for stale in part_paths(str(target)):
                ObjectStoragePath(stale).unlink()
        write_frame(target, f"part-{bucket:05d}", frame if part == "rejects" else frame.reset_index(), pii=pii)
        paths[part] = str(target)
    return paths


def read_result(mapping: Mapping, side: Side, paths: dict[str, Any], bucket: int | None = None) -> TransformResult:
    """The TransformResult `write_result` / `write_bucket` wrote (indexed by the record id again): with
    `bucket`, that bucket's part only."""
    index = INDEX[side]

    def read(part: str) -> pd.DataFrame:
        path = paths[part] if bucket is None else str(ObjectStoragePath(paths[part]) / f"part-{bucket:05d}.parquet")
        return read_frame(path)

    frames = {part: read(part).set_index(index) for part in ("frame", "target", "meta")}
    return TransformResult(mapping.name, DIRECTION[side], frames["frame"], frames["target"],  # type: ignore[arg-type]
                           frames["meta"], read("rejects"))


def without(result: TransformResult, ids: list[str]) -> TransformResult:
    """`result` without the records `ids` (claims the identity rules refused): their rows and rejects."""
    if not ids:
        return result
    keep = ~result.frame.index.isin(ids)
    return TransformResult(result.mapping, result.direction, result.frame[keep], result.target[keep],
                           result.meta[keep], result.rejects[~result.rejects["record_id"].isin(ids)])
