"""YAML loading that remembers where every key came from.

PyYAML's constructed dicts forget their source lines, and it silently keeps the last of two
duplicate keys. Mapping errors must point at a line, so we compose the node graph ourselves
(SafeLoader: no arbitrary object construction) and record the start line of every key and
sequence item under its path, e.g. ("fields", 2, "owner") -> 17.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass
class YamlIssue:
    path: Path
    line: int
    message: str
    fix: str


@dataclass
class SourceLines:
    """Line numbers (1-based) per path; `line_of` falls back to the nearest known ancestor."""

    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def load_yaml(text: str) -> tuple[Any, SourceLines, list[YamlIssue]]:
    """Parse one YAML document. Raises yaml.YAMLError on syntax errors (it carries a mark)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    lines = SourceLines()
    issues: list[YamlIssue] = []
    if node is not None:
        lines.lines[()] = node.start_mark.line + 1
        _walk(node, (), lines, issues)
    return data, lines, issues


def _walk(node: yaml.Node, path: Path, lines: SourceLines, issues: list[YamlIssue]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                issues.append(YamlIssue(path + (key,), line, f"duplicate key `{key}` (first on line {seen[key]})",
                                        "remove one of them: YAML keeps only the last, silently"))
            seen[key] = line
            lines.lines[path + (key,)] = line
            _walk(value_node, path + (key,), lines, issues)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.lines[path + (index,)] = item.start_mark.line + 1
            _walk(item, path + (index,), lines, issues)


def format_path(path: Path) -> str:
    """("fields", 2, "owner") -> "fields[2].owner"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out
