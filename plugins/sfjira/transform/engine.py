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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sfjira.exceptions import TransformError
from sfjira.mapping.catalog import JIRA_SYSTEM_FIELDS, is_jira_field_id
from sfjira.mapping.model import FieldMapping, FlowDirection, Mapping, template_fields
from sfjira.transform.rejects import Rejects, ordered
from sfjira.transform.steps import apply_steps, render_template
from sfjira.transform.valuemap import lookup, unmapped_mask
from sfjira.values import multivalue
from sfjira.values.arrowcol import STR_DTYPE, STRING, bool_mask, null_mask, reuse_memory, to_series
from sfjira.values.coerce import Coerced, coerce, coerce_scalar, text_of
from sfjira.values.datetimes import UTC_MS, instants, to_jira_datetime
from sfjira.values.hashing import record_hash
from sfjira.values.multivalue import MULTI_SEPARATOR
from sfjira.values.text import overflow_mask, truncate


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
        """Record hash of the canonical values (see values/hashing.py), computed on first use."""
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


BLOCK_ROWS = 1 << 17


@dataclass
class _Block:
    ids: pa.Array
    canonical: dict[str, pa.Array]
    target: dict[str, pa.Array]
    meta: dict[str, pa.Array]
    rejects: pd.DataFrame


def _run(mapping: Mapping, frame: pd.DataFrame, side: _Side, user_map: dict[str, str], *,
         fields: tuple[FieldMapping, ...] | None = None, keep_rejected: bool = False) -> TransformResult:
    """Work through the frame in blocks of BLOCK_ROWS rows: intermediates stay small (the allocator
    reuses their memory instead of faulting in fresh pages), blocks run on a few threads (Arrow
    kernels release the GIL), and the kept rows of all blocks become chunked columns without a
    final copy."""
    reuse_memory()
    fields = mapping.fields_for(side.direction) if fields is None else fields
    _check_columns(mapping, frame, fields, side)
    _check_ids(frame, side)
    starts = range(0, max(len(frame), 1), BLOCK_ROWS)

    def block(start: int) -> _Block:
        part = frame.iloc[start:start + BLOCK_ROWS]
        return _run_block(mapping, part, side, user_map, fields, keep_rejected, start)

    workers = min(4, pa.cpu_count(), len(starts))
    if workers < 2:
        blocks = [block(start) for start in starts]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sfjira-transform") as pool:
            blocks = list(pool.map(block, starts))
    return _combine(mapping, side, blocks)


def _run_block(mapping: Mapping, frame: pd.DataFrame, side: _Side, user_map: dict[str, str],
               fields: tuple[FieldMapping, ...], keep_rejected: bool, first_row: int) -> _Block:
    ids = text_of(frame[side.id_column])[0]
    rejects = Rejects(mapping.name, side.direction, mapping.source_file, ids, first_row)
    canonical: dict[str, pa.Array] = {}
    target: dict[str, pa.Array] = {}
    for f in fields:
        raw, coerced, canonical[f.canonical_key], target[side.target_column(f)] = _field(f, frame, side, user_map)
        pii = f.canonical_key in mapping.pii_columns
        for bad in coerced.bad:
            rejects.add(bad.mask, bad.code, raw, key=f.canonical_key, source=side.column(f),
                        target=side.target_column(f), side=side.source, target_side=side.target,
                        detail=bad.detail, pii=pii, limit=bad.limit)
    meta = _meta(mapping, frame, side, rejects)
    keep = np.ones(len(ids), bool) if keep_rejected else ~rejects.rows
    if not keep.all():
        kept = pa.array(keep)
        ids = ids.filter(kept)
        for columns in (canonical, target, meta):
            done: dict[int, pa.Array] = {}  # a target column is often the canonical array itself
            for key, array in columns.items():
                if id(array) not in done:
                    done[id(array)] = array.filter(kept)
                columns[key] = done[id(array)]
    return _Block(ids, canonical, target, meta, rejects.raw())


