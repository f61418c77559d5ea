"""Atlassian Document Format: validation and the plain-text conversion shared by v2 and v3.

v3 takes and returns ADF for rich-text fields; v2 takes and returns plain strings. Both views of
one stored document must agree, so the conversion is defined once, here:

- plain -> ADF: the text is split on blank lines ("\\n\\n") into paragraphs; a single "\\n" inside a
  paragraph becomes a hardBreak. Empty paragraphs are kept, so every plain string round-trips.
- ADF -> plain: paragraphs (and other blocks) are joined by "\\n\\n", hardBreak is "\\n", text marks
  (strong, em, link, ...) are dropped, mentions become "@name", emoji their short name, list items
  "- " / "1. " lines, code blocks and quotes keep their text.
"""

from __future__ import annotations

from typing import Any

BLOCK_NODES = {
    "paragraph", "heading", "bulletList", "orderedList", "listItem", "codeBlock", "blockquote", "rule",
    "panel", "table", "tableRow", "tableHeader", "tableCell", "mediaSingle", "mediaGroup", "media",
    "expand", "nestedExpand", "taskList", "taskItem", "decisionList", "decisionItem", "blockCard",
    "embedCard", "layoutSection", "layoutColumn", "multiBodiedExtension", "extensionFrame",
}
INLINE_NODES = {"text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status", "mediaInline",
                "placeholder", "inlineExtension"}
MARKS = {"strong", "em", "strike", "code", "underline", "link", "subsup", "textColor", "backgroundColor",
         "alignment", "indentation", "border", "annotation", "breakout", "dataConsumer", "fragment"}


class AdfError(ValueError):
    """The value is not an Atlassian Document."""


def is_document(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc"


def validate(doc: Any) -> dict[str, Any]:
    """Return `doc` if it is a well-formed ADF document, else raise AdfError naming the problem."""
    if not is_document(doc):
        raise AdfError("not a document: the root node must be {\"type\": \"doc\", \"version\": 1, \"content\": [...]}")
    if doc.get("version") != 1:
        raise AdfError("the document version must be 1")
    if not isinstance(doc.get("content"), list):
        raise AdfError("the document must have a content array")
    for child in doc["content"]:
        _validate_node(child, "content")
    return doc


def _validate_node(node: Any, where: str) -> None:
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        raise AdfError(f"{where}: every node must be an object with a type")
    kind = node["type"]
    if kind not in BLOCK_NODES and kind not in INLINE_NODES:
        raise AdfError(f"{where}: unknown node type '{kind}'")
    if kind == "text":
        text = node.get("text")
        if not isinstance(text, str) or not text:
            raise AdfError(f"{where}: a text node needs a non-empty text")
        marks = node.get("marks", [])
        if not isinstance(marks, list) or any(not isinstance(m, dict) or m.get("type") not in MARKS for m in marks):
            raise AdfError(f"{where}: invalid marks on a text node")
    content = node.get("content")
    if content is not None:
        if not isinstance(content, list):
            raise AdfError(f"{where}: content of '{kind}' must be an array")
        for child in content:
            _validate_node(child, f"{where}.{kind}")


def from_plain(text: str) -> dict[str, Any]:
    paragraphs = []
    for block in text.split("\n\n"):
        content: list[dict[str, Any]] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": content} if content else {"type": "paragraph"})
    return {"type": "doc", "version": 1, "content": paragraphs}


def to_plain(doc: dict[str, Any] | None) -> str | None:
    if doc is None:
        return None
    return "\n\n".join(_block_text(node) for node in doc.get("content", []))


def _block_text(node: dict[str, Any]) -> str:
    kind = node.get("type")
    children = node.get("content", [])
    if kind in ("bulletList", "orderedList", "taskList", "decisionList"):
        lines = []
        for n, item in enumerate(children, start=1):
            marker = f"{n}. " if kind == "orderedList" else "- "
            lines.append(marker + "\n".join(_block_text(c) for c in item.get("content", [])))
        return "\n".join(lines)
    if kind == "rule":
        return "----"
    if kind in ("table", "tableRow"):
        sep = "\n" if kind == "table" else " | "
        return sep.join(_block_text(c) for c in children)
    if children and all(c.get("type") in INLINE_NODES for c in children):
        return "".join(_inline_text(c) for c in children)
    return "\n\n".join(_block_text(c) if c.get("type") not in INLINE_NODES else _inline_text(c) for c in children)


def _inline_text(node: dict[str, Any]) -> str:
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        return str(attrs.get("text") or "@" + str(attrs.get("id", "")))
    if kind == "emoji":
        return str(attrs.get("text") or attrs.get("shortName", ""))
    if kind == "inlineCard":
        return str(attrs.get("url", ""))
    if kind == "status":
        return str(attrs.get("text", ""))
    return str(attrs.get("text", ""))
