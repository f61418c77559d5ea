"""Helpers for mapping tests: write YAML to a file and expect exact problems from it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from sfjira.exceptions import MappingError
from sfjira.mapping import Mapping, load_mapping
from sfjira.mapping.errors import MappingProblems

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "include" / "mappings"

# A small valid mapping; tests replace or append lines to break one thing at a time.
BASE = """\
name: demo
salesforce:
  object: Case
  jira_key_field: Jira_Key__c
jira:
  project: SUP
  issue_type: Bug
  salesforce_id_field: customfield_10050
fields:
  - salesforce: Subject
    jira: summary
    required: true
    max_length: 255
    on_overflow: truncate
"""


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    def _write(text: str, name: str = "demo.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def problems(write: Callable[[str], Path]) -> Callable[[str], list[MappingError]]:
    """Load YAML text and return the MappingErrors it raises (failing the test if it loads)."""

    def _problems(text: str) -> list[MappingError]:
        path = write(text)
        with pytest.raises(MappingError) as caught:
            load_mapping(path)
        err = caught.value
        return err.errors if isinstance(err, MappingProblems) else [err]

    return _problems


@pytest.fixture
def valid(write: Callable[[str], Path]) -> Callable[[str], Mapping]:
    def _valid(text: str) -> Mapping:
        return load_mapping(write(text))

    return _valid


def only(errors: list[MappingError], field: str) -> MappingError:
    """The single error about `field` (and fail with all messages if there is not exactly one)."""
    found = [e for e in errors if e.field == field]
    assert len(found) == 1, "\n".join(str(e) for e in errors)
    return found[0]
