"""Where a run's frames live: Parquet files under an object-storage base path.

Frames never travel through XCom; tasks pass the path string (and counts). The base path is the
Airflow Variable / environment value `SFJIRA_STORAGE` (any fsspec URL ObjectStoragePath accepts,
e.g. `s3://bucket/sfjira` with a connection), default `file://$AIRFLOW_HOME/sfjira/runs`.

PII: `write_frame(..., pii=...)` seals the mapping's PII columns (and `sealed`) cell by cell and
`read_frame` opens them again. Local files are created 0600 and folders 0700. Run folders older
than the retention period are removed by the sync itself (`remove_old_runs`, see sfjira.retention).

Part sets: a large frame is a folder of `part-00000.parquet`, `part-00001.parquet`... (`write_parts`,
`PartSet`), at most `[sfjira] part_records` rows each, so a step can write and read it part by part
(`iter_parts`) and its memory is bounded by a part, not by the window. `read_frame` of a part-set
folder returns the concatenation, for the small consumers that want it whole.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from airflow.sdk import ObjectStoragePath

from sfjira import settings
from sfjira.files import local_path, make_private, open_private, private_dirs
from sfjira.pii import cipher_from_airflow
from sfjira.pii.frames import SEALED_KEY, open_columns, seal_columns, sealed_metadata

if TYPE_CHECKING:
    from sfjira.pii import PiiProtection

ENV_BASE = "SFJIRA_STORAGE"


def base_path() -> ObjectStoragePath:
    base = os.environ.get(ENV_BASE)
    if not base:
        home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
        base = f"file://{home}/sfjira/runs"
    return ObjectStoragePath(base)


def safe_name(run_id: str) -> str:
    """A run id as a folder name: run ids contain ':' and '+', which some object stores dislike."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run_id)


def run_path(dag_id: str, run_id: str) -> ObjectStoragePath:
    """One folder per DAG run (0700 on a local disk, as is the DAG's folder above it)."""
    path = make_folder(base_path() / dag_id / safe_name(run_id))
    local = local_path(path)
    if local is not None:
        make_private(local.parent)
    return path


def make_folder(path: ObjectStoragePath) -> ObjectStoragePath:
    """`path` and its missing parents created; on a local disk 0700 (`path` itself tightened if it exists)."""
    local = local_path(path)
    if local is None:
        path.mkdir(parents=True, exist_ok=True)
    else:
        make_private(private_dirs(local))
    return path


def write_frame(folder: ObjectStoragePath | str, name: str, frame: pd.DataFrame, *,
                pii: PiiProtection | None = None, sealed: Sequence[str] = ()) -> str:
    """`frame` as `<folder>/<name>.parquet`. With `pii` (a mapping's PiiProtection), its PII columns and
    the columns in `sealed` (e.g. a JSON column of values) are stored sealed."""
    path = ObjectStoragePath(str(folder)) / f"{name}.parquet"
    columns = pii.columns_in(frame.columns, also=sealed) if pii is not None else []
    with open_private(path, "wb") as fh:
        if not columns:
            frame.to_parquet(fh, index=False)
        else:
            assert pii is not None and pii.cipher is not None
            table = pa.Table.from_pandas(seal_columns(frame, columns, pii.cipher), preserve_index=False)
            meta = {**(table.schema.metadata or {}), SEALED_KEY: sealed_metadata(frame, columns, pii.conn_id)}
            pq.write_table(table.replace_schema_metadata(meta), fh, compression="snappy")
    return str(path)


def read_frame(path: str) -> pd.DataFrame:
    """A frame written by write_frame, sealed columns opened (with the key of the connection it names);
    of a part-set folder (`write_parts`), all its parts in order as one frame."""
    if is_part_set(path):
        return _whole_part_set(path)
    with ObjectStoragePath(path).open("rb") as fh:
        meta = pq.read_metadata(fh).metadata or {}
        fh.seek(0)
        frame = pd.read_parquet(fh)
    if SEALED_KEY not in meta:
        return frame
    return open_columns(frame, meta[SEALED_KEY], cipher_from_airflow)


def read_text(path: str) -> str:
    """A text file written by write_text."""
    return ObjectStoragePath(path).read_text(encoding="utf-8")


def write_text(folder: ObjectStoragePath | str, name: str, text: str) -> str:
    """UTF-8 text as `<folder>/<name>` (0600 on a local disk)."""
    path = ObjectStoragePath(str(folder)) / name
    with open_private(path, "wb") as fh:
        fh.write(text.encode("utf-8"))
    return str(path)


