"""Checks shared by the record and comment id maps: one counterpart per id, on both sides."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa

from sfjira.batching import batches
from sfjira.exceptions import StateStoreError
from sfjira.state.frames import last_of_each

_LOOKUP_BATCH = 500


def dedupe(df: pd.DataFrame, what: str, *, owner: str, keys: tuple[str, ...]) -> pd.DataFrame:
    """Drop repeated identical rows; refuse a frame that maps one id to two counterparts."""
    df = last_of_each(df, [owner, *keys])
    for column in (owner, *keys):
        values = df[column].to_numpy(dtype=object)
        values = values[~pd.isna(values)]
        if len(set(values)) == len(values):  # the usual case, told without pandas' duplicated()
            continue
        repeated = pd.Series(values, dtype=object)
        repeated = repeated[repeated.duplicated(keep=False)]
        raise StateStoreError(
            f"{what}: {column} value(s) {', '.join(sorted(set(map(str, repeated))))} appear in more than "
            "one row with different counterparts", code="STATE_LINK_CONFLICT",
            fix=f"each {column} may appear once per call: resolve the duplicate before saving links",
            record=sorted(set(map(str, repeated)))[:20])
    return df


def check_taken(conn: sa.Connection, table: sa.Table, mapping: str, df: pd.DataFrame, what: str, *,
                owner: str, key: str) -> None:
    """Refuse rows whose `key` is already held by a different `owner` in the store (the unique
    constraint would refuse them too, but only this check can say which records)."""
    values = df[key].dropna().unique().tolist()
    taken: list[sa.Row[Any, Any]] = []  # (owner, key)
    for batch in batches(values, _LOOKUP_BATCH):
        query = sa.select(table.c[owner], table.c[key]).where(table.c.mapping == mapping, table.c[key].in_(batch))
        taken.extend(conn.execute(query).all())
    if not taken:
        return
    held = pd.DataFrame(taken, columns=["held_by", key])
    clash = df[[owner, key]].merge(held, on=key)
    clash = clash[clash[owner] != clash["held_by"]]
    if not clash.empty:
        sample = clash.head(20).to_dict("records")
        raise StateStoreError(
            f"{what}: {len(clash)} {key} value(s) are already linked to another {owner} in mapping {mapping!r}",
            code="STATE_LINK_CONFLICT", record=sample,
            fix=f"one {key} maps to one {owner} per mapping: check the idempotency key stored on the record, "
                "or remove the stale link first (`sfjira unlink --mapping NAME --sf-id ID`)")