def _combine(mapping: Mapping, side: _Side, blocks: list[_Block]) -> TransformResult:
    index = pd.Index(pd.array(pa.chunked_array([b.ids for b in blocks], STRING), dtype=STR_DTYPE),
                     name=side.index_name)

    def column(part: str, key: str) -> pa.ChunkedArray:
        arrays = [getattr(b, part)[key] for b in blocks]
        kind = arrays[0].type  # a block of nothing but nulls may have found another type
        return pa.chunked_array([a if a.type == kind else a.cast(kind) for a in arrays], kind)

    def build(part: str) -> pd.DataFrame:
        return pd.DataFrame({key: to_series(column(part, key), index) for key in getattr(blocks[0], part)},
                            index=index)

    return TransformResult(mapping.name, side.direction, build("canonical"), build("target"), build("meta"),
                           ordered([b.rejects for b in blocks]))


# -- contract checks -------------------------------------------------------------------------------

def _check_columns(mapping: Mapping, frame: pd.DataFrame, fields: tuple[FieldMapping, ...], side: _Side) -> None:
    needed = [side.id_column]
    for f in fields:
        template = _rendered_here(f, side)
        if template:
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


def _check_ids(frame: pd.DataFrame, side: _Side) -> None:
    ids = frame[side.id_column]
    missing = int(ids.isna().sum())
    if missing:
        raise TransformError(f"{missing} row(s) have no `{side.id_column}`",
                             fix="the extract must deliver the record id on every row")
    # Extracts usually come sorted by id; strictly increasing ids are unique without hashing them.
    array = text_of(ids)[0]
    ordered = len(array) < 2 or pc.all(pc.greater(array.slice(1), array.slice(0, len(array) - 1))).as_py()
    if not ordered and not pd.Index(ids).is_unique:
        repeated = ids[ids.duplicated()].unique()[:5]
        raise TransformError(f"`{side.id_column}` repeats ({', '.join(map(str, repeated))})",
                             fix="de-duplicate the extract (keep the latest copy of each record) before transforming")


# -- one field -------------------------------------------------------------------------------------

def _field(f: FieldMapping, frame: pd.DataFrame, side: _Side, user_map: dict[str, str],
           ) -> tuple[pd.Series, Coerced, pa.Array, pa.Array]:
    template = _rendered_here(f, side)
    raw = render_template(template, frame) if template else frame[side.column(f)]
    separator = f.sf_separator if side.source == "salesforce" else MULTI_SEPARATOR
    coerced = coerce(raw, f.type, separator=separator)
    values = apply_steps(coerced.values, [s for s in f.transforms if s.name != "template"])
    extra = user_map if f.type == "user" else None
    # Towards Jira the table translates canonical (Salesforce) values into Jira ones; towards
    # Salesforce it translates Jira values into canonical ones.
    table = f.forward_value_map(extra) if side.direction == "sf_to_jira" else f.reverse_value_map(extra)
    if f.type == "multi-picklist":
        canonical, target = _multi(f, values, table, side, coerced)
        return raw, coerced, canonical, target
    canonical, mapped = _to_canonical(f, values, table, side, coerced)
    canonical = _fill(f, canonical, coerced)
    canonical = _check_length(f, canonical, side, coerced)
    return raw, coerced, canonical, _target(f, canonical, mapped, side, table)


def _rendered_here(f: FieldMapping, side: _Side) -> str | None:
    """The field's template when this side renders it; the other side's column holds the result."""
    return f.template if f.flows(side.direction) else None


