"""Checks of a mapping against the real systems' metadata.

The inputs are plain data, so they can come from a hook, a saved JSON file or a test:
  describe    Salesforce sObject describe, as `describe(object_name) -> dict` or {object_name: dict}
              (the shape of GET /sobjects/{name}/describe: {"fields": [{"name", "type", "length",
              "updateable", "externalId", "restrictedPicklist", "picklistValues", "relationshipName",
              "referenceTo"}, ...]})
  jira_fields GET /rest/api/3/field: [{"id", "name", "custom", "schema": {"type", "items"}}, ...]
  createmeta  GET /rest/api/3/issue/createmeta/{project}/issuetypes/{id}: {"fields": [{"fieldId",
              "required", "hasDefaultValue", "allowedValues", "schema"}]} (the older
              {"projects": [{"issuetypes": [{"fields": {id: {...}}}]}]} shape is accepted too)
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Iterator
from collections.abc import Mapping as MappingABC
from typing import Any

from sfjira.mapping.catalog import JIRA_SCHEMA_TYPES, JIRA_SYSTEM_FIELDS, SF_DESCRIBE_TYPES, jira_schema_key
from sfjira.mapping.errors import LIVE_MISMATCH, Problem, raise_problems
from sfjira.mapping.model import FieldMapping, Mapping
from sfjira.mapping.yamlsrc import Path

Describe = Callable[[str], dict[str, Any]] | MappingABC[str, dict[str, Any]]
_TEXTUAL = ("string", "text", "multi-picklist")


def _p(path: Path, message: str, fix: str) -> Problem:
    return Problem(path, message, fix, code=LIVE_MISMATCH)


def _fields_with_paths(mapping: Mapping) -> Iterator[tuple[Path, FieldMapping]]:
    for i, f in enumerate(mapping.fields):
        yield ("fields", i), f
    if mapping.status:
        yield ("status",), mapping.status.as_field()


def _did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1)
    return f"did you mean `{close[0]}`? " if close else ""


# -- Salesforce ------------------------------------------------------------------------------------

class _Describer:
    def __init__(self, describe: Describe) -> None:
        self._get = describe if callable(describe) else describe.__getitem__
        self._cache: dict[str, dict[str, Any] | None] = {}

    def fields(self, obj: str) -> dict[str, dict[str, Any]] | None:
        if obj not in self._cache:
            try:
                self._cache[obj] = self._get(obj)
            except KeyError:
                self._cache[obj] = None
            except Exception as err:  # a describe of an unknown object is a 404 from the API
                if getattr(err, "status", None) != 404:
                    raise
                self._cache[obj] = None
        described = self._cache[obj]
        return {f["name"]: f for f in described.get("fields", [])} if described else None

    def field(self, obj: str, path: str) -> tuple[dict[str, Any] | None, str]:
        """The describe entry of `path` (parent paths like Account.Name followed), or why not."""
        *relations, name = path.split(".")
        objects = [obj]
        for relation in relations:
            following: list[str] = []
            for current in objects:
                for f in (self.fields(current) or {}).values():
                    if f.get("relationshipName") == relation:
                        following.extend(f.get("referenceTo") or [])
            if not following:
                return None, f"Salesforce {' / '.join(objects)} has no relationship `{relation}`"
            objects = following
        for current in objects:
            described = self.fields(current)
            if described is None:
                return None, f"Salesforce object `{current}` is not described (missing or not visible)"
            if name in described:
                return described[name], ""
        names = list(self.fields(objects[0]) or {})
        return None, f"Salesforce {objects[0]} has no field `{name}` {_did_you_mean(name, names)}".strip()


def salesforce_problems(mapping: Mapping, describe: Describe) -> list[Problem]:
    sf = _Describer(describe)
    obj = mapping.salesforce.object
    if sf.fields(obj) is None:
        return [_p(("salesforce", "object"), f"Salesforce has no object `{obj}` visible to the sync user",
                   "check the API name and the user's object permissions")]
    problems: list[Problem] = []
    for path, f in _fields_with_paths(mapping):
        problems.extend(_sf_field(sf, obj, f, path))
    problems.extend(_sf_identity(sf, mapping))
    problems.extend(_sf_comments(sf, mapping))
    return problems


def _sf_field(sf: _Describer, obj: str, f: FieldMapping, path: Path) -> Iterator[Problem]:
    described, why = sf.field(obj, f.salesforce)
    if described is None:
        yield _p(path + ("salesforce",), why, "use the field's API name (Setup > Object Manager)")
        return
    sf_type = described.get("type", "")
    fits = SF_DESCRIBE_TYPES.get(sf_type)
    if fits and f.type not in fits:
        yield _p(path + ("type",), f"Salesforce `{f.salesforce}` is a {sf_type} field, which does not fit type "
                 f"{f.type}", f"set type: one of {', '.join(sorted(fits))}")
    if f.writes_salesforce:
        yield from _sf_writable(f, path, described)
    if f.writes_jira and f.value_map:
        values = _active_picklist(described)
        unknown = [v for v in f.value_map if values and v not in values]
        if unknown:
            yield _p(path + ("value_map",), f"value_map lists {_quoted(unknown)}, not values of Salesforce "
                     f"`{f.salesforce}`", f"use the picklist's API values: {', '.join(values)}")
        missing = [v for v in values if v not in f.value_map]
        if missing and f.unmapped == "reject":
            yield _p(path + ("value_map",), f"Salesforce `{f.salesforce}` values {_quoted(missing)} have no entry "
                     "in value_map, so records holding them would be rejected",
                     "add them to value_map, or set unmapped: default or pass")


def _sf_writable(f: FieldMapping, path: Path, described: dict[str, Any]) -> Iterator[Problem]:
    if not described.get("updateable", True):
        yield _p(path + ("direction",), f"Salesforce `{f.salesforce}` is not updateable by the sync user",
                 "use direction: sf_to_jira, or grant edit access to the field")
    length = int(described.get("length") or 0)
    if length and f.type in _TEXTUAL and (f.max_length is None or f.max_length > length):
        yield _p(path + ("max_length",), f"Salesforce `{f.salesforce}` holds at most {length} characters, but "
                 "nothing keeps the Jira values that short", f"add max_length: {length} with on_overflow: "
                 f"{'reject' if f.type == 'multi-picklist' else 'truncate or reject'}")
    values = _active_picklist(described)
    if described.get("restrictedPicklist") and values:
        if f.unmapped == "pass":
            yield _p(path + ("unmapped",), f"`unmapped: pass` can send values the restricted picklist "
                     f"`{f.salesforce}` refuses", "use unmapped: reject or default")
        written = set(f.reverse_value_map().values()) | ({str(f.default)} if f.default is not None else set())
        refused = sorted(v for v in written if v not in values)
        if refused:
            yield _p(path + ("reverse_map" if f.reverse_map else "value_map",), f"{_quoted(refused)} would be "
                     f"written to restricted picklist `{f.salesforce}`, which refuses them",
                     f"map to its values only: {', '.join(values)}")


def _active_picklist(described: dict[str, Any]) -> list[str]:
    return [p["value"] for p in described.get("picklistValues") or [] if p.get("active", True)]


def _quoted(values: list[str]) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _sf_identity(sf: _Describer, mapping: Mapping) -> Iterator[Problem]:
    obj = mapping.salesforce.object
    key_field = mapping.salesforce.jira_key_field
    described, why = sf.field(obj, key_field)
    if described is None:
        yield _p(("salesforce", "jira_key_field"), why, "create a Text field marked External ID and Unique")
    elif not described.get("externalId"):
        yield _p(("salesforce", "jira_key_field"), f"`{key_field}` is not an External ID, so writes cannot be "
                 "upserts by Jira key", "mark it External ID and Unique in Setup")
    elif not described.get("updateable", True):
        yield _p(("salesforce", "jira_key_field"), f"`{key_field}` is not updateable by the sync user",
                 "grant edit access to the field")
    url_field = mapping.salesforce.jira_url_field
    if url_field:
        described, why = sf.field(obj, url_field)
        if described is None:
            yield _p(("salesforce", "jira_url_field"), why, "create a URL field or remove jira_url_field")
    flag = mapping.deletes.jira_deleted
    if flag.action == "flag" and flag.field:
        described, why = sf.field(obj, flag.field)
        if described is None:
            yield _p(("deletes", "jira_deleted", "field"), why, "name a field of the synced object")


def _sf_comments(sf: _Describer, mapping: Mapping) -> Iterator[Problem]:
    comments = mapping.comments
    if comments is None:
        return
    side = comments.salesforce
    base = ("comments", "salesforce")
    if sf.fields(side.object) is None:
        yield _p(base + ("object",), f"Salesforce has no object `{side.object}` visible to the sync user",
                 "check the API name, e.g. CaseComment or Task")
        return
    for key in ("parent_field", "body_field", "duration_field"):
        name = getattr(side, key)
        if name:
            described, why = sf.field(side.object, name)
            if described is None:
                yield _p(base + (key,), why, f"name a field of {side.object}")
            elif key == "body_field" and comments.flows("jira_to_sf"):
                length = int(described.get("length") or 0)
                if length and (side.max_length is None or side.max_length > length):
                    yield _p(base + ("max_length",), f"{side.object}.{name} holds at most {length} characters",
                             f"add max_length: {length} (longer Jira comments are rejected)")


# -- Jira ------------------------------------------------------------------------------------------

class _JiraFields:
    def __init__(self, fields: list[dict[str, Any]]) -> None:
        self.by_id = {f["id"]: f for f in fields}
        self.by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for f in fields:
            self.by_name[f.get("name", "")].append(f)

    def find(self, ref: str) -> tuple[dict[str, Any] | None, str, str]:
        """(field, problem, fix) for a field id or name."""
        if ref in self.by_id:
            return self.by_id[ref], "", ""
        named = self.by_name.get(ref, [])
        if len(named) == 1:
            return named[0], "", ""
        if len(named) > 1:
            ids = ", ".join(f["id"] for f in named)
            return None, f"several Jira fields are named `{ref}` ({ids})", f"use the id instead, e.g. jira: {named[0]['id']}"
        hint = _did_you_mean(ref, [*self.by_id, *self.by_name])
        return None, f"Jira has no field `{ref}`", f"{hint}use a field id from GET /rest/api/3/field or its name"


def jira_problems(mapping: Mapping, jira_fields: list[dict[str, Any]],
                  createmeta: Any = None) -> list[Problem]:
    known = _JiraFields(jira_fields)
    problems: list[Problem] = []
    for path, f in _fields_with_paths(mapping):
        if f.jira in JIRA_SYSTEM_FIELDS:
            continue  # typed by the static catalog
        field, why, fix = known.find(f.jira)
        if field is None:
            problems.append(_p(path + ("jira",), why, fix))
            continue
        kind = jira_schema_key(field.get("schema") or {})
        fits = JIRA_SCHEMA_TYPES.get(kind)
        if fits is not None and f.type not in fits:
            problems.append(_p(path + ("type",), f"Jira `{f.jira}` is a {kind} field, which does not fit type "
                               f"{f.type}", f"set type: one of {', '.join(sorted(fits))}"))
    id_field = mapping.jira.salesforce_id_field
    if id_field:
        field, why, fix = known.find(id_field)
        if field is None:
            problems.append(_p(("jira", "salesforce_id_field"), why, fix))
        elif (field.get("schema") or {}).get("type") != "string":
            problems.append(_p(("jira", "salesforce_id_field"), f"`{id_field}` is not a text field",
                               "use a single-line text custom field (searchable with JQL)"))
    if createmeta is not None:
        problems.extend(_createmeta(mapping, known, normalise_createmeta(createmeta)))
    return problems


def normalise_createmeta(createmeta: Any) -> dict[str, dict[str, Any]]:
    """Both createmeta shapes, a plain list of field entries, or {field id: entry} (what
    JiraSyncHook.createmeta returns) -> {field id: entry}."""
    if isinstance(createmeta, list):
        return {e.get("fieldId") or e.get("key"): e for e in createmeta}
    if not any(k in createmeta for k in ("projects", "fields", "values", "results")):
        return {k: {"fieldId": k, **v} for k, v in createmeta.items()}
    if "projects" in createmeta:
        out: dict[str, dict[str, Any]] = {}
        for project in createmeta["projects"]:
            for issue_type in project.get("issuetypes", []):
                out.update({k: {"fieldId": k, **v} for k, v in issue_type.get("fields", {}).items()})
        return out
    return normalise_createmeta(createmeta.get("fields") or createmeta.get("values") or createmeta.get("results") or [])


def _createmeta(mapping: Mapping, known: _JiraFields, meta: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    where = f"{mapping.jira.project}/{mapping.jira.issue_type}"
    written: set[str] = set()
    for path, f in _fields_with_paths(mapping):
        field, _, _ = known.find(f.jira)
        fid = field["id"] if field else f.jira
        if not f.writes_jira or f.jira == "status":
            continue
        written.add(fid)
        if fid not in meta:
            yield _p(path + ("jira",), f"Jira `{f.jira}` is not on the create screen of {where}, so new issues "
                     "cannot get it", "add the field to the screen in Jira, or use direction: jira_to_sf")
            continue
        allowed = _allowed_values(meta[fid])
        offered = [v for v in (f.value_map.values() if f.value_map else []) if allowed and v not in allowed]
        if offered:
            yield _p(path + ("value_map",), f"Jira `{f.jira}` on {where} does not offer {_quoted(offered)}",
                     f"map to values it offers: {', '.join(allowed)}")
    id_field = mapping.jira.salesforce_id_field
    if id_field:
        field, _, _ = known.find(id_field)
        written.add(field["id"] if field else id_field)
        if (field["id"] if field else id_field) not in meta:
            yield _p(("jira", "salesforce_id_field"), f"`{id_field}` is not on the create screen of {where}",
                     "add it to the screen, or keep the id in salesforce_id_property only")
    for fid, entry in meta.items():
        if entry.get("required") and not entry.get("hasDefaultValue") and fid not in written \
                and fid not in ("project", "issuetype", "reporter"):
            yield _p(("fields",), f"Jira requires `{entry.get('name', fid)}` ({fid}) to create a {where} issue, "
                     "but no field fills it", "map a Salesforce field to it, or give it a default in Jira")


def _allowed_values(entry: dict[str, Any]) -> list[str]:
    return [str(v.get("value") or v.get("name")) for v in entry.get("allowedValues") or [] if isinstance(v, dict)]


def cross_problems(mapping: Mapping, describe: Describe, createmeta: Any) -> list[Problem]:
    """Pass-through picklists (no value_map): every Salesforce value must be a Jira option."""
    sf, meta = _Describer(describe), normalise_createmeta(createmeta)
    problems = []
    for path, f in _fields_with_paths(mapping):
        if not f.writes_jira or f.value_map or f.type != "picklist" or f.jira not in meta:
            continue
        described, _ = sf.field(mapping.salesforce.object, f.salesforce)
        allowed = _allowed_values(meta[f.jira])
        missing = [v for v in _active_picklist(described or {}) if allowed and v not in allowed]
        if missing:
            problems.append(_p(path + ("value_map",), f"Salesforce values {_quoted(missing)} are not options of "
                               f"Jira `{f.jira}`", "add the options in Jira, or add a value_map"))
    return problems


# -- entry points ----------------------------------------------------------------------------------

def check_live(mapping: Mapping, *, describe: Describe | None = None,
               jira_fields: list[dict[str, Any]] | None = None, createmeta: Any = None) -> None:
    """Run every check the given metadata allows; raise MappingProblems (code MAPPING_LIVE_MISMATCH)."""
    problems: list[Problem] = []
    if describe is not None:
        problems.extend(salesforce_problems(mapping, describe))
    if jira_fields is not None:
        problems.extend(jira_problems(mapping, jira_fields, createmeta))
    if describe is not None and createmeta is not None:
        problems.extend(cross_problems(mapping, describe, createmeta))
    raise_problems(problems, mapping.source_file, mapping.source_lines)


def resolve_jira_field_names(mapping: Mapping, jira_fields: list[dict[str, Any]]) -> Mapping:
    """A copy of `mapping` whose Jira fields given by name ("Deal Amount") use their ids."""
    known = _JiraFields(jira_fields)
    problems: list[Problem] = []

    def resolve(ref: str | None, path: Path) -> str | None:
        if ref is None or ref in JIRA_SYSTEM_FIELDS or ref in known.by_id:
            return ref
        field, why, fix = known.find(ref)
        if field is None:
            problems.append(_p(path, why, fix))
            return ref
        return field["id"]

    data = mapping.model_dump()
    for i, f in enumerate(data["fields"]):
        f["jira"] = resolve(f["jira"], ("fields", i, "jira"))
    data["jira"]["salesforce_id_field"] = resolve(data["jira"]["salesforce_id_field"],
                                                  ("jira", "salesforce_id_field"))
    raise_problems(problems, mapping.source_file, mapping.source_lines)
    return Mapping.model_validate(data).attach_source(mapping.source_file, mapping.source_lines)
