"""Create, update, upsert and delete, validated like a real org, landing together in one transaction.

A `Transaction` is one API call. Each operation is checked against the org plus the call's own earlier
operations and either joins the pending set or raises `RecordError` without touching it, so a
collection can keep its good records (or drop everything when allOrNone). `commit()` stamps and saves.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from emulators.salesforce.errors import ApiError, RecordError, SfError, entity_deleted, malformed_id
from emulators.salesforce.ids import normalize
from emulators.salesforce.org import Org
from emulators.salesforce.schema import FieldDef, SObjectDef
from emulators.salesforce.store import Record, unique_key
from emulators.salesforce.timefmt import format_datetime
from emulators.salesforce.values import coerce_body

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PERMISSION_HINT = ("Please check the security settings of this field and verify that it is read/write for your "
                    "profile or permission set.")


class MultipleMatches(Exception):
    """An external id value matched several records (the REST API answers 300)."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} records match")
        self.ids = ids


def external_id_field(obj: SObjectDef, name: str) -> FieldDef:
    field = obj.field(name)
    if field is None or not (field.external_id or field.name == "Id"):
        raise SfError(404, ApiError("NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}"))
    return field


def find_by_external_id(org: Org, obj: SObjectDef, field: FieldDef, value: Any) -> list[str]:
    if field.name == "Id":
        record_id = normalize(value)
        found = org.store.get(record_id) if record_id else None
        return [record_id] if found and found[0] == obj.name and not found[1]["IsDeleted"] else []
    if field.unique:
        match = org.store.find_unique(obj.name, field, value)
        return [match] if match else []
    key = unique_key(field, value)
    return [r["Id"] for r in org.store.live(obj.name)
            if r.get(field.name) is not None and unique_key(field, r[field.name]) == key]


