"""Salesforce frame -> Jira values and Jira frame -> Salesforce values, both via canonical values.

`to_jira(mapping, sf_frame)` and `to_salesforce(mapping, jira_frame)` return a TransformResult:
  .frame    canonical values, one column per field written in that direction (canonical key),
            indexed by the source record id (sf_id or jira_key) -- what the plan compares and hashes
  .target   the same rows with target-native values, one column per target field
  .meta     ids and modification stamps of the kept rows
  .rejects  one row per (record, field, problem); rejected records are absent from the frames above
The input column contract is documented in transform/README.md.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sfjira.exceptions import TransformError
from sfjira.mapping.catalog import JIRA_SYSTEM_FIELDS, MULTI_SEPARATOR, is_jira_field_id
from sfjira.mapping.model import FieldMapping, FlowDirection, Mapping
from sfjira.transform import multivalue
from sfjira.transform.arrowcol import STRING, bool_mask, null_mask, to_series
from sfjira.transform.coerce import Coerced, coerce, coerce_scalar, text_of
from sfjira.transform.datetimes import datetime_text, to_jira_datetime
from sfjira.transform.hashing import record_hash
from sfjira.transform.rejects import Rejects
from sfjira.transform.steps import apply_steps, render_template
from sfjira.transform.text import overflow_mask, truncate
from sfjira.transform.valuemap import lookup, unmapped_mask


@dataclass(frozen=True)
class _Side:
    direction: FlowDirection
    source: str
    target: str
    id_column: str
    index_name: str
    modified_column: str

    def column(self, f: FieldMapping) -> str:
        return f.salesforce if self.source == "salesforce" else f.jira

    def target_column(self, f: FieldMapping) -> str:
        return f.jira if self.target == "jira" else f.salesforce


SF_TO_JIRA = _Side("sf_to_jira", "salesforce", "jira", "Id", "sf_id", "SystemModstamp")
JIRA_TO_SF = _Side("jira_to_sf", "jira", "salesforce", "key", "jira_key", "updated")


@dataclass(frozen=True)
class TransformResult:
    mapping: str
    direction: FlowDirection
    frame: pd.DataFrame
    target: pd.DataFrame
    meta: pd.DataFrame
    rejects: pd.DataFrame

    @cached_property
    def hashes(self) -> pd.Series:
        """Record hash of the canonical values (see transform/hashing.py), computed on first use."""
        return record_hash(self.frame)

    @property
    def rejected_ids(self) -> list[str]:
        return list(dict.fromkeys(self.rejects["record_id"].tolist()))


def to_jira(mapping: Mapping, sf_frame: pd.DataFrame, *,
            user_map: MappingABC[str, str] | None = None) -> TransformResult:
    """Salesforce records (flattened columns, see README) -> canonical + Jira field values.

    `user_map`: Salesforce user identifier -> Jira accountId, for fields of type `user`.
    """
    return _run(mapping, sf_frame, SF_TO_JIRA, dict(user_map or {}))


def to_salesforce(mapping: Mapping, jira_frame: pd.DataFrame, *,
                  user_map: MappingABC[str, str] | None = None) -> TransformResult:
    """Jira issues (flattened columns, see README) -> canonical + Salesforce field values.

    `user_map` is the same Salesforce -> Jira user map as for `to_jira`; it is inverted here.
    """
    return _run(mapping, jira_frame, JIRA_TO_SF, dict(user_map or {}))


def canonical_values(mapping: Mapping, frame: pd.DataFrame, side: Literal["salesforce", "jira"], *,
                     user_map: MappingABC[str, str] | None = None) -> TransformResult:
    """Canonical values of EVERY mapped field from one side's frame, whatever the field's direction,
    with every record kept -- for comparing the two sides field by field (reconciliation).

    A field that does not flow from `side` (e.g. an sf_to_jira field read from the Jira frame) is read
    from the column the sync writes it to on that side (a template is not rendered again: the column
    holds its result) and normalised exactly as if it flowed from there -- same coercion, transforms,
    value map (reversed as needed) and length rule -- so a value the sync wrote reads back equal to
    the canonical value it was written from. Unlike to_jira / to_salesforce, records with rejects stay
    in .frame/.target/.meta (.rejects still lists each problem): a rejected cell holds what its
    coercion produced (null when unparseable, an unmapped value as it is).
    """
    if side not in ("salesforce", "jira"):
        raise TransformError(f"unknown side {side!r}", fix="pass side='salesforce' or side='jira'")
    flow = SF_TO_JIRA if side == "salesforce" else JIRA_TO_SF
    return _run(mapping, frame, flow, dict(user_map or {}), fields=mapping.synced_fields, keep_rejected=True)


def _run(mapping: Mapping, frame: pd.DataFrame, side: _Side, user_map: dict[str, str], *,
         fields: tuple[FieldMapping, ...] | None = None, keep_rejected: bool = False) -> TransformResult:
    fields = mapping.fields_for(side.direction) if fields is None else fields
    _check_columns(mapping, frame, fields, side)
    ids = _ids(frame, side)
    rejects = Rejects(mapping.name, side.direction, mapping.source_file, ids)
    canonical: dict[str, pa.Array] = {}
    target: dict[str, pa.Array] = {}
    for f in fields:
        raw, coerced, out_canonical, out_target = _field(f, frame, side, user_map)
        pii = f.canonical_key in mapping.pii_columns
        for bad in coerced.bad:
            rejects.add(bad.mask, bad.code, raw, key=f.canonical_key, source=side.column(f),
                        target=side.target_column(f), side=side.source, target_side=side.target,
                        detail=bad.detail, pii=pii, limit=bad.limit)
        canonical[f.canonical_key] = out_canonical
        target[side.target_column(f)] = out_target
    meta = _meta(mapping, frame, side, rejects)
    return _assemble(mapping, side, ids, rejects, canonical, target, meta, keep_rejected=keep_rejected)


def _assemble(mapping: Mapping, side: _Side, ids: np.ndarray, rejects: Rejects, canonical: dict[str, pa.Array],
              target: dict[str, pa.Array], meta: dict[str, pa.Array], *, keep_rejected: bool) -> TransformResult:
    keep = np.ones(len(ids), bool) if keep_rejected else ~rejects.rows
    index = pd.Index(ids, dtype="str", name=side.index_name)
    if not keep.all():
        index = index[keep]
        kept = pa.array(keep)
        canonical, target, meta = ({k: v.filter(kept) for k, v in d.items()} for d in (canonical, target, meta))

    def build(columns: dict[str, pa.Array]) -> pd.DataFrame:
        return pd.DataFrame({k: to_series(v, index) for k, v in columns.items()}, index=index)

    return TransformResult(mapping.name, side.direction, build(canonical), build(target), build(meta),
                           rejects.frame())


# -- contract checks -------------------------------------------------------------------------------

def _check_columns(mapping: Mapping, frame: pd.DataFrame, fields: tuple[FieldMapping, ...], side: _Side) -> None:
    needed = [side.id_column]
    for f in fields:
        template = _rendered_here(f, side)
        if template:
            from sfjira.mapping.model import template_fields

            needed.extend(template_fields(template))
        else:
            needed.append(side.column(f))
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if not missing:
        return
    names = [c for c in missing if side.source == "jira" and not is_jira_field_id(c)]
    hint = (f"; Jira field names ({', '.join(names)}) must be resolved to ids first with "
            "sfjira.mapping.resolve_jira_field_names(mapping, jira_fields)") if names else ""
    cols = "salesforce_columns()" if side.source == "salesforce" else "jira_columns()"
    raise TransformError(f"mapping `{mapping.name}`: the {side.source} frame lacks column(s) {', '.join(missing)}",
                         fix=f"extract every column of mapping.{cols}{hint}")


def _ids(frame: pd.DataFrame, side: _Side) -> np.ndarray:
    ids = frame[side.id_column]
    if ids.isna().any():
        raise TransformError(f"{int(ids.isna().sum())} row(s) have no `{side.id_column}`",
                             fix="the extract must deliver the record id on every row")
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise TransformError(f"`{side.id_column}` repeats ({', '.join(map(str, duplicated.unique()[:5]))})",
                             fix="de-duplicate the extract (keep the latest copy of each record) before transforming")
    return ids.astype("str").to_numpy(dtype=object)


# -- one field -------------------------------------------------------------------------------------

def _field(f: FieldMapping, frame: pd.DataFrame, side: _Side, user_map: dict[str, str],
           ) -> tuple[pd.Series, Coerced, pa.Array, pa.Array]:
    template = _rendered_here(f, side)
    raw = render_template(template, frame) if template else frame[side.column(f)]
    separator = f.sf_separator if side.source == "salesforce" else MULTI_SEPARATOR
    coerced = coerce(raw, f.type, separator=separator)
    values = apply_steps(coerced.values, [s for s in f.transforms if s.name != "template"])
    extra = user_map if f.type == "user" else None
    if side.direction == "sf_to_jira":
        table = f.forward_value_map(extra)
    else:
        table = f.reverse_value_map(extra)
    if f.type == "multi-picklist":
        canonical = _multi_canonical(f, values, table, side, coerced)
    else:
        canonical = _to_canonical(f, values, table, side, coerced)
    canonical = _fill(f, canonical, coerced)
    canonical = _check_length(f, canonical, side, coerced)
    return raw, coerced, canonical, _target(f, canonical, side, table, coerced)


def _rendered_here(f: FieldMapping, side: _Side) -> str | None:
    """The field's template when this side renders it; the other side's column holds the result."""
    return f.template if f.flows(side.direction) else None


def _to_canonical(f: FieldMapping, values: pa.Array, table: dict[str, str], side: _Side, out: Coerced) -> pa.Array:
    """Canonical values speak the Salesforce vocabulary: Jira values are mapped back first."""
    if not table:
        return values
    mapped, found = lookup(values, table)
    canonical = values if side.direction == "sf_to_jira" else pc.if_else(pa.array(found), mapped, values)
    return _unmapped(f, canonical, unmapped_mask(values, found), out)


def _multi_canonical(f: FieldMapping, lists: pa.Array, table: dict[str, str], side: _Side,
                     out: Coerced) -> pa.Array:
    n = len(lists)
    flat, parents = multivalue.flatten(lists)
    out.flag(multivalue.rows_with(multivalue.separator_inside(flat), parents, n), "INVALID_VALUE",
             f"holds a value containing '{MULTI_SEPARATOR}', which would read back as two values")
    if table:
        mapped, found = lookup(flat, table)
        canonical = flat if side.direction == "sf_to_jira" else pc.if_else(pa.array(found), mapped, flat)
        unmapped = unmapped_mask(flat, found)
        if f.unmapped == "reject":
            out.flag(multivalue.rows_with(unmapped, parents, n), "VALUE_UNMAPPED")
        flat = _unmapped(f, canonical, unmapped, None)
    return multivalue.join(multivalue.rebuild(flat, parents, n))


def _unmapped(f: FieldMapping, canonical: pa.Array, unmapped: np.ndarray, out: Coerced | None) -> pa.Array:
    if not unmapped.any():
        return canonical
    if f.unmapped == "reject" and out is not None:
        out.flag(unmapped, "VALUE_UNMAPPED")
    elif f.unmapped == "default":
        return pc.if_else(pa.array(unmapped), pa.scalar(coerce_scalar(f.default, f.type)[0], STRING), canonical)
    return canonical


def _fill(f: FieldMapping, canonical: pa.Array, out: Coerced) -> pa.Array:
    if f.default is not None:
        value, _ = coerce_scalar(f.default, f.type)
        if value is not None:
            canonical = pc.fill_null(canonical, pa.scalar(value, canonical.type))
    if f.required:
        already = np.logical_or.reduce([b.mask for b in out.bad]) if out.bad else np.zeros(len(canonical), bool)
        out.flag(null_mask(canonical) & ~already, "REQUIRED_MISSING")  # a bad value is not also a missing one
    return canonical


def _check_length(f: FieldMapping, canonical: pa.Array, side: _Side, out: Coerced) -> pa.Array:
    system = JIRA_SYSTEM_FIELDS.get(f.jira) if side.target == "jira" else None
    if system and system.single_line and f.type in ("string", "text"):
        out.flag(bool_mask(pc.match_substring_regex(canonical, r"[\r\n]")), "STRING_MULTILINE")
    limit = f.max_length or (system.max_length if system and f.type in ("string", "text") else None)
    if not limit:
        return canonical
    if f.type == "multi-picklist":  # the limit is on the Salesforce text the values are joined into
        if side.target == "salesforce":
            joined = pc.replace_substring(canonical, MULTI_SEPARATOR, f.sf_separator)
            out.flag(overflow_mask(joined, limit), "STRING_TOO_LONG", limit=limit)
        return canonical
    over = overflow_mask(canonical, limit)
    if f.max_length and f.overflow == "truncate":
        return truncate(canonical, over, limit)
    out.flag(over, "STRING_TOO_LONG", limit=limit)
    return canonical


def _target(f: FieldMapping, canonical: pa.Array, side: _Side, table: dict[str, str], out: Coerced) -> pa.Array:
    """Target-native values. Towards Jira, `table` is the forward (Salesforce -> Jira) value map."""
    if side.target == "salesforce":
        if f.type == "multi-picklist" and f.sf_separator != MULTI_SEPARATOR:
            return pc.replace_substring(canonical, MULTI_SEPARATOR, f.sf_separator)
        return canonical
    if f.type == "datetime":
        return to_jira_datetime(canonical)
    if f.type == "multi-picklist":
        return _jira_list(f, canonical, table, out)
    return _forward(canonical, table)


def _forward(canonical: pa.Array, table: dict[str, str]) -> pa.Array:
    if not table:
        return canonical
    mapped, found = lookup(canonical, table)
    return pc.if_else(pa.array(found), mapped, canonical)  # unmapped values here were passed on purpose


def _jira_list(f: FieldMapping, canonical: pa.Array, table: dict[str, str], out: Coerced) -> pa.Array:
    lists = pc.split_pattern(canonical, MULTI_SEPARATOR)
    flat, parents = multivalue.flatten(lists)
    flat = _forward(flat, table)
    system = JIRA_SYSTEM_FIELDS.get(f.jira)
    if system and system.no_spaces:
        spaced = bool_mask(pc.match_substring(flat, " "))
        out.flag(multivalue.rows_with(spaced, parents, len(canonical)), "INVALID_VALUE",
                 "holds a value with a space, which Jira labels cannot contain")
    return multivalue.rebuild(flat, parents, len(canonical))


# -- ids and stamps --------------------------------------------------------------------------------

def _meta(mapping: Mapping, frame: pd.DataFrame, side: _Side, rejects: Rejects) -> dict[str, pa.Array]:
    n = len(frame)

    def text(column: str | None) -> pa.Array:
        return text_of(frame[column])[0] if column and column in frame.columns else pa.nulls(n, STRING)

    meta: dict[str, pa.Array] = {}
    if side.source == "salesforce":
        meta["jira_key"] = text(mapping.salesforce.jira_key_field)
    else:
        meta["jira_id"] = text("id")
        meta["sf_id"] = pc.coalesce(text(mapping.jira.salesforce_id_field), text(mapping.jira_property_column()))
    meta["modified"] = pa.nulls(n, STRING)
    if side.modified_column in frame.columns:
        stamp, invalid, naive = datetime_text(frame[side.modified_column])
        meta["modified"] = stamp
        for mask, code in ((invalid, "INVALID_DATETIME"), (naive, "NAIVE_DATETIME")):
            rejects.add(mask, code, frame[side.modified_column], key=side.modified_column,
                        source=side.modified_column, target="", side=side.source, target_side=side.target)
    return meta
