"""The closed set of named transforms a mapping may ask for. No eval: each name is a kernel."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sfjira.mapping.model import TransformStep, template_fields
from sfjira.values.arrowcol import STRING, empty_to_null
from sfjira.values.coerce import text_of
from sfjira.values.numbers import round_decimal


def apply_steps(values: pa.Array, steps: Sequence[TransformStep]) -> pa.Array:
    """Apply strip/lower/upper/single_line/round in order (template is rendered before coercion)."""
    for step in steps:
        if step.name == "strip":
            values = empty_to_null(pc.utf8_trim_whitespace(values))
        elif step.name == "lower":
            values = pc.utf8_lower(values)
        elif step.name == "upper":
            values = pc.utf8_upper(values)
        elif step.name == "single_line":
            values = pc.replace_substring_regex(values, r"\r\n|\r|\n", " ")
        elif step.name == "round":
            values = round_decimal(values, int(step.arg or 0))
    return values


def render_template(template: str, frame: pd.DataFrame) -> pd.Series:
    """`{Field}` placeholders filled from the frame's columns (missing values render as "")."""
    import string

    parts: list[pa.Array | pa.Scalar] = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        if literal:
            parts.append(pa.scalar(literal, STRING))
        if name is not None:
            parts.append(pc.fill_null(text_of(frame[name])[0], ""))
    if not parts:
        return pd.Series([""] * len(frame), dtype="str", index=frame.index)
    if not any(isinstance(p, pa.Array) for p in parts):
        parts.insert(0, pa.array([""] * len(frame), STRING))
    joined = pc.binary_join_element_wise(*parts, pa.scalar("", STRING))
    return pd.Series(pd.array(empty_to_null(joined), dtype="str"), index=frame.index)


__all__ = ["apply_steps", "render_template", "template_fields"]
