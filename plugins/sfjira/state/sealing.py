"""PII in the state store: the values of a mapping's PII fields are sealed before they are written,
opened only on request, and re-sealed under a new key by `rotate`.

Where values live: ledger `before` / `after` (a row whose `field` is PII, or a dict image -- a
created or deleted record -- holding PII keys) and rejects (`payload`, and `message` when the
reject names a PII field: API errors may quote the refused value). Hashes are keyed upstream
(PiiProtection.field_hashes), so synced state holds nothing to seal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa

from sfjira.pii import PREFIX, PiiCipher, PiiProtection, each_value, is_sealed
from sfjira.state.schema import ledger, rejects

Guards = Mapping[str, PiiProtection]
BATCH = 1000


def _rows_of(frame: pd.DataFrame, guards: Guards | None) -> list[tuple[list[int], PiiProtection]]:
    if not guards or not len(frame):
        return []
    names = frame["mapping"].to_numpy(dtype=object)
    return [(list((names == name).nonzero()[0]), pii) for name, pii in guards.items() if pii.active]


def seal_ledger(frame: pd.DataFrame, guards: Guards | None) -> pd.DataFrame:
    """Ledger rows (after `prepare`) with their PII images sealed."""
    for rows, pii in _rows_of(frame, guards):
        fields = frame["field"].to_numpy(dtype=object)
        for column in ("before", "after"):
            values = frame[column].to_numpy(dtype=object).copy()
            for i in rows:
                values[i] = pii.seal_field(fields[i], values[i])
            frame[column] = _objects(values, frame)
    return frame


def seal_rejects(frame: pd.DataFrame, guards: Guards | None) -> pd.DataFrame:
    """Reject rows (after `prepare`) with PII payloads and the messages of PII fields sealed."""
    for rows, pii in _rows_of(frame, guards):
        fields = frame["field"].to_numpy(dtype=object)
        payloads = frame["payload"].to_numpy(dtype=object).copy()
        messages = frame["message"].to_numpy(dtype=object).copy()
        for i in rows:
            if pii.names_pii(fields[i]):
                payloads[i], messages[i] = pii.seal(payloads[i]), pii.seal(messages[i])
            else:
                payloads[i] = pii.seal_field(None, payloads[i])
        frame["payload"], frame["message"] = _objects(payloads, frame), _objects(messages, frame)
    return frame


def _objects(values: Any, frame: pd.DataFrame) -> pd.Series:
    # An object column as it is: pandas would infer text from it and turn None into NaN (not JSON).
    return pd.Series(values, index=frame.index, dtype=object)


def open_columns(frame: pd.DataFrame, columns: tuple[str, ...], cipher: PiiCipher | None) -> pd.DataFrame:
    """Read rows with their sealed values opened (when a cipher is given)."""
    if cipher is None or not len(frame):
        return frame
    return frame.assign(**{c: _objects([each_value(v, cipher.open) for v in frame[c]], frame) for c in columns})


def rotate(conn: sa.Connection, cipher: PiiCipher) -> int:
    """Re-seal every sealed value of the ledger and the rejects under the cipher's first key."""
    return (_rotate_table(conn, ledger, ledger.c.seq, ("before", "after"), cipher)
            + _rotate_table(conn, rejects, rejects.c.id, ("payload", "message"), cipher))


def _rotate_table(conn: sa.Connection, table: sa.Table, key: sa.Column[Any], columns: tuple[str, ...],
                  cipher: PiiCipher) -> int:
    holds = sa.or_(*(sa.cast(table.c[c], sa.Text).contains(PREFIX) for c in columns))
    changed, last = 0, None

    def rotate_one(value: Any) -> Any:
        nonlocal changed
        changed += is_sealed(value)
        return cipher.rotate(value)

    while True:
        query = sa.select(key, *(table.c[c] for c in columns)).where(holds).order_by(key).limit(BATCH)
        batch = conn.execute(query if last is None else query.where(key > last)).all()
        if not batch:
            return changed
        for row in batch:
            values = {c: each_value(getattr(row, c), rotate_one) for c in columns}
            conn.execute(table.update().where(key == row[0]).values(**values))
        last = batch[-1][0]