class Transaction:
    def __init__(self, org: Org, user_id: str) -> None:
        self.org = org
        self.user_id = user_id
        self.pending: dict[str, tuple[str, Record]] = {}
        self._stamp: str | None = None
        self._children: dict[tuple[str, str], dict[str, list[str]]] = {}

    @property
    def stamp(self) -> str:
        # One SystemModstamp per call, like one DML batch; still strictly later than any earlier call.
        if self._stamp is None:
            self._stamp = format_datetime(self.org.clock.stamp())
        return self._stamp

    def lookup(self, record_id: str) -> tuple[str, Record] | None:
        return self.pending.get(record_id) or self.org.store.get(record_id)

    # -- operations ------------------------------------------------------------------------------
    def create(self, obj: SObjectDef, body: Any, raw: str = "") -> str:
        values = coerce_body(obj, body, raw)
        if "Id" in values:
            raise RecordError(ApiError("INVALID_FIELD", "cannot specify Id in an insert call", ("Id",)))
        _check_permission(obj, values, "createable")
        record: Record = {name: None for name in obj.fields}
        for f in obj.fields.values():
            if f.default is not None:
                record[f.name] = f.default
        if "OwnerId" in obj.fields:
            record["OwnerId"] = self.user_id
        record.update(values)
        self._validate(obj, record, values, record_id=None)
        record_id = self.org.new_id(obj.name)
        record.update(Id=record_id, IsDeleted=False, CreatedDate=self.stamp, CreatedById=self.user_id,
                      LastModifiedDate=self.stamp, LastModifiedById=self.user_id, SystemModstamp=self.stamp)
        for f in obj.fields.values():
            if f.auto_number:
                record[f.name] = f"{999 + self.org.next_sequence(f'{obj.name}.{f.name}'):08d}"
        compute_fields(obj, record)
        self.pending[record_id] = (obj.name, record)
        return record_id

    def update(self, obj: SObjectDef | None, raw_id: Any, body: Any, raw: str = "") -> str:
        sobject, old = self._existing(obj, raw_id)
        obj = self.org.schema.objects[sobject]
        body = dict(body) if isinstance(body, dict) else body
        if isinstance(body, dict):
            for key in [k for k in body if k.lower() == "id"]:
                if normalize(body.pop(key)) != old["Id"]:
                    raise RecordError(malformed_id(f"{obj.label} ID", raw_id))
        values = coerce_body(obj, body, raw)
        _check_permission(obj, values, "updateable")
        record = {**old, **values}
        self._validate(obj, record, values, record_id=old["Id"])
        record.update(LastModifiedDate=self.stamp, LastModifiedById=self.user_id, SystemModstamp=self.stamp)
        compute_fields(obj, record)
        self.pending[old["Id"]] = (sobject, record)
        return old["Id"]

    def upsert(self, obj: SObjectDef, field_name: str, value: Any, body: Any, raw: str = "") -> tuple[str, bool]:
        """(id, created). Raises MultipleMatches when the value is on several records."""
        field = external_id_field(obj, field_name)
        matches = self._matches(obj, field, value)
        if len(matches) > 1:
            raise MultipleMatches(matches)
        body = {k: v for k, v in (body or {}).items() if k.lower() != field.name.lower()} \
            if isinstance(body, dict) else body
        if matches:
            return self.update(obj, matches[0], body, raw), False
        if field.name != "Id" and isinstance(body, dict):
            body[field.name] = value
        return self.create(obj, body, raw), True

    def delete(self, raw_id: Any, obj: SObjectDef | None = None) -> str:
        sobject, record = self._existing(obj, raw_id)
        deleted = {sobject_id: rec for sobject_id, rec in self._cascade(sobject, record)}
        for record_id, (child_type, child) in deleted.items():
            self.pending[record_id] = (child_type, {**child, "IsDeleted": True, "SystemModstamp": self.stamp,
                                                    "LastModifiedDate": self.stamp,
                                                    "LastModifiedById": self.user_id})
        return record["Id"]

    def commit(self) -> None:
        if self.pending:
            self.org.remember_clock()
            saved = list(self.pending.values())
            self.org.store.save(saved)
            self.pending.clear()
            for listener in self.org.write_listeners:
                listener(saved)

    # -- helpers ---------------------------------------------------------------------------------
    def _existing(self, obj: SObjectDef | None, raw_id: Any) -> tuple[str, Record]:
        label = f"{obj.label} ID" if obj else "Record ID"
        record_id = normalize(raw_id)
        found = self.lookup(record_id) if record_id else None
        if record_id is None or (obj is not None and record_id[:3] != obj.key_prefix):
            raise RecordError(malformed_id(label, raw_id))
        if found is None:
            raise RecordError(ApiError("NOT_FOUND", "The requested resource does not exist"), status=404)
        if found[1]["IsDeleted"]:
            raise RecordError(entity_deleted(), status=404)
        return found

    def _matches(self, obj: SObjectDef, field: FieldDef, value: Any) -> list[str]:
        stored = [i for i in find_by_external_id(self.org, obj, field, value)
                  if i not in self.pending or self._still_matches(field, i, value)]
        if field.name == "Id":
            return stored
        key = unique_key(field, value)
        extra = [i for i, (t, r) in self.pending.items() if t == obj.name and i not in stored and not r["IsDeleted"]
                 and r.get(field.name) is not None and unique_key(field, r[field.name]) == key]
        return stored + extra

    def _still_matches(self, field: FieldDef, record_id: str, value: Any) -> bool:
        record = self.pending[record_id][1]
        return not record["IsDeleted"] and record.get(field.name) is not None and \
            unique_key(field, record[field.name]) == unique_key(field, value)

    def _validate(self, obj: SObjectDef, record: Record, changed: dict[str, Any], record_id: str | None) -> None:
        errors = [e for name in changed for e in self._check_value(obj.fields[name], record)]
        if errors:
            raise RecordError(*errors)
        missing = [f.name for f in obj.fields.values()
                   if f.required and f.createable and not f.compute and record.get(f.name) is None]
        if missing:
            raise RecordError(ApiError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                                       tuple(missing)))
        duplicates = [self._duplicate(obj, f, record, record_id) for f in obj.unique_fields if f.name in changed]
        if any(duplicates):
            raise RecordError(*[d for d in duplicates if d])

    def _check_value(self, field: FieldDef, record: Record) -> list[ApiError]:
        value = record.get(field.name)
        if value is None:
            return []
        if field.is_text and len(value) > field.length:
            return [ApiError("STRING_TOO_LONG",
                             f"{field.label}: data value too large: {value} (max length={field.length})", (field.name,))]
        if field.type == "picklist" and field.restricted and value not in field.values:
            return [ApiError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                             f"{field.label}: bad value for restricted picklist field: {value}", (field.name,))]
        if field.type == "email" and not _EMAIL_RE.match(value):
            return [ApiError("INVALID_EMAIL_ADDRESS", f"{field.label}: invalid email address: {value}", (field.name,))]
        if field.type == "reference":
            return self._check_reference(field, record)
        return []

    def _check_reference(self, field: FieldDef, record: Record) -> list[ApiError]:
        value = record[field.name]
        record_id = normalize(value)
        if record_id is None:
            return [malformed_id(field.label, value, (field.name,))]
        target = self.org.schema.for_id(record_id)
        if target is None or target.name not in field.reference_to:
            return [ApiError("FIELD_INTEGRITY_EXCEPTION", f"{field.label}: id value of incorrect type: {value}",
                             (field.name,))]
        found = self.lookup(record_id)
        if found is None:
            return [ApiError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", (field.name,))]
        if found[1]["IsDeleted"]:
            return [ApiError("ENTITY_IS_DELETED", "entity is deleted", (field.name,))]
        record[field.name] = record_id
        return []

    def _duplicate(self, obj: SObjectDef, field: FieldDef, record: Record, record_id: str | None) -> ApiError | None:
        value = record.get(field.name)
        if value is None:
            return None
        others = [i for i in self._matches(obj, field, value) if i != record_id]
        if not others:
            return None
        return ApiError("DUPLICATE_VALUE", f"duplicate value found: {field.name} duplicates value on record with id: "
                                           f"{others[0][:15]}", (field.name,))

    def _cascade(self, sobject: str, record: Record) -> list[tuple[str, tuple[str, Record]]]:
        """The record and, recursively, the live children a cascade delete takes with it."""
        out = [(record["Id"], (sobject, record))]
        for child in self.org.schema.objects.values():
            for f in child.fields.values():
                if f.cascade_delete and sobject in f.reference_to:
                    for child_id in self._children_of(child.name, f.name).get(record["Id"], []):
                        found = self.lookup(child_id)
                        if found and not found[1]["IsDeleted"]:
                            out.extend(self._cascade(found[0], found[1]))
        return out

    def _children_of(self, sobject: str, field_name: str) -> dict[str, list[str]]:
        # Built once per call: a collection deleting 200 parents scans each child table once.
        key = (sobject, field_name)
        if key not in self._children:
            index: dict[str, list[str]] = defaultdict(list)
            for r in self.org.store.live(sobject):
                if r.get(field_name):
                    index[r[field_name]].append(r["Id"])
            for record_id, (t, r) in self.pending.items():
                if t == sobject and r.get(field_name) and record_id not in index[r[field_name]]:
                    index[r[field_name]].append(record_id)
            self._children[key] = index
        return self._children[key]


def _check_permission(obj: SObjectDef, values: dict[str, Any], flag: str) -> None:
    refused = [name for name in values if not getattr(obj.fields[name], flag)]
    if refused:
        raise RecordError(ApiError("INVALID_FIELD_FOR_INSERT_UPDATE",
                                   f"Unable to create/update fields: {', '.join(refused)}. {_PERMISSION_HINT}",
                                   tuple(refused)))


def compute_fields(obj: SObjectDef, record: Record) -> None:
    for f in obj.fields.values():
        if f.compute == "full_name":
            record[f.name] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p) or None

