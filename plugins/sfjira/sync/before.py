"""Before-images: what a target record holds in the fields a chunk is about to overwrite.

The extracts read only each side's changed window, so the target's current values are in general
not at hand when a chunk is written. Each write chunk therefore reads them by id just before it
writes: Jira one search per 100 keys (the mapped fields, flattened as the extract flattens them),
Salesforce one SOQL per 200 ids (the fields the chunk writes). A run that writes nothing reads
nothing. The values go to the ledger's `before` next to the `after` the load sends; a record that
cannot be read (gone) gets no before-image (None) and its write goes on as before.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from sfjira.hooks.by_id import by_id_soqls
from sfjira.sync.extract import issues_by_key
from sfjira.sync.run import SyncRun

Images = dict[str, dict[str, Any]]
"""record id (Jira key / Salesforce id) -> field -> value it held."""


def plain(value: Any) -> Any:
    """A value read from either API as JSON (numpy scalars, arrays, timestamps and NaN made plain)."""
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    return value


def jira_images(run: SyncRun, keys: Iterable[str], ids: dict[str, str] | None = None) -> Images:
    """The mapped fields of the issues `keys` as Jira holds them now (one search per 100 keys); with `ids`,
    it gets each found issue's id by key too (bulk operations name issues by id)."""
    wanted = sorted({str(k) for k in keys if isinstance(k, str)})
    if not wanted:
        return {}
    frame = issues_by_key(run, wanted)
    if ids is not None and len(frame):
        ids.update(zip(frame["key"].astype(str), frame["id"].astype(str), strict=True))
    columns = [c for c in frame.columns if c not in ("id", "key", "updated", "created")]
    return {str(r["key"]): {c: plain(r[c]) for c in columns} for r in frame.to_dict("records")}


def salesforce_images(run: SyncRun, fields_by_id: Mapping[str, Iterable[str]]) -> Images:
    """The named fields of the records as Salesforce holds them now (one SOQL per 200 ids)."""
    ids = sorted(str(i) for i in fields_by_id)
    fields = sorted({f for names in fields_by_id.values() for f in names if f != "Id"})
    if not ids or not fields:
        return {}
    images: Images = {}
    for soql in by_id_soqls(run.mapping.salesforce.object, ["Id", *fields], ids):
        for page in run.salesforce.query_pages(soql):
            images.update({str(r["Id"]): {f: plain(r.get(f)) for f in fields} for r in page})
    return images


def reads_needed(records: int, per_read: int) -> int:
    """Calls the before-image reads of `records` records cost at the API's page size (protocol minimum)."""
    return math.ceil(records / per_read) if records else 0


def conflict_reasons(run: SyncRun, conflicts: pd.DataFrame, side: str) -> dict[tuple[str, str], str]:
    """(sf_id, target field) -> the plan's conflict reason (owner rule, winner) for the writes to `side`."""
    if not len(conflicts):
        return {}
    out: dict[tuple[str, str], str] = {}
    for sf_id, key, reason in zip(conflicts["sf_id"], conflicts["field"], conflicts["reason"], strict=True):
        try:
            f = run.mapping.field(str(key))
        except KeyError:
            continue
        out[(str(sf_id), f.jira if side == "jira" else f.salesforce)] = str(reason)
    return out
