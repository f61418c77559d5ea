"""A mapping that declares PII fails to load (validation, DAG parsing, tasks) until the key that
encrypts it is configured, naming file, line, field and the fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from sfjira.mapping import load_mapping
from sfjira.mapping.errors import MappingProblems
from tests.sfjira.mapping.conftest import BASE, SHIPPED


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SFJIRA_CRYPTO", raising=False)


def _problem(path: Path) -> MappingProblems:
    with pytest.raises(MappingProblems) as err:
        load_mapping(path)
    assert len(err.value.errors) == 1
    return err.value


def test_shipped_case_mapping_needs_the_key(no_key: None) -> None:
    path = SHIPPED / "case_to_bug.yaml"
    err = _problem(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), start=1) if text.startswith("pii:"))
    assert (err.file, err.line, err.field, err.code) == (str(path), line, "pii", "PII_KEY_MISSING")
    assert "airflow connections add sfjira_crypto --conn-type generic --conn-password" in err.fix
    assert str(err).startswith(f"{path}:{line}: field `pii`: [PII_KEY_MISSING]")


def test_a_field_flagged_pii_is_pointed_at(no_key: None, write: Callable[[str], Path]) -> None:
    path = write(BASE + "  - salesforce: SuppliedEmail\n    jira: customfield_1\n    pii: true\n")
    err = _problem(path)
    assert err.field == "fields[1].pii" and err.line == BASE.count("\n") + 3


def test_a_malformed_key_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SFJIRA_CRYPTO", json.dumps({"conn_type": "generic", "password": "secret"}))
    err = _problem(SHIPPED / "case_to_bug.yaml")
    assert err.code == "PII_KEY_INVALID"
    assert "secret" not in str(err)  # the key itself never appears in the message


def test_a_mapping_without_pii_needs_no_key(no_key: None, write: Callable[[str], Path]) -> None:
    assert load_mapping(write(BASE)).name == "demo"
    assert load_mapping(SHIPPED / "opportunity_to_epic.yaml").pii_columns == frozenset()


def test_with_the_key_the_mapping_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SFJIRA_CRYPTO", json.dumps(
        {"conn_type": "generic", "password": Fernet.generate_key().decode()}))
    assert "Contact.Email" in load_mapping(SHIPPED / "case_to_bug.yaml").pii_columns