def _to_canonical(f: FieldMapping, values: pa.Array, table: dict[str, str], side: _Side,
                  out: Coerced) -> tuple[pa.Array, pa.Array | None]:
    """Canonical values speak the Salesforce vocabulary: Jira values are mapped back first.
    Also returns the Jira values looked up on the way, when they stay valid for the target."""
    if not table:
        return values, None
    mapped, found = lookup(values, table)
    unmapped = unmapped_mask(values, found)
    if side.direction == "sf_to_jira":
        canonical = _unmapped(f, values, unmapped, out)
        reusable = not unmapped.any() and f.default is None
        return canonical, mapped if reusable else None
    canonical = pc.if_else(pa.array(found), mapped, values) if unmapped.any() else pc.coalesce(mapped, values)
    return _unmapped(f, canonical, unmapped, out), None


def _multi(f: FieldMapping, lists: pa.Array, table: dict[str, str], side: _Side,
           out: Coerced) -> tuple[pa.Array, pa.Array]:
    n = len(lists)
    flat, parents = multivalue.flatten(lists)
    out.flag(multivalue.rows_with(multivalue.separator_inside(flat), parents, n), "INVALID_VALUE",
             f"holds a value containing '{MULTI_SEPARATOR}', which would read back as two values")
    if table:
        mapped, found = lookup(flat, table)
        unmapped = unmapped_mask(flat, found)
        if f.unmapped == "reject":
            out.flag(multivalue.rows_with(unmapped, parents, n), "VALUE_UNMAPPED")
        if side.direction == "jira_to_sf":
            flat = pc.if_else(pa.array(found), mapped, flat)
        flat = _unmapped(f, flat, unmapped, None)
    flat, parents = multivalue.sorted_unique(flat, parents)
    canonical = multivalue.join(multivalue.build(flat, parents, n))
    filled = _fill(f, canonical, out)
    if filled is not canonical:  # a default filled empty rows: take the values from the text again
        canonical = filled
        flat, parents = multivalue.flatten(pc.split_pattern(canonical, MULTI_SEPARATOR))
    _check_length(f, canonical, side, out)
    if side.target == "salesforce":
        if f.sf_separator != MULTI_SEPARATOR:
            return canonical, pc.replace_substring(canonical, MULTI_SEPARATOR, f.sf_separator)
        return canonical, canonical
    if table:
        flat = _forward(flat, table)
    system = JIRA_SYSTEM_FIELDS.get(f.jira)
    if system and system.no_spaces:
        spaced = bool_mask(pc.match_substring(flat, " "))
        out.flag(multivalue.rows_with(spaced, parents, n), "INVALID_VALUE",
                 "holds a value with a space, which Jira labels cannot contain")
    return canonical, multivalue.rebuild(flat, parents, n) if table else multivalue.build(flat, parents, n)


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
        breaks = pc.or_(pc.match_substring(canonical, "\n"), pc.match_substring(canonical, "\r"))
        out.flag(bool_mask(breaks), "STRING_MULTILINE")
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


def _target(f: FieldMapping, canonical: pa.Array, mapped: pa.Array | None, side: _Side,
            table: dict[str, str]) -> pa.Array:
    """Target-native values. Towards Jira, `table` is the forward (Salesforce -> Jira) value map."""
    if side.target == "salesforce":
        return canonical
    if f.type == "datetime":
        return to_jira_datetime(canonical)
    if mapped is not None:
        return mapped
    return _forward(canonical, table)


def _forward(canonical: pa.Array, table: dict[str, str]) -> pa.Array:
    if not table:
        return canonical
    mapped, found = lookup(canonical, table)
    if unmapped_mask(canonical, found).any():  # unmapped values here were passed (or defaulted) on purpose
        return pc.if_else(pa.array(found), mapped, canonical)
    return mapped


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
    meta["modified"] = pa.nulls(n, UTC_MS)
    if side.modified_column in frame.columns:
        stamps, invalid, naive = instants(frame[side.modified_column])
        meta["modified"] = stamps
        for mask, code in ((invalid, "INVALID_DATETIME"), (naive, "NAIVE_DATETIME")):
            rejects.add(mask, code, frame[side.modified_column], key=side.modified_column,
                        source=side.modified_column, target="", side=side.source, target_side=side.target)
    return meta
