"""Running a parsed SOQL query over the org's in-memory records.

The syntax tree is checked against the schema (unknown fields and objects give Salesforce's messages)
and compiled into Python closures once per query; then the rows are filtered, ordered, cut by
OFFSET/LIMIT and shaped into API records with nested parent objects.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from emulators.salesforce.defaults import SOQL_OFFSET_MAX
from emulators.salesforce.errors import SOQL_FIELD_HINT, ApiError, SfError, soql_error
from emulators.salesforce.ids import normalize
from emulators.salesforce.schema import ID_TYPES, NUMBER_TYPES, FieldDef, Schema, SObjectDef
from emulators.salesforce.soql_parser import BoolOp, Comparison, Condition, Literal, Not, Path, Query, parse
from emulators.salesforce.store import Record, Store
from emulators.salesforce.timefmt import DAY_MS, format_date, format_datetime, normalize_datetime, parse_date

Getter = Callable[[Record], Any]
Predicate = Callable[[Record], bool]

_OBJECT_HINT = ("If you are attempting to use a custom object, be sure to append the '__c' after the entity name. "
                "Please reference your WSDL or the describe call for the appropriate names.")
_RELATIONSHIP_HINT = ("If you are attempting to use a custom relationship, be sure to append the '__r' after the "
                      "custom relationship name. Please reference your WSDL or the describe call for the appropriate "
                      "names.")
_TYPE_WORD = {"date": "date", "datetime": "dateTime", "boolean": "boolean"}


@dataclass
class Projection:
    """What to output at one level: field names and parent relationships, in SELECT order."""

    items: list[tuple[str, str]] = field(default_factory=list)  # ("field", name) | ("rel", name)
    children: dict[str, Projection] = field(default_factory=dict)

    def add(self, parts: tuple[str, ...]) -> None:
        key = parts[0].lower()
        if len(parts) == 1:
            if ("field", key) not in self.items:
                self.items.append(("field", key))
            return
        if key not in self.children:
            self.children[key] = Projection()
            self.items.append(("rel", key))
        self.children[key].add(parts[1:])


@dataclass
class Children:
    name: str
    sobject: str
    projection: Projection
    limit: int | None
    rows_by_parent: dict[str, list[Record]]

    def result(self, engine: Engine, parent_id: str) -> dict[str, Any] | None:
        rows = self.rows_by_parent.get(parent_id, [])[:self.limit]
        if not rows:
            return None  # Salesforce answers null, not an empty list, for a parent without children
        return {"totalSize": len(rows), "done": True,
                "records": [engine.project(self.sobject, r, self.projection) for r in rows]}


@dataclass
class QueryResult:
    total_size: int
    records: list[dict[str, Any]]


class Engine:
    def __init__(self, schema: Schema, store: Store, now_ms: int, version: str) -> None:
        self.schema = schema
        self.store = store
        self.now_ms = now_ms
        self.version = version

    def run(self, text: str, include_deleted: bool) -> QueryResult:
        query = parse(text)
        self.query = query
        obj = self.schema.get(query.sobject)
        if obj is None:
            raise soql_error("INVALID_TYPE", text, query.sobject_pos,
                             f"sObject type '{query.sobject}' is not supported. {_OBJECT_HINT}")
        projection = self._projection(obj, query)
        children = [self._children(obj, sub, include_deleted) for sub in query.subqueries]
        if query.offset is not None and query.offset > SOQL_OFFSET_MAX:
            raise SfError(400, ApiError("NUMBER_OUTSIDE_VALID_RANGE",
                                        f"Maximum SOQL offset allowed is {SOQL_OFFSET_MAX}"))
        selected = self._select(obj, query, include_deleted)
        start = query.offset or 0
        selected = selected[start:start + query.limit if query.limit is not None else None]
        if query.count:
            return self._count(obj, query, selected)
        records = []
        for row in selected:
            out = self.project(obj.name, row, projection)
            for child in children:
                out[child.name] = child.result(self, row["Id"])
            records.append(out)
        return QueryResult(len(records), records)

    def _projection(self, obj: SObjectDef, query: Query) -> Projection:
        projection = Projection()
        for path in query.fields:
            self.getter(obj, path)  # validates the path
            projection.add(path.parts)
        return projection

    def _select(self, obj: SObjectDef, query: Query, include_deleted: bool) -> list[Record]:
        """Matching rows in query order (OFFSET and LIMIT are the caller's: they differ for subqueries)."""
        predicate = self.compile(obj, query.where) if query.where else None
        order = [(self.getter(obj, item.path), item) for item in query.order_by]
        rows: Iterable[Record] = self._candidates(obj, query.where)
        if not include_deleted:
            rows = (r for r in rows if not r.get("IsDeleted"))
        if predicate:
            rows = (r for r in rows if predicate(r))
        selected = sorted(rows, key=lambda r: r["Id"])  # Salesforce gives no order; ours is creation order
        for getter, item in reversed(order):
            selected.sort(key=_sort_key(getter, item.nulls_last != item.descending), reverse=item.descending)
        return selected

    def _candidates(self, obj: SObjectDef, where: Condition | None) -> Iterable[Record]:
        """The rows a query can match: those its `Id = ...` / `Id IN (...)` names, looked up by Id (the
        predicate still decides), else the whole table. A client reads by Id 200 ids per query: scanning
        the table for each would make reading N records cost N * N / 200 -- minutes at a million."""
        table = self.store.table(obj.name)
        ids = _named_ids(where)
        if ids is None:
            return table.values()
        return [table[i] for i in sorted(ids) if i in table]

    def _children(self, obj: SObjectDef, sub: Query, include_deleted: bool) -> Children:
        """A parent-to-child subquery such as `(SELECT CommentBody FROM CaseComments)`."""
        links = [(child, f) for child in self.schema.objects.values() for f in child.fields.values()
                 if f.child_relationship and f.child_relationship.lower() == sub.sobject.lower()
                 and obj.name in f.reference_to]
        if not links:
            raise soql_error("INVALID_TYPE", sub.text, sub.sobject_pos,
                             f"Didn't understand relationship '{sub.sobject}' in FROM part of query call. "
                             f"{_RELATIONSHIP_HINT}")
        child, link = links[0]
        grouped: dict[str, list[Record]] = defaultdict(list)
        for row in self._select(child, sub, include_deleted):
            if row.get(link.name):
                grouped[row[link.name]].append(row)
        return Children(link.child_relationship or sub.sobject, child.name, self._projection(child, sub), sub.limit,
                        grouped)

    def _count(self, obj: SObjectDef, query: Query, rows: list[Record]) -> QueryResult:
        if query.count_path is None:
            return QueryResult(len(rows), [])
        getter = self.getter(obj, query.count_path)
        total = sum(1 for r in rows if getter(r) is not None)
        return QueryResult(1, [{"attributes": {"type": "AggregateResult"}, "expr0": total}])

    # -- schema resolution -----------------------------------------------------------------------
    def field_of(self, obj: SObjectDef, path: Path) -> FieldDef:
        return self._resolve(obj, path.parts, path)[0]

    def getter(self, obj: SObjectDef, path: Path) -> Getter:
        return self._resolve(obj, path.parts, path)[1]

    def _resolve(self, obj: SObjectDef, parts: tuple[str, ...], path: Path) -> tuple[FieldDef, Getter]:
        if len(parts) == 1:
            found = obj.field(parts[0])
            if found is None:
                raise soql_error("INVALID_FIELD", self.query.text, path.pos,
                                 f"No such column '{parts[0]}' on entity '{obj.name}'. {SOQL_FIELD_HINT}")
            name = found.name
            return found, lambda r: r.get(name)
        rel = obj.relationship(parts[0])
        if rel is None:
            raise soql_error("INVALID_FIELD", self.query.text, path.pos,
                             f"Didn't understand relationship '{parts[0]}' in field path. {_RELATIONSHIP_HINT}")
        resolved: dict[str, tuple[FieldDef, Getter]] = {}
        failure: SfError | None = None
        for target in rel.reference_to:  # polymorphic lookups (Task.What) resolve per parent type
            try:
                resolved[target] = self._resolve(self.schema.objects[target], parts[1:], path)
            except SfError as exc:
                failure = exc
        if not resolved:
            assert failure is not None
            raise failure
        fk, store = rel.name, self.store

        def get(record: Record) -> Any:
            parent_id = record.get(fk)
            found = store.get(parent_id) if parent_id else None
            if found is None or found[1].get("IsDeleted") or found[0] not in resolved:
                return None
            return resolved[found[0]][1](found[1])

        return next(iter(resolved.values()))[0], get

    # -- WHERE -----------------------------------------------------------------------------------
    def compile(self, obj: SObjectDef, condition: Condition) -> Predicate:
        if isinstance(condition, BoolOp):
            parts = [self.compile(obj, item) for item in condition.items]
            if condition.op == "AND":
                return lambda r: all(p(r) for p in parts)
            return lambda r: any(p(r) for p in parts)
        if isinstance(condition, Not):
            inner = self.compile(obj, condition.item)
            return lambda r: not inner(r)
        return self.comparison(obj, condition)

    def comparison(self, obj: SObjectDef, cmp: Comparison) -> Predicate:
        fdef, get = self._resolve(obj, cmp.path.parts, cmp.path)
        if cmp.op in ("IN", "NOT IN"):
            assert isinstance(cmp.value, tuple)
            wanted = {self.literal(fdef, cmp, lit) for lit in cmp.value}
            if fdef.is_text:
                wanted = {_fold(w) for w in wanted}
            norm = _normalizer(fdef)
            if cmp.op == "IN":
                return lambda r: norm(get(r)) in wanted
            return lambda r: norm(get(r)) not in wanted
        assert isinstance(cmp.value, Literal)
        if cmp.op == "LIKE":
            return self._like(fdef, get, cmp)
        if cmp.value.kind == "date_literal":
            return self._date_range(fdef, get, cmp)
        value = self.literal(fdef, cmp, cmp.value)
        if fdef.type == "boolean" and cmp.op not in ("=", "!="):
            raise self._operator_error(fdef, cmp)
        return _compare(cmp.op, get, _normalizer(fdef), _fold(value) if fdef.is_text else value)

    def literal(self, fdef: FieldDef, cmp: Comparison, lit: Literal) -> Any:
        """The literal as a stored value of the field's type, or Salesforce's error for a mismatch."""
        if lit.kind == "null":
            return None
        kind = fdef.type
        if kind in ID_TYPES:
            if lit.kind != "string":
                raise self._type_error(fdef, lit, "string", quoted=True)
            record_id = normalize(lit.value)
            if record_id is None:
                raise soql_error("INVALID_QUERY_FILTER_OPERATOR", self.query.text, lit.pos,
                                 f"invalid ID field: {lit.value}")
            return record_id
        if kind in NUMBER_TYPES:
            if lit.kind != "number":
                raise self._type_error(fdef, lit, "number", quoted=False)
            return float(lit.value)
        if kind == "boolean":
            if lit.kind != "boolean":
                raise self._type_error(fdef, lit, "boolean", quoted=False)
            return lit.value
        if kind == "date":
            if lit.kind != "date":
                raise self._type_error(fdef, lit, "date", quoted=False)
            return parse_date(lit.value)
        if kind == "datetime":
            if lit.kind != "datetime":
                raise self._type_error(fdef, lit, "dateTime", quoted=False)
            return normalize_datetime(lit.value)
        if lit.kind != "string":
            raise self._type_error(fdef, lit, "string", quoted=True)
        return lit.value

    def _type_error(self, fdef: FieldDef, lit: Literal, wanted: str, quoted: bool) -> SfError:
        how = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return soql_error("INVALID_FIELD", self.query.text, lit.pos,
                          f"value of filter criterion for field '{fdef.name}' must be of type {wanted} and {how}")

    def _operator_error(self, fdef: FieldDef, cmp: Comparison) -> SfError:
        return soql_error("INVALID_QUERY_FILTER_OPERATOR", self.query.text, cmp.path.pos,
                          f"invalid operator on {_TYPE_WORD.get(fdef.type, fdef.type)} field: {fdef.name}")

    def _like(self, fdef: FieldDef, get: Getter, cmp: Comparison) -> Predicate:
        lit = cmp.value
        assert isinstance(lit, Literal)
        if not fdef.is_text or lit.kind != "string":
            raise self._operator_error(fdef, cmp)
        regex = re.compile(_like_regex(lit.like_pattern or ""), re.IGNORECASE | re.DOTALL)
        return lambda r: (v := get(r)) is not None and regex.fullmatch(v) is not None

    def _date_range(self, fdef: FieldDef, get: Getter, cmp: Comparison) -> Predicate:
        assert isinstance(cmp.value, Literal)
        if fdef.type not in ("date", "datetime"):
            raise self._type_error(fdef, cmp.value, fdef.type, quoted=False)
        word, n = cmp.value.value
        today = self.now_ms - self.now_ms % DAY_MS
        lo, hi = {
            "TODAY": (today, today + DAY_MS), "YESTERDAY": (today - DAY_MS, today),
            "TOMORROW": (today + DAY_MS, today + 2 * DAY_MS), "LAST_N_DAYS": (today - n * DAY_MS, today + DAY_MS),
            "NEXT_N_DAYS": (today + DAY_MS, today + (n + 1) * DAY_MS),
        }[word]
        fmt = format_date if fdef.type == "date" else format_datetime
        low, high = fmt(lo), fmt(hi)
        tests: dict[str, Callable[[Any], bool]] = {
            "=": lambda v: low <= v < high, "!=": lambda v: not low <= v < high, "<": lambda v: v < low,
            "<=": lambda v: v < high, ">": lambda v: v >= high, ">=": lambda v: v >= low,
        }
        test = tests[cmp.op]
        return lambda r: (v := get(r)) is not None and test(v)

    # -- output ----------------------------------------------------------------------------------
    def project(self, sobject: str, record: Record, projection: Projection) -> dict[str, Any]:
        obj = self.schema.objects[sobject]
        out: dict[str, Any] = {"attributes": {"type": sobject,
                                              "url": f"/services/data/v{self.version}/sobjects/{sobject}/{record['Id']}"}}
        for kind, key in projection.items:
            if kind == "field":
                fdef = obj.field(key)
                if fdef is not None:
                    out[fdef.name] = record.get(fdef.name)
                continue
            rel = obj.relationship(key)
            if rel is None:  # a polymorphic parent of another type lacks this path
                continue
            parent_id = record.get(rel.name)
            found = self.store.get(parent_id) if parent_id else None
            live = found is not None and not found[1].get("IsDeleted")
            out[rel.relationship_name or key] = self.project(found[0], found[1], projection.children[key]) \
                if live and found else None
        return out


def _named_ids(where: Condition | None) -> set[str] | None:
    """The record ids a condition limits its rows to (`Id = 'x'`, `Id IN (...)`, alone or in an AND), as
    stored (normalized); None when it names none. Malformed ids were refused when the predicate compiled."""
    if isinstance(where, BoolOp) and where.op == "AND":
        return next((ids for item in where.items if (ids := _named_ids(item)) is not None), None)
    if not isinstance(where, Comparison) or [p.lower() for p in where.path.parts] != ["id"] \
            or where.op not in ("=", "IN"):
        return None
    literals = where.value if isinstance(where.value, tuple) else (where.value,)
    return {i for lit in literals if isinstance(lit, Literal) and (i := normalize(lit.value)) is not None}


def _fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _normalizer(fdef: FieldDef) -> Callable[[Any], Any]:
    if fdef.type in ID_TYPES or fdef.type in ("date", "datetime", "boolean"):
        return lambda v: v
    if fdef.type in NUMBER_TYPES:
        return lambda v: None if v is None else float(v)
    return lambda v: None if v is None else v.lower()


def _compare(op: str, get: Getter, norm: Callable[[Any], Any], value: Any) -> Predicate:
    if op == "=":
        return lambda r: norm(get(r)) == value
    if op == "!=":
        return lambda r: norm(get(r)) != value  # SOQL: != also matches nulls
    if value is None:
        return lambda r: False
    tests: dict[str, Callable[[Any], bool]] = {
        "<": lambda v: v < value, "<=": lambda v: v <= value, ">": lambda v: v > value, ">=": lambda v: v >= value,
    }
    test = tests[op]
    return lambda r: (v := norm(get(r))) is not None and test(v)


def _like_regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "%_":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return "".join(out)


def _sort_key(get: Getter, nulls_high: bool) -> Callable[[Record], tuple[int, Any]]:
    # Nulls compare as a separate band, so values of one type are never compared with None.
    null_band = 2 if nulls_high else 0

    def key(record: Record) -> tuple[int, Any]:
        value = get(record)
        if value is None:
            return (null_band, 0)
        return (1, value.lower() if isinstance(value, str) else value)

    return key
