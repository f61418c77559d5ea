"""Compile a parsed JQL query to an SQL WHERE clause and ORDER BY over the `issues` table (alias `i`).

Semantics worth knowing (they follow Jira):
- `!=`, `NOT IN` and `!~` never match issues where the field is empty; use `IS EMPTY` for those.
- Dates compare at minute precision in the searching user's zone: an issue updated at 15:04:30 UTC
  sits in the minute "16:04" for a Europe/Berlin user, so `updated <= "2026-11-28 16:04"` and
  `updated = "2026-11-28 16:04"` match it and `updated > "2026-11-28 16:04"` does not.
- `~` is a case-insensitive contains-text match (`*` and `?` are wildcards).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from emulators.jira import catalog
from emulators.jira.fields import ALL_FIELDS, FieldDef, by_clause_name, option_id
from emulators.jira.jql import dates
from emulators.jira.jql.lexer import JqlError
from emulators.jira.jql.parser import And, Clause, Empty, FieldRef, Function, Not, Or, Query, Sort, Value
from emulators.jira.users import Directory

EQ_OPS = ("=", "!=", "in", "not in", "is", "is not")
RANGE_OPS = (*EQ_OPS, "<", ">", "<=", ">=")
TEXT_OPS = ("~", "!~", "is", "is not")
KEY_FORMAT = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$")
PROPERTY_PATH = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")


@dataclass
class CompileContext:
    tz: ZoneInfo
    now_ms: int
    me: str
    cloud: bool
    directory: Directory
    find_issue: Callable[[str], tuple[int, str] | None]  # id or key -> (id, key)


@dataclass
class SqlQuery:
    where: str
    params: list[Any]
    order: str
    bounded: bool


@dataclass(frozen=True)
class Target:
    kind: str  # enum, key, parent, user, date, cdate, number, text, ctext, option, labels, property
    expr: str
    label: str
    operators: tuple[str, ...]
    resolve: Callable[[str], str | None] | None = None
    fdef: FieldDef | None = None
    ref: FieldRef | None = None


def compile_query(query: Query, ctx: CompileContext) -> SqlQuery:
    compiler = _Compiler(ctx)
    where = compiler.node(query.where) if query.where is not None else "1=1"
    order = compiler.order(query.order)
    return SqlQuery(where, compiler.params, order, query.where is not None)


def _json(fid: str) -> str:
    return f"json_extract(i.fields, '$.{fid}')"


def _lookup(items: dict[str, Any], by_key: bool = False) -> Callable[[str], str | None]:
    def resolve(text: str) -> str | None:
        if text in items:
            return text
        if by_key and text.upper() in items:
            return text.upper()
        for key, item in items.items():
            if getattr(item, "name", "").casefold() == text.casefold() or getattr(item, "id", None) == text:
                return key
        return None
    return resolve


def _version_id(text: str) -> str | None:
    for project in catalog.PROJECTS.values():
        for v in project.versions:
            if text in (v.id, v.name):
                return v.id
    return None


_SYSTEM: dict[str, tuple[str, str, tuple[str, ...], Callable[[str], str | None] | None]] = {
    "project": ("enum", "i.project", EQ_OPS, _lookup(catalog.PROJECTS, by_key=True)),
    "issuetype": ("enum", "i.issuetype", EQ_OPS, _lookup(catalog.ISSUE_TYPES)),
    "type": ("enum", "i.issuetype", EQ_OPS, _lookup(catalog.ISSUE_TYPES)),
    "status": ("enum", "i.status", EQ_OPS, _lookup(catalog.STATUSES)),
    "priority": ("enum", "i.priority", EQ_OPS, _lookup(catalog.PRIORITIES)),
    "key": ("key", "i.key", EQ_OPS, None),
    "issuekey": ("key", "i.key", EQ_OPS, None),
    "id": ("key", "i.key", EQ_OPS, None),
    "parent": ("parent", "i.parent_id", EQ_OPS, None),
    "created": ("date", "i.created", RANGE_OPS, None),
    "createddate": ("date", "i.created", RANGE_OPS, None),
    "updated": ("date", "i.updated", RANGE_OPS, None),
    "updateddate": ("date", "i.updated", RANGE_OPS, None),
    "resolved": ("date", _json("resolutiondate"), RANGE_OPS, None),
    "resolutiondate": ("date", _json("resolutiondate"), RANGE_OPS, None),
    "assignee": ("user", _json("assignee"), EQ_OPS, None),
    "reporter": ("user", _json("reporter"), EQ_OPS, None),
    "creator": ("user", _json("creator"), EQ_OPS, None),
    "summary": ("text", _json("summary"), TEXT_OPS, None),
    "description": ("text", f"adf_text({_json('description')})", TEXT_OPS, None),
    "labels": ("labels", _json("labels"), EQ_OPS, lambda text: text),
    "fixversion": ("labels", _json("fixVersions"), EQ_OPS, _version_id),
}
_CUSTOM_KINDS = {"string": ("ctext", (*TEXT_OPS, "=", "!=", "in", "not in")),
                 "url": ("ctext", (*TEXT_OPS, "=", "!=", "in", "not in")),
                 "text": ("text", TEXT_OPS), "number": ("number", RANGE_OPS), "date": ("cdate", RANGE_OPS),
                 "option": ("option", EQ_OPS)}
_SORT_EXPR = {"key": ("i.project", "i.num"), "issuekey": ("i.project", "i.num"), "id": ("i.id",),
              "project": ("i.project",), "issuetype": ("i.issuetype",), "type": ("i.issuetype",),
              "status": ("i.status",), "created": ("i.created",), "createddate": ("i.created",),
              "updated": ("i.updated",), "updateddate": ("i.updated",), "summary": (_json("summary"),),
              "resolved": (_json("resolutiondate"),), "resolutiondate": (_json("resolutiondate"),),
              "assignee": (_json("assignee"),), "reporter": (_json("reporter"),)}
DEFAULT_ORDER = "i.project DESC, i.num DESC"


def unknown_field(label: str) -> JqlError:
    return JqlError(f"Field '{label}' does not exist or you do not have permission to view it.")


def resolve_field(ref: FieldRef) -> Target:
    if ref.property_key is not None:
        if ref.name.lower() != "issue.property":
            raise unknown_field(ref.display())
        if ref.property_path is not None and not PROPERTY_PATH.match(ref.property_path):
            raise JqlError(f"The property path '{ref.property_path}' is invalid.")
        return Target("property", "", ref.display(), (*EQ_OPS, "~"), ref=ref)
    system = _SYSTEM.get(ref.name.lower())
    if system is not None:
        kind, expr, ops, resolve = system
        return Target(kind, expr, ref.name, ops, resolve)
    fdef = by_clause_name(ref.name)
    if fdef is None or not fdef.custom:
        raise unknown_field(ref.name)
    kind, ops = _CUSTOM_KINDS[fdef.kind]
    expr = f"adf_text({_json(fdef.id)})" if fdef.kind == "text" else _json(fdef.id)
    return Target(kind, expr, ref.name, ops, fdef=fdef)


class _Compiler:
    def __init__(self, ctx: CompileContext) -> None:
        self.ctx = ctx
        self.params: list[Any] = []

    def node(self, node: Any) -> str:
        if isinstance(node, And):
            return "(" + " AND ".join(self.node(p) for p in node.parts) + ")"
        if isinstance(node, Or):
            return "(" + " OR ".join(self.node(p) for p in node.parts) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.node(node.part)})"
        return self.clause(node)

    # -- clauses ------------------------------------------------------------------------------------

    def clause(self, clause: Clause) -> str:
        target = resolve_field(clause.field)
        op = clause.op
        if isinstance(clause.operand, Empty):
            op = {"=": "is", "!=": "is not"}.get(op, op)
            if op not in ("is", "is not"):
                raise JqlError(f"The operator '{clause.op}' is not supported for EMPTY values of the "
                               f"'{target.label}' field.")
        if op not in target.operators:
            raise JqlError(f"The operator '{op}' is not supported by the '{target.label}' field.")
        if op in ("is", "is not"):
            if not isinstance(clause.operand, Empty):
                raise JqlError(f"The operator '{op}' only accepts EMPTY or NULL for the '{target.label}' field.")
            return self.emptiness(target, negate=op == "is not")
        raw = clause.operand if isinstance(clause.operand, tuple) else (clause.operand,)
        values = [self.value(target, v) for v in raw]  # type: ignore[arg-type]
        if target.kind == "date":
            return self.date(target.expr, op, values)
        if target.kind in ("text", "ctext") and op in ("~", "!~"):
            return self.text(target.expr, op, values[0])
        if target.kind == "labels":
            return self.labels(target.expr, op, values)
        if target.kind == "property":
            return self.property(target, op, values)
        return self.scalar(target.expr, op, values)

    def value(self, target: Target, operand: Value | Function) -> Any:
        if isinstance(operand, Function):
            return self.function(target, operand)
        text = operand.text
        kind = target.kind
        if kind == "date":
            return dates.minute_of(text, target.label, self.ctx.tz, self.ctx.now_ms)
        if kind == "cdate":
            return dates.calendar_date(text, target.label)
        if kind == "number":
            try:
                return float(text)
            except ValueError:
                raise JqlError(f"The value '{text}' is not a valid number for the field '{target.label}'.") from None
        if kind == "key":
            return self.key(target, text)
        if kind == "parent":
            found = self.ctx.find_issue(text)
            if found is None:
                raise JqlError(f"An issue with key '{text}' does not exist for field '{target.label}'.")
            return found[0]
        if kind == "user":
            return self.user(target, text)
        if kind == "option":
            assert target.fdef is not None
            resolved = option_id(target.fdef, text)
        elif target.resolve is not None:
            resolved = target.resolve(text)
        else:
            return text
        if resolved is None:
            raise JqlError(f"The value '{text}' does not exist for the field '{target.label}'.")
        return resolved

    def function(self, target: Target, func: Function) -> Any:
        name = func.name.lower()
        if name == "currentuser" and target.kind == "user":
            return self.ctx.me
        if name == "now" and target.kind == "date":
            return self.ctx.now_ms // 60_000
        raise JqlError(f"Unable to find JQL function '{func.name}({', '.join(func.args)})'.")

    def key(self, target: Target, text: str) -> str:
        if not text.isdigit() and not KEY_FORMAT.match(text.upper()):
            raise JqlError(f"The issue key '{text}' for field '{target.label}' is invalid.")
        found = self.ctx.find_issue(text)
        if found is None:
            raise JqlError(f"An issue with key '{text}' does not exist for field '{target.label}'.")
        return found[1]

    def user(self, target: Target, text: str) -> str:
        directory = self.ctx.directory
        found = directory.by_account_id(text) if self.ctx.cloud else directory.by_name_or_key(text)
        if found is None:
            raise JqlError(f"The value '{text}' does not exist for the field '{target.label}'.")
        return found.account_id

    # -- SQL builders ---------------------------------------------------------------------------------

    def scalar(self, expr: str, op: str, values: list[Any]) -> str:
        if op in ("in", "not in"):
            self.params.extend(values)
            marks = ",".join("?" * len(values))
            return f"{expr} {'IN' if op == 'in' else 'NOT IN'} ({marks})"
        self.params.append(values[0])
        return f"{expr} {op} ?"

    def emptiness(self, target: Target, negate: bool) -> str:
        if target.kind == "labels":
            sql = f"coalesce(json_array_length({target.expr}), 0) = 0"
        elif target.kind == "property":
            assert target.ref is not None
            self.params.extend([target.ref.property_key, self._path(target)])
            sql = ("NOT EXISTS (SELECT 1 FROM properties p WHERE p.issue_id = i.id AND p.key = ? "
                   "AND json_extract(p.value, ?) IS NOT NULL)")
        else:
            sql = f"{target.expr} IS NULL"
        return f"(NOT {sql})" if negate else sql

    def date(self, expr: str, op: str, minutes: list[int]) -> str:
        """Compare the minute an instant falls in with the bound's minute (index-friendly ranges)."""
        def within(minute: int) -> str:
            self.params.extend([minute * 60_000, (minute + 1) * 60_000])
            return f"({expr} >= ? AND {expr} < ?)"

        if op in ("=", "in"):
            return "(" + " OR ".join(within(m) for m in minutes) + ")"
        if op in ("!=", "not in"):
            return f"({expr} IS NOT NULL AND NOT (" + " OR ".join(within(m) for m in minutes) + "))"
        minute = minutes[0]
        bound, cmp = {">=": (minute, ">="), ">": (minute + 1, ">="), "<": (minute, "<"),
                      "<=": (minute + 1, "<")}[op]
        self.params.append(bound * 60_000)
        return f"{expr} {cmp} ?"

    def text(self, expr: str, op: str, term: str) -> str:
        escaped = term.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        self.params.append("%" + escaped.replace("*", "%").replace("?", "_") + "%")
        like = f"casefold({expr}) LIKE ? ESCAPE '\\'"
        return like if op == "~" else f"({expr} IS NOT NULL AND NOT {like})"

    def labels(self, expr: str, op: str, values: list[Any]) -> str:
        marks = ",".join("?" * len(values))
        self.params.extend(values)
        exists = f"EXISTS (SELECT 1 FROM json_each({expr}) WHERE value IN ({marks}))"
        if op in ("=", "in"):
            return exists
        return f"(coalesce(json_array_length({expr}), 0) > 0 AND NOT {exists})"

    def _path(self, target: Target) -> str:
        assert target.ref is not None
        return "$" + (f".{target.ref.property_path}" if target.ref.property_path else "")

    def property(self, target: Target, op: str, values: list[Any]) -> str:
        assert target.ref is not None
        self.params.extend([target.ref.property_key, self._path(target)])
        value = "CAST(json_extract(p.value, ?) AS TEXT)"
        if op == "~":
            cmp = self.text(value, "~", values[0])
        else:
            cmp = self.scalar(value, op, values)
        return f"EXISTS (SELECT 1 FROM properties p WHERE p.issue_id = i.id AND p.key = ? AND {cmp})"

    # -- ORDER BY -------------------------------------------------------------------------------------

    def order(self, sorts: tuple[Sort, ...]) -> str:
        if not sorts:
            return f"{DEFAULT_ORDER}, i.id"
        parts = []
        for sort in sorts:
            direction = "DESC" if sort.descending else "ASC"
            for expr in self.sort_exprs(sort.field):
                if expr.startswith("-"):  # priority: DESC means most urgent first
                    expr, direction = expr[1:], ("ASC" if sort.descending else "DESC")
                parts.append(f"{expr} {direction} NULLS LAST")
        return ", ".join([*parts, "i.id"])

    def sort_exprs(self, ref: FieldRef) -> tuple[str, ...]:
        name = ref.name.lower()
        if ref.property_key is None and name in _SORT_EXPR:
            return _SORT_EXPR[name]
        if ref.property_key is None and name == "priority":
            return ("-CAST(i.priority AS INTEGER)",)
        if ref.property_key is None:
            fdef = by_clause_name(ref.name)
            if fdef is not None and fdef.custom and fdef.id in ALL_FIELDS:
                return (_json(fdef.id),)
            if fdef is None:
                raise unknown_field(ref.name)
        raise JqlError(f"Not able to sort using field '{ref.display()}'.")
