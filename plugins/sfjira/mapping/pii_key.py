"""A mapping that declares PII needs the key that encrypts it: checked when a mapping file is loaded
(`sfjira validate`, DAG parsing, every task), so a missing key fails before any value is stored."""

from __future__ import annotations

from sfjira.mapping.errors import Problem
from sfjira.mapping.model import Mapping
from sfjira.pii import key_problem


def key_problems(mapping: Mapping) -> list[Problem]:
    """One problem when the mapping has PII fields but the `sfjira_crypto` key is missing or invalid."""
    if not mapping.pii_columns:
        return []
    err = key_problem()
    if err is None:
        return []
    flagged = [("fields", i, "pii") for i, f in enumerate(mapping.fields) if f.pii]
    path = ("pii",) if mapping.pii or not flagged else flagged[0]
    return [Problem(path, f"PII fields are declared but cannot be stored encrypted: {err.message}", err.fix,
                    code=err.code)]
