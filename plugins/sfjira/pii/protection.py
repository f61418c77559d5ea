"""One mapping's PII: which fields (any naming) hold it, and the cipher that seals their values.

    pii = PiiProtection.for_mapping(mapping)     # looks the key up only if the mapping declares PII
    pii.field_hashes(frame)                      # HMAC for PII columns, plain SHA-256 for the rest
    pii.seal_field("customfield_10054", value)   # sealed if the field is PII (or a dict holding PII)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from sfjira.pii.cipher import PiiCipher, PiiKeyError, is_sealed
from sfjira.pii.keys import cipher_from_airflow, crypto_conn_id
from sfjira.values.hashing import field_hashes

if TYPE_CHECKING:
    from sfjira.mapping.model import Mapping


@dataclass(frozen=True)
class PiiProtection:
    fields: frozenset[str] = frozenset()
    cipher: PiiCipher | None = None
    conn_id: str | None = None

    @classmethod
    def for_mapping(cls, mapping: Mapping, conn_id: str | None = None) -> PiiProtection:
        """The mapping's PII fields with the key from the Airflow connection (none needed without PII)."""
        fields = mapping.pii_columns
        if not fields:
            return cls()
        conn_id = conn_id or crypto_conn_id()
        return cls(fields, cipher_from_airflow(conn_id), conn_id)

    @property
    def active(self) -> bool:
        return bool(self.fields)

    def _cipher(self) -> PiiCipher:
        if self.cipher is None:
            raise PiiKeyError("PII fields are declared but no key was given to seal them",
                              fix="build it with PiiProtection.for_mapping(mapping)")
        return self.cipher

    def columns_in(self, columns: Iterable[Any], also: Sequence[str] = ()) -> list[str]:
        """The columns among `columns` that hold PII: PII fields, and `also` when the mapping has any."""
        if not self.active:
            return []
        return [c for c in columns if c in self.fields or c in also]

    def field_hashes(self, frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """sfjira.transform.field_hashes, keyed (HMAC) for the PII columns."""
        keyed = self.columns_in(frame.columns if columns is None else columns)
        return field_hashes(frame, columns, keyed=keyed, hmac_key=self._cipher().hash_key if keyed else None)

    def seal(self, value: Any) -> Any:
        return self._cipher().seal(value)

    def seal_field(self, field: Any, value: Any) -> Any:
        """`value` sealed when `field` is PII; a dict (a whole record) gets its PII keys sealed."""
        if not self.active or value is None or is_sealed(value):
            return value
        if isinstance(field, str) and field in self.fields:
            return self.seal(value)
        if isinstance(value, dict):
            return {k: self.seal(v) if k in self.fields else v for k, v in value.items()}
        return value

    def names_pii(self, fields: Any) -> bool:
        """Whether a comma-separated field list (as rejects carry it) names a PII field."""
        return self.active and isinstance(fields, str) and any(f.strip() in self.fields for f in fields.split(","))


def each_value(value: Any, change: Callable[[Any], Any]) -> Any:
    """`value` with `change` applied to every leaf (dicts and lists walked), e.g. cipher.open or
    cipher.rotate on a stored ledger image."""
    if isinstance(value, dict):
        return {k: each_value(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [each_value(v, change) for v in value]
    return change(value)
