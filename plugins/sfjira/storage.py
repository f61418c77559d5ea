"""Where a run's frames live: Parquet files under an object-storage base path.

Frames never travel through XCom; tasks pass the path string (and counts). The base path is the
Airflow Variable / environment value `SFJIRA_STORAGE` (any fsspec URL ObjectStoragePath accepts,
e.g. `s3://bucket/sfjira` with a connection), default `file://$AIRFLOW_HOME/sfjira/runs`.

PII: `write_frame(..., pii=...)` seals the mapping's PII columns (and `sealed`) cell by cell and
`read_frame` opens them again. Local files are created 0600 and folders 0700. Run folders older
than the retention period are removed by the sync itself (`remove_old_runs`, see sfjira.retention).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from airflow.sdk import ObjectStoragePath

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
    """A frame written by write_frame, sealed columns opened (with the key of the connection it names)."""
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
