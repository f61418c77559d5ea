"""The one reject shape, from the transform to the state store's dead letters.

Every record a step refuses becomes a row of REJECT_COLUMNS: the side that holds the record, its id,
the code (sfjira.error_catalog), the field, a message and its fix, and the offending value or payload
(PII sealed by the state store). The transform's rejects (which also say where in the mapping a value
failed), the identity refusals and the loads' refused writes are all turned into it here, and
`sfjira.state.rejects` stores exactly these columns.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

REJECT_COLUMNS = ["side", "record_id", "code", "field", "message", "fix", "payload"]
_SIDE_OF_DIRECTION = {"sf_to_jira": "salesforce", "jira_to_sf": "jira"}


def reject(side: str, record_id: str, code: str, message: str, fix: str | None, field: str | None = None,
           payload: Any = None) -> dict[str, Any]:
    """One reject row (a load's refused write)."""
    return {"side": side, "record_id": record_id, "code": code, "field": field, "message": message, "fix": fix,
            "payload": payload}


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})


def from_transform(rejects: pd.DataFrame) -> pd.DataFrame:
    """The transform's rejects (sfjira.transform.REJECT_COLUMNS) in the one shape: the side read from the
    direction, the source field, the value as payload; the fix is in the message, which says it."""
    if not len(rejects):
        return empty_rejects()
    return pd.DataFrame({"side": rejects["direction"].map(_SIDE_OF_DIRECTION).fillna("salesforce"),
                         "record_id": rejects["record_id"], "code": rejects["code"],
                         "field": rejects["source_field"], "message": rejects["message"],
                         "fix": rejects["message"], "payload": rejects["value"]}, dtype=object)[REJECT_COLUMNS]


def from_refused(refused: pd.DataFrame) -> pd.DataFrame:
    """Identity refusals (sfjira.identity.rules.REFUSED_COLUMNS) in the one shape, with their own fix."""
    if not len(refused):
        return empty_rejects()
    return pd.DataFrame({"side": refused["side"], "record_id": refused["record_id"], "code": refused["code"],
                         "field": refused["field"], "message": refused["message"], "fix": refused["fix"],
                         "payload": refused["value"]}, dtype=object)[REJECT_COLUMNS]


def combined(*frames: pd.DataFrame) -> pd.DataFrame:
    parts = [f[REJECT_COLUMNS] for f in frames if len(f)]
    return pd.concat(parts, ignore_index=True) if parts else empty_rejects()
