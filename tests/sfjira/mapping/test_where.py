"""`salesforce.where` that is not one SOQL condition is a mapping error with file, line, field, code and
fix -- from the loader (and so at DAG parse) and from `sfjira validate`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sfjira.exceptions import MappingError
from sfjira.mapping import Mapping
from tests.sfjira.mapping.conftest import BASE, only


def with_where(condition: str) -> str:
    quoted = condition.replace('"', '\\"')
    return BASE.replace("  object: Case\n", f'  object: Case\n  where: "{quoted}"\n')


@pytest.mark.parametrize(("condition", "message"), [
    ("Origin = 'Web') OR (Id != null", "closes no `(`"),
    ("Origin = 'Web' LIMIT 1", "`LIMIT` starts another clause"),
    ("Id IN (SELECT ParentId FROM CaseComment)", "subquery (SELECT)"),
    ("Origin = 'Web", "never closed"),
])
def test_where_problems_are_mapping_errors_with_line_field_code_and_fix(
        problems: Callable[[str], list[MappingError]], condition: str, message: str) -> None:
    err = only(problems(with_where(condition)), "salesforce.where")
    assert err.code == "WHERE_INVALID" and message in err.message and err.fix
    assert err.line == 4  # the `where:` line
    assert str(err).startswith(f"{err.file}:4: field `salesforce.where`: [WHERE_INVALID]")


def test_a_valid_where_loads_unchanged(valid: Callable[[str], Mapping]) -> None:
    condition = "Name = 'O\\\\'Brien' AND (Origin = 'Web' OR Priority = 'High')"
    assert valid(with_where(condition)).salesforce.where == "Name = 'O\\'Brien' AND (Origin = 'Web' OR Priority = 'High')"


def test_sfjira_validate_reports_it(write: Callable[..., Path]) -> None:
    path = write(with_where("Origin = 'Web' OR Id != null ORDER BY Id"))
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(Path(sys.executable).parent / "sfjira"), "validate", str(path)], capture_output=True,
                          text=True, timeout=120, env=clean)
    assert done.returncode == 1
    assert f"{path}:4: field `salesforce.where`: [WHERE_INVALID] column 30: `ORDER` starts another clause" in done.stderr
    assert "fix: remove `ORDER ...`" in done.stderr
