"""Run-folder frames: PII columns sealed cell by cell in the Parquet file and opened on read; local
files 0600 and folders 0700."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sfjira.mapping import parse_mapping
from sfjira.pii import PiiProtection, is_sealed
from sfjira.storage import read_frame, run_path, write_frame, write_text
from tests.sfjira.mapping.conftest import REPO

EMAILS = ["ada.lovelace@example.com", None, "grace.hopper@example.com"]


@pytest.fixture
def pii() -> PiiProtection:
    mapping = parse_mapping((REPO / "include" / "mappings" / "case_to_bug.yaml").read_text())
    return PiiProtection.for_mapping(mapping)


@pytest.fixture
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SFJIRA_STORAGE", f"file://{tmp_path / 'runs'}")
    return tmp_path / "runs"


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"Id": pd.array(["500A", "500B", "500C"], dtype="str"),
                         "Contact.Email": pd.array(EMAILS, dtype="str"),
                         "Amount": [1.5, None, 3.0],
                         "fields": [json.dumps({"customfield_10054": e}) for e in EMAILS]})


def _cells(path: str) -> list[str]:
    """Every cell and the schema metadata of the file as stored (nothing opened)."""
    table = pq.read_table(path.removeprefix("file://"))
    cells = [str(v) for column in table.columns for v in column.to_pylist()]
    return cells + [str(table.schema.metadata)]


def test_pii_columns_are_stored_sealed_and_read_back_open(storage: Path, pii: PiiProtection) -> None:
    folder = run_path("sfjira_sync__case_to_bug", "manual__2026-01-01T00:00:00+00:00")
    frame = _frame()
    path = write_frame(folder, "sf_records", frame, pii=pii, sealed=("fields",))
    cells = _cells(path)
    assert not [c for c in cells if "@example.com" in c]
    raw = Path(path.removeprefix("file://")).read_bytes()
    assert b"lovelace" not in raw and b"hopper" not in raw
    stored = pq.read_table(path.removeprefix("file://")).column("Contact.Email").to_pylist()
    assert is_sealed(stored[0]) and stored[1] is None and is_sealed(stored[2])
    pd.testing.assert_frame_equal(read_frame(path), frame)


def test_without_pii_nothing_is_sealed(storage: Path) -> None:
    folder = run_path("sfjira_sync__x", "r1")
    path = write_frame(folder, "plain", _frame(), pii=PiiProtection(), sealed=("fields",))
    assert "ada.lovelace@example.com" in _cells(path)
    pd.testing.assert_frame_equal(read_frame(path), _frame())


def test_local_files_are_0600_and_folders_0700(storage: Path, pii: PiiProtection) -> None:
    folder = run_path("sfjira_sync__case_to_bug", "scheduled__2026-01-01T00:00:00+00:00")
    paths = [write_frame(folder, "a", _frame(), pii=pii), write_frame(folder, "b", _frame()),
             write_text(folder, "plan_diff.md", "# Plan \u00fc\n")]
    for path in paths:
        assert stat.S_IMODE(Path(path.removeprefix("file://")).stat().st_mode) == 0o600, path
    for level in (storage, storage / "sfjira_sync__case_to_bug", Path(str(folder).removeprefix("file://"))):
        assert stat.S_IMODE(level.stat().st_mode) == 0o700, level
    assert Path(paths[2].removeprefix("file://")).read_text(encoding="utf-8") == "# Plan \u00fc\n"


def test_an_existing_world_readable_file_is_tightened_when_rewritten(storage: Path) -> None:
    folder = run_path("sfjira_sync__x", "r1")
    target = Path(str(folder).removeprefix("file://")) / "plain.parquet"
    target.write_bytes(b"old")
    target.chmod(0o644)
    write_frame(folder, "plain", _frame())
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
