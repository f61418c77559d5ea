"""The mapping excerpt in README.md is a valid mapping: documentation that users copy must not rot."""

from __future__ import annotations

import re
from pathlib import Path

from sfjira.mapping import parse_mapping

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_mapping_excerpt_validates() -> None:
    block = re.search(r"An excerpt of `case_to_bug.yaml`:\n\n```yaml\n(.*?)```", README.read_text(), re.S)
    assert block, "README.md lost its mapping excerpt"
    mapping = parse_mapping(block.group(1), "README.md excerpt")
    assert mapping.name == "case_to_bug"
    assert {f.canonical_key for f in mapping.synced_fields} >= {"Subject", "Priority", "Status"}
