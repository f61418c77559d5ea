"""Jira issues -> one flat pandas DataFrame; Atlassian Document Format <-> plain text.

Plain text and ADF map the way Jira itself shows them: paragraphs are separated by a blank line
("\\n\\n"), a single "\\n" is a hard break inside a paragraph. So Salesforce's plain Description
survives a trip through a v3 (Cloud) description unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

BASE_COLUMNS = ("id", "key", "updated", "created", "summary", "description", "status", "priority", "issuetype",
                "fixVersions", "labels")
SFID_COLUMN = "sfid"
_LIST_NODES = {"bulletList": "- ", "orderedList": None, "taskList": "- ", "decisionList": "- "}


def text_to_adf(text: str | None) -> dict[str, Any] | None:
    """Plain text -> an ADF document (None stays None: it clears the field)."""
    if text is None:
        return None
    paragraphs = []
    for block in str(text).split("\n\n"):
        inline: list[dict[str, Any]] = []
        for number, line in enumerate(block.split("\n")):
            inline += [{"type": "hardBreak"}] * (number > 0) + ([{"type": "text", "text": line}] if line else [])
        paragraphs.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_text(doc: Any) -> str | None:
    """An ADF document (or an already plain string) -> plain text. Marks are dropped; mentions,
    emoji, cards and statuses keep their visible text; list items become "- " / "1. " lines."""
    if doc is None or isinstance(doc, str):
        return doc
    if not isinstance(doc, Mapping):
        return str(doc)
    return "\n\n".join(_block(node) for node in doc.get("content") or [])


def _block(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    children = node.get("content") or []
    if kind in _LIST_NODES:
        return "\n".join((_LIST_NODES[kind] or f"{n}. ") + "\n".join(_block(c) for c in item.get("content") or [])
                         for n, item in enumerate(children, start=1))
    if kind == "rule":
        return "----"
    if kind == "tableRow":
        return " | ".join(_block(c) for c in children)
    if kind == "table":
        return "\n".join(_block(c) for c in children)
    if all(_is_inline(c) for c in children):
        return "".join(_inline(c) for c in children)
    return "\n\n".join(_inline(c) if _is_inline(c) else _block(c) for c in children)


def _is_inline(node: Mapping[str, Any]) -> bool:
    return node.get("type") in {"text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status",
                                "mediaInline", "placeholder", "inlineExtension"}


def _inline(node: Mapping[str, Any]) -> str:
    attrs = node.get("attrs") or {}
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        return str(attrs.get("text") or f"@{attrs.get('id', '')}")
    if kind == "emoji":
        return str(attrs.get("text") or attrs.get("shortName", ""))
    if kind == "inlineCard":
        return str(attrs.get("url", ""))
    return str(attrs.get("text", ""))


def plain_value(value: Any) -> Any:
    """A field value as a plain scalar/list: options -> value, named objects -> name,
    users -> accountId (Cloud) or name (DC), documents -> text."""
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    if not isinstance(value, Mapping):
        return value
    if value.get("type") == "doc":
        return adf_to_text(value)
    for key in ("value", "name", "accountId", "key", "id"):
        if key in value:
            return value[key]
    return dict(value)


def _row(issue: Mapping[str, Any], sfid_property: str | None) -> dict[str, Any]:
    fields = issue.get("fields") or {}
    row: dict[str, Any] = {"id": issue.get("id"), "key": issue.get("key")}
    for name, value in fields.items():
        if name == "description":
            row[name] = adf_to_text(value)
        elif name in ("fixVersions", "labels", "components"):
            row[name] = [plain_value(v) for v in value or []]
        elif name not in ("updated", "created"):
            row[name] = plain_value(value)
    row["updated"], row["created"] = fields.get("updated"), fields.get("created")
    if sfid_property:
        prop = (issue.get("properties") or {}).get(sfid_property)
        row[SFID_COLUMN] = prop.get("sfid") if isinstance(prop, Mapping) else None
    return row


def issues_to_frame(pages: Iterable[Sequence[Mapping[str, Any]]], fields: Sequence[str] | None = None,
                    sfid_property: str | None = "sfjira") -> pd.DataFrame:
    """Flatten search results: columns id, key, updated, created (UTC timestamps), summary,
    description (plain text, from ADF on v3), status, priority, issuetype (names), fixVersions and
    labels (lists), every other requested field (customfield options -> their value), and `sfid`
    from the `sfjira` issue property when `sfid_property` is set (null where absent)."""
    rows = [_row(issue, sfid_property) for page in pages for issue in page]
    extra = [f for f in (fields or []) if f not in BASE_COLUMNS]
    columns = list(dict.fromkeys([*BASE_COLUMNS, *extra, *(c for r in rows for c in r)]))
    if sfid_property and SFID_COLUMN not in columns:
        columns.append(SFID_COLUMN)
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for column in ("updated", "created"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame
