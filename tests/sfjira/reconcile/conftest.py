"""Fixtures for the reconciliation tests: the shipped mappings and a SQLite state store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sfjira.mapping import Mapping, load_mapping
from sfjira.state import StateStore

MAPPINGS = Path(__file__).resolve().parents[3] / "include" / "mappings"


@pytest.fixture(scope="session")
def case_mapping() -> Mapping:
    return load_mapping(MAPPINGS / "case_to_bug.yaml")


@pytest.fixture(scope="session")
def opportunity_mapping() -> Mapping:
    return load_mapping(MAPPINGS / "opportunity_to_epic.yaml")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as opened:
        yield opened
