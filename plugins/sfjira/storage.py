"""Where a run's frames live: Parquet files under an object-storage base path.

Frames never travel through XCom; tasks pass the path string (and counts). The base path is the
Airflow Variable / environment value `SFJIRA_STORAGE` (any fsspec URL ObjectStoragePath accepts,
e.g. `s3://bucket/sfjira` with a connection), default `file://$AIRFLOW_HOME/sfjira/runs`.
"""

from __future__ import annotations

import os
import re

import pandas as pd
from airflow.sdk import ObjectStoragePath

ENV_BASE = "SFJIRA_STORAGE"


def base_path() -> ObjectStoragePath:
    base = os.environ.get(ENV_BASE)
    if not base:
        home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
        base = f"file://{home}/sfjira/runs"
    return ObjectStoragePath(base)


def run_path(dag_id: str, run_id: str) -> ObjectStoragePath:
    """One folder per DAG run; run ids contain ':' and '+', which some object stores dislike."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", run_id)
    path = base_path() / dag_id / safe
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_frame(folder: ObjectStoragePath | str, name: str, frame: pd.DataFrame) -> str:
    path = ObjectStoragePath(str(folder)) / f"{name}.parquet"
    with path.open("wb") as fh:
        frame.to_parquet(fh, index=False)
    return str(path)


def read_frame(path: str) -> pd.DataFrame:
    with ObjectStoragePath(path).open("rb") as fh:
        return pd.read_parquet(fh)


def write_text(folder: ObjectStoragePath | str, name: str, text: str) -> str:
    path = ObjectStoragePath(str(folder)) / name
    with path.open("w") as fh:
        fh.write(text)
    return str(path)
