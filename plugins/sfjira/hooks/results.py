"""Per-record outcome of a bulk write, the same shape for Salesforce and Jira.

Bulk writes never raise for a record the API refused: the loader gets one `WriteResult` per input
record, in input order, and routes failures to the dead-letter queue with the API's own error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class WriteError:
    """One error the API reported for a record. `code` is the API's code (e.g. REQUIRED_FIELD_MISSING,
    or the HTTP status for Jira), `fields` the fields it names."""

    code: str
    message: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class WriteResult:
    """`index` is the record's position in the input; `id` the Salesforce id or Jira issue id;
    `key` the Jira issue key; `created` True for an insert, False for an update (None if unknown)."""

    index: int
    success: bool
    id: str | None = None
    key: str | None = None
    created: bool | None = None
    errors: tuple[WriteError, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = [dict(e, fields=list(e["fields"])) for e in data["errors"]]
        return data

    @classmethod
    def failed(cls, index: int, code: str, message: str, fields: tuple[str, ...] = ()) -> WriteResult:
        return cls(index=index, success=False, errors=(WriteError(code, message, fields),))
