"""Run folders are kept for a retention period, then removed by the sync itself.

The period is Airflow's `[sfjira] run_retention_days` (AIRFLOW__SFJIRA__RUN_RETENTION_DAYS, default
7). A DAG's last step removes the folders of its own earlier runs, under its own folder of the
storage base only, whose newest file is older than that -- never the current run's folder. A
folder whose age cannot be told (an object store reporting no times) is left alone.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from sfjira import settings
from sfjira.exceptions import SfJiraError
from sfjira.storage import base_path, safe_name

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

def retention_days() -> float:
    days = settings.get_float("run_retention_days")
    if days < 0:
        raise SfJiraError(f"[sfjira] run_retention_days must be a number of days >= 0, got {days:g}",
                          code="SETTING_INVALID",
                          fix="set AIRFLOW__SFJIRA__RUN_RETENTION_DAYS (or [sfjira] run_retention_days) to e.g. 7")
    return days


def remove_old_runs(dag_id: str, current_run_id: str, *, days: float | None = None,
                    now: dt.datetime | None = None) -> list[str]:
    """Remove `dag_id`'s run folders older than `days` (default: the setting); returns their paths."""
    days = retention_days() if days is None else days
    cutoff = (now or dt.datetime.now(dt.UTC)).timestamp() - days * 86400
    folder = base_path() / dag_id
    if not folder.exists():
        return []
    keep = safe_name(current_run_id)
    removed = []
    for child in folder.iterdir():
        if child.name == keep or not child.is_dir():
            continue
        newest = _newest(child)
        if newest is not None and newest < cutoff:
            child.fs.rm(child.path, recursive=True)
            removed.append(str(child))
    if removed:
        log.info("Retention (%g days): removed %d run folder(s) of %s", days, len(removed), dag_id)
    return removed


def _newest(folder: ObjectStoragePath) -> float | None:
    """The newest modification time (epoch seconds) of the folder or anything in it."""
    infos = [folder.fs.info(folder.path), *folder.fs.find(folder.path, detail=True, withdirs=True).values()]
    times = [t for t in (_modified(info) for info in infos) if t is not None]
    return max(times) if times else None


def _modified(info: dict[str, Any]) -> float | None:
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, dt.datetime):
            return value.timestamp()
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None
