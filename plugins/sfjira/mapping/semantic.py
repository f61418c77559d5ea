"""Rules that relate several values of a mapping. Each returns Problems with their own path and fix."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterator

from sfjira.hooks.soql_condition import ConditionError, check_condition
from sfjira.mapping.catalog import (
    JIRA_SYSTEM_FIELDS,
    MAPPABLE_TYPES,
    SF_READ_ONLY,
    is_jira_field_id,
)
from sfjira.mapping.errors import Problem
from sfjira.mapping.model import FieldMapping, Mapping, template_fields
from sfjira.mapping.yamlsrc import Path, format_path
from sfjira.values.coerce import coerce_scalar  # the transform's own parser decides what is valid
from sfjira.values.multivalue import MULTI_SEPARATOR

OWNERS = "salesforce, jira, latest"
_TEXT_STEPS = frozenset({"strip", "lower", "upper", "single_line"})


def check(mapping: Mapping) -> list[Problem]:
    problems: list[Problem] = []
    for path, f in _fields_with_paths(mapping):
        problems.extend(_field(f, path, is_status=path == ("status",)))
    for rule in (_identity, _duplicates, _summary, _comments, _deletes, _pii, _where):
        problems.extend(rule(mapping))
    return problems


def _fields_with_paths(mapping: Mapping) -> Iterator[tuple[Path, FieldMapping]]:
    for i, f in enumerate(mapping.fields):
        yield ("fields", i), f
    if mapping.status:
        yield ("status",), mapping.status.as_field()


def _field(f: FieldMapping, path: Path, is_status: bool) -> Iterator[Problem]:
    yield from _direction(f, path)
    yield from _jira_target(f, path, is_status)
    yield from _sf_target(f, path)
    yield from _value_maps(f, path)
    yield from _default(f, path)
    yield from _lengths(f, path)
    yield from _transforms(f, path)


def _direction(f: FieldMapping, path: Path) -> Iterator[Problem]:
    if f.direction == "both" and f.owner is None:
        yield Problem(path + ("owner",), "`direction: both` needs `owner`", f"add owner: one of {OWNERS}",
                      at=path + ("direction",))
    if f.direction != "both" and f.owner is not None:
        source = "salesforce" if f.direction == "sf_to_jira" else "jira"
        if f.owner != source:
            yield Problem(path + ("owner",), f"`owner: {f.owner}` contradicts `direction: {f.direction}` "
                          f"(only {source} writes this field, so there is no conflict to decide)",
                          "remove owner, or set direction: both")


def _jira_target(f: FieldMapping, path: Path, is_status: bool) -> Iterator[Problem]:
    system = JIRA_SYSTEM_FIELDS.get(f.jira)
    if system is None:
        close = [name for name in JIRA_SYSTEM_FIELDS if name.lower() == f.jira.lower().replace(" ", "")]
        if close and not is_jira_field_id(f.jira):
            yield Problem(path + ("jira",), f"`{f.jira}` is not a Jira field id",
                          f"write `{close[0]}` (system fields are spelled in lower camel case)")
        return
    if f.type not in system.types:
        yield Problem(path + ("type",), f"Jira `{f.jira}` holds {' or '.join(sorted(system.types))} values, "
                      f"not {f.type}", f"set type: {sorted(system.types)[0]}")
    if f.writes_jira and not system.writable and not is_status:
        if f.jira == "status":
            yield Problem(path + ("jira",), "Jira status changes only through workflow transitions",
                          "move this field to the `status:` section, or use direction: jira_to_sf")
        else:
            yield Problem(path + ("direction",), f"Jira `{f.jira}` is read-only", "use direction: jira_to_sf")


def _sf_target(f: FieldMapping, path: Path) -> Iterator[Problem]:
    if not f.writes_salesforce:
        return
    if "." in f.salesforce:
        yield Problem(path + ("direction",), f"`{f.salesforce}` belongs to a related record and cannot be written "
                      "through this object", "use direction: sf_to_jira")
    elif f.salesforce in SF_READ_ONLY:
        yield Problem(path + ("direction",), f"Salesforce `{f.salesforce}` is read-only",
                      "use direction: sf_to_jira")


def _value_maps(f: FieldMapping, path: Path) -> Iterator[Problem]:
    if (f.value_map or f.reverse_map) and f.type not in MAPPABLE_TYPES:
        yield Problem(path + ("value_map",), f"value maps do not apply to type {f.type}",
                      f"remove value_map/reverse_map, or use type: one of {', '.join(sorted(MAPPABLE_TYPES))}")
        return
    if f.reverse_map and f.direction == "sf_to_jira":
        yield Problem(path + ("reverse_map",), "reverse_map is only used when Jira writes to Salesforce",
                      "remove it, or set direction: both")
    if f.direction == "both":
        sources: dict[str, list[str]] = defaultdict(list)
        for sf_value, jira_value in f.value_map.items():
            sources[jira_value].append(sf_value)
        for jira_value, sf_values in sources.items():
            if len(sf_values) > 1 and jira_value not in f.reverse_map:
                yield Problem(path + ("value_map",), f"value_map is not reversible: Jira `{jira_value}` comes from "
                              f"{' and '.join(f'`{v}`' for v in sf_values)}, so a change made in Jira cannot be "
                              "mapped back", f"add reverse_map: {{{jira_value}: {sf_values[0]}}} (or the value it "
                              "should become)")
    if f.value_map:
        for jira_value, sf_value in f.reverse_map.items():
            if sf_value not in f.value_map:
                yield Problem(path + ("reverse_map", jira_value), f"reverse_map sends Jira `{jira_value}` to "
                              f"`{sf_value}`, which value_map does not list",
                              f"use one of {', '.join(f.value_map)} or add `{sf_value}` to value_map")
    if f.type == "multi-picklist":
        for value in [*f.value_map, *f.value_map.values(), *f.reverse_map, *f.reverse_map.values()]:
            if MULTI_SEPARATOR in value:
                yield Problem(path + ("value_map",), f"`{value}` contains '{MULTI_SEPARATOR}', which separates "
                              "multi-picklist values", "rename the value")
    if f.unmapped == "default" and f.default is None:
        yield Problem(path + ("default",), "`unmapped: default` needs a `default`",
                      "add default: <a Salesforce-side value>", at=path + ("unmapped",))
    if f.unmapped != "reject" and not (f.value_map or f.reverse_map) and f.type != "user":
        yield Problem(path + ("unmapped",), "`unmapped` only matters with a value_map",
                      "add a value_map or remove unmapped")


def _default(f: FieldMapping, path: Path) -> Iterator[Problem]:
    if f.default is None:
        return

    value, code = coerce_scalar(f.default, f.type)
    if code or value is None:
        yield Problem(path + ("default",), f"default `{f.default}` is not a valid {f.type} ({code or 'empty'})",
                      _TYPE_EXAMPLES.get(f.type, "give a value of the field's type"))
    elif f.value_map and f.writes_jira and f.type != "multi-picklist" and value not in f.value_map \
            and f.unmapped != "pass":
        yield Problem(path + ("default",), f"default `{value}` is not a key of value_map, so it has no Jira value",
                      f"use one of {', '.join(f.value_map)} (defaults are Salesforce-side values)")


_TYPE_EXAMPLES = {
    "date": "write it as yyyy-mm-dd, e.g. '2026-01-31'",
    "datetime": "write it with an offset, e.g. '2026-01-31T09:00:00.000+0000'",
    "number": "write a decimal number, e.g. '0' or '12.5'",
    "currency": "write a decimal number, e.g. '0.00'",
    "integer": "write a whole number, e.g. 0",
    "boolean": "write true or false",
}


def _lengths(f: FieldMapping, path: Path) -> Iterator[Problem]:
    system = JIRA_SYSTEM_FIELDS.get(f.jira)
    if f.max_length is not None and f.type not in ("string", "text", "multi-picklist"):
        yield Problem(path + ("max_length",), f"max_length does not apply to type {f.type}", "remove max_length")
    if f.max_length is not None and f.value_map:
        yield Problem(path + ("max_length",), "max_length cannot be combined with a value_map (the mapped values "
                      "are fixed text)", "remove max_length, or shorten the mapped values")
    if f.on_overflow is not None and f.max_length is None:
        yield Problem(path + ("max_length",), "`on_overflow` needs `max_length`", "add max_length: <characters>",
                      at=path + ("on_overflow",))
    if f.type == "multi-picklist" and f.on_overflow == "truncate":
        yield Problem(path + ("on_overflow",), "a list of values cannot be truncated without losing some of them",
                      "use on_overflow: reject")
    if not (system and system.max_length and f.writes_jira and f.type in ("string", "text")):
        return
    if f.max_length is None and f.jira == "summary":
        yield Problem(path + ("max_length",), f"Jira summary holds at most {system.max_length} characters, and "
                      "nothing limits what Salesforce sends", f"add max_length: {system.max_length} with "
                      "on_overflow: truncate or reject", at=path + ("jira",))
    elif f.max_length is not None and f.max_length > system.max_length:
        yield Problem(path + ("max_length",), f"max_length {f.max_length} exceeds the {system.max_length} "
                      f"characters Jira `{f.jira}` holds", f"use max_length: {system.max_length} or less")


def _transforms(f: FieldMapping, path: Path) -> Iterator[Problem]:
    for i, step in enumerate(f.transforms):
        where = path + ("transforms", i)
        if step.name == "template":
            yield from _template(f, step.arg, i, where)
        elif step.name in _TEXT_STEPS and f.type not in ("string", "text", "picklist", "user"):
            yield Problem(where, f"`{step.name}` works on text, not on type {f.type}", "remove it")
        elif step.name == "round" and f.type not in ("number", "currency"):
            yield Problem(where, f"`round` works on number and currency fields, not on {f.type}", "remove it")
    if f.separator and f.type != "multi-picklist":
        yield Problem(path + ("separator",), "separator applies to multi-picklist fields", "remove it")


def _template(f: FieldMapping, template: object, index: int, where: Path) -> Iterator[Problem]:
    if index != 0:
        yield Problem(where, "a template builds the value, so it must be the first transform",
                      "move it to the top of the list")
    if f.direction == "both":
        yield Problem(where, "a template combines several fields and cannot be reversed",
                      "use direction: sf_to_jira (or jira_to_sf)")
    if f.type not in ("string", "text"):
        yield Problem(where, f"a template makes text, not {f.type}", "set type: string or text")
    try:
        template_fields(str(template))
    except ValueError as err:
        yield Problem(where, f"template {template!r}: {err}",
                      "use only {FieldName} placeholders (no format specs); write {{ and }} for literal braces")


def _identity(mapping: Mapping) -> Iterator[Problem]:
    jira = mapping.jira
    if not jira.salesforce_id_field and not jira.salesforce_id_property:
        yield Problem(("jira", "salesforce_id_field"), "Jira has nowhere to keep the Salesforce id, so a retried "
                      "run could create an issue twice", "add salesforce_id_field: customfield_NNNNN (a text field, "
                      "searchable by JQL) and/or salesforce_id_property: sfjira")
    if jira.salesforce_id_field and jira.salesforce_id_field in JIRA_SYSTEM_FIELDS:
        yield Problem(("jira", "salesforce_id_field"), f"`{jira.salesforce_id_field}` is a system field",
                      "use a text custom field, e.g. customfield_10050")
    prop = jira.salesforce_id_property
    if prop and (len(prop) > 255 or not prop.replace("_", "").replace("-", "").replace(".", "").isalnum()):
        yield Problem(("jira", "salesforce_id_property"), f"`{prop}` is not a usable entity property key",
                      "use letters, digits, '.', '-' or '_', e.g. sfjira")


def _duplicates(mapping: Mapping) -> Iterator[Problem]:
    jira_writers: dict[str, list[Path]] = defaultdict(list)
    sf_writers: dict[str, list[Path]] = defaultdict(list)
    keys: dict[str, list[Path]] = defaultdict(list)
    if mapping.jira.salesforce_id_field:
        jira_writers[mapping.jira.salesforce_id_field].append(("jira", "salesforce_id_field"))
    sf_writers[mapping.salesforce.jira_key_field].append(("salesforce", "jira_key_field"))
    if mapping.salesforce.jira_url_field:
        sf_writers[mapping.salesforce.jira_url_field].append(("salesforce", "jira_url_field"))
    for path, f in _fields_with_paths(mapping):
        keys[f.canonical_key].append(path)
        if f.writes_jira:
            jira_writers[f.jira].append(path)
        if f.writes_salesforce:
            sf_writers[f.salesforce].append(path)
    for side, writers, fix in (("Jira", jira_writers, "keep one of them, or make one direction: jira_to_sf"),
                               ("Salesforce", sf_writers, "keep one of them, or make one direction: sf_to_jira")):
        for name, paths in writers.items():
            for later in paths[1:]:
                yield Problem(later, f"{side} `{name}` is also written by `{format_path(paths[0])}`", fix)
    for key, paths in keys.items():
        for later in paths[1:]:
            yield Problem(later + ("key",), f"canonical key `{key}` is also used by `{format_path(paths[0])}`",
                          "set key: <a unique name> on one of them", at=later + ("salesforce",))


def _summary(mapping: Mapping) -> Iterator[Problem]:
    if not mapping.fields_for("sf_to_jira"):
        return
    summary = [(p, f) for p, f in _fields_with_paths(mapping) if f.jira == "summary" and f.writes_jira]
    if not summary:
        yield Problem(("fields",), "no field fills the Jira summary, which Jira needs to create an issue",
                      "map a field to it, e.g. {salesforce: Name, jira: summary, required: true, max_length: 255, "
                      "on_overflow: truncate}")
    for path, f in summary:
        if not f.required and f.default is None:
            yield Problem(path + ("required",), "Jira needs a summary, but records without one would be sent",
                          "add required: true (such records are rejected with REQUIRED_MISSING) or a default",
                          at=path + ("jira",))


def _comments(mapping: Mapping) -> Iterator[Problem]:
    comments = mapping.comments
    if comments is None:
        return
    if comments.jira.kind == "worklog" and not comments.salesforce.duration_field:
        yield Problem(("comments", "salesforce", "duration_field"), "a Jira worklog needs the time spent",
                      "add duration_field: <the Salesforce number field holding minutes>")
    if not comments.marker.strip():
        yield Problem(("comments", "marker"), "the marker is blank, so copied comments could echo back",
                      'use visible text, e.g. "[sfjira]"')


def _deletes(mapping: Mapping) -> Iterator[Problem]:
    sf, jira = mapping.deletes.salesforce_deleted, mapping.deletes.jira_deleted
    base = ("deletes", "salesforce_deleted")
    if sf.action == "transition" and not sf.status:
        yield Problem(base + ("status",), "`action: transition` needs the target `status`",
                      "add status: <a Jira status, e.g. Done>")
    if sf.action == "label" and not sf.label:
        yield Problem(base + ("label",), "`action: label` needs the `label` to add", "add label: salesforce-deleted")
    if sf.label and " " in sf.label:
        yield Problem(base + ("label",), "Jira labels cannot contain spaces", "use - or _ instead of spaces")
    if sf.status and sf.action != "transition":
        yield Problem(base + ("status",), "`status` is only used with action: transition", "remove it")
    if sf.label and sf.action != "label":
        yield Problem(base + ("label",), "`label` is only used with action: label", "remove it")
    base = ("deletes", "jira_deleted")
    if jira.action == "flag" and (not jira.field or jira.value is None):
        yield Problem(base + ("field" if not jira.field else "value",), "`action: flag` needs `field` and `value`",
                      "add field: <a Salesforce field> and value: <text to write>, e.g. Jira_Status__c / Deleted")
    if (jira.field or jira.value is not None) and jira.action != "flag":
        yield Problem(base + ("field",), "`field`/`value` are only used with action: flag", "remove them")


def _pii(mapping: Mapping) -> Iterator[Problem]:
    known = {name for f in mapping.synced_fields for name in (f.salesforce, f.jira, f.canonical_key)}
    for i, name in enumerate(mapping.pii):
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            yield Problem(("pii", i), f"`{name}` is not a mapped field", f"{hint}list mapped fields only (Salesforce "
                          "name, Jira field or key)")


def _where(mapping: Mapping) -> Iterator[Problem]:
    where = mapping.salesforce.where
    if where is None or not where.strip():
        return  # no filter: every record of the object (as where_clause reads it)
    try:
        check_condition(where)
    except ConditionError as err:
        yield Problem(("salesforce", "where"), err.message, err.fix, code=err.code)