# -- part sets ---------------------------------------------------------------------------------------

PART_SUFFIX = ".parquet"


def part_records() -> int:
    """`[sfjira] part_records`, validated: rows per Parquet part (and per plan bucket), at least 1."""
    return settings.get_whole("part_records", 1)


def is_part_set(path: str) -> bool:
    """A part-set folder rather than one Parquet file (files here always end in `.parquet`)."""
    return not str(path).rstrip("/").endswith(PART_SUFFIX)


def part_paths(path: str) -> list[str]:
    """The parts of a part-set folder, in order (none when the folder does not exist)."""
    folder = ObjectStoragePath(str(path))
    if not folder.exists():
        return []
    return sorted(str(p) for p in folder.iterdir() if str(p).endswith(PART_SUFFIX))


def iter_parts(path: str) -> Iterator[pd.DataFrame]:
    """The frames of a part set one at a time (sealed columns opened); of a single file, that file."""
    if not is_part_set(path):
        yield read_frame(path)
        return
    for part in part_paths(path):
        yield read_frame(part)


def _whole_part_set(path: str) -> pd.DataFrame:
    """All parts of a part set as one frame: what `read_frame` of a part-set folder materialises."""
    return concat_parts(list(iter_parts(path)))


def concat_parts(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Frames as one (empty ones dropped unless all are empty: their columns are the frame's shape)."""
    filled = [f for f in frames if len(f)] or list(frames[:1])
    if not filled:
        return pd.DataFrame()
    return pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0].reset_index(drop=True)


class PartSet:
    """A part set written one frame at a time: `add` writes `<folder>/<name>/part-NNNNN.parquet`. Started at
    part 0 it replaces the set (an earlier attempt's parts are removed); started further on it appends.

    `close` writes `empty` as the only part when nothing was added, so a reader still finds the columns."""

    def __init__(self, folder: ObjectStoragePath | str, name: str, *, start: int = 0,
                 pii: PiiProtection | None = None, sealed: Sequence[str] = ()) -> None:
        self.path = make_folder(ObjectStoragePath(str(folder)) / name)
        if start == 0:
            # A retried step writes its part set again: parts an earlier attempt wrote beyond this one's
            # last part must not be read back with it.
            for stale in part_paths(str(self.path)):
                ObjectStoragePath(stale).unlink()
        self.pii, self.sealed = pii, tuple(sealed)
        self.number, self.records, self.parts = start, 0, 0

    def add(self, frame: pd.DataFrame) -> None:
        write_frame(self.path, f"part-{self.number:05d}", frame, pii=self.pii, sealed=self.sealed)
        self.number += 1
        self.parts += 1
        self.records += len(frame)

    def close(self, empty: pd.DataFrame | None = None) -> str:
        if not self.parts and empty is not None:
            self.add(empty)
        return str(self.path)


def write_parts(folder: ObjectStoragePath | str, name: str, frames: Iterable[pd.DataFrame], start: int = 0,
                pii: PiiProtection | None = None, sealed: Sequence[str] = ()) -> tuple[str, int, int]:
    """Each frame as `<folder>/<name>/part-NNNNN.parquet` (PII columns sealed with `pii`, and `sealed`);
    returns (parts folder, records, parts written)."""
    parts = PartSet(folder, name, start=start, pii=pii, sealed=sealed)
    for frame in frames:
        parts.add(frame)
    return parts.close(), parts.records, parts.parts


def rechunk(frames: Iterable[pd.DataFrame], size: int) -> Iterator[pd.DataFrame]:
    """Frames regrouped into frames of `size` rows (the last one shorter); at least one frame (maybe
    empty, the first input's columns) when any came in. Holds at most `size` rows plus one input frame."""
    if size < 1:
        raise ValueError(f"part size must be >= 1, got {size}")
    held: list[pd.DataFrame] = []
    count, yielded, first = 0, False, None
    for frame in frames:
        if first is None:
            first = frame.iloc[:0]
        start = 0
        while start < len(frame):
            take = min(size - count, len(frame) - start)
            held.append(frame.iloc[start:start + take])
            start, count = start + take, count + take
            if count == size:
                yield _joined(held)
                held, count, yielded = [], 0, True
    if held:
        yield _joined(held)
    elif not yielded and first is not None:
        yield first


def _joined(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0].reset_index(drop=True)
