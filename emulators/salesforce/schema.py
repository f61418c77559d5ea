"""The org's schema, read from schema.yaml (plus optional extra files), and its describe output."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

import yaml

SCHEMA_FILE = Path(__file__).with_name("schema.yaml")

FIELD_TYPES = ("id", "string", "textarea", "email", "url", "phone", "picklist", "multipicklist", "boolean",
               "currency", "double", "percent", "int", "date", "datetime", "reference")
TEXT_TYPES = frozenset({"string", "textarea", "email", "url", "phone", "picklist", "multipicklist"})
ID_TYPES = frozenset({"id", "reference"})
NUMBER_TYPES = frozenset({"currency", "double", "percent", "int"})
COMPUTED = ("full_name",)
_DEFAULT_LENGTH = {"id": 18, "reference": 18, "string": 255, "textarea": 32000, "email": 80, "url": 255,
                   "phone": 40, "picklist": 255, "multipicklist": 4099}
_SOAP_TYPE = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "currency": "xsd:double",
              "double": "xsd:double", "percent": "xsd:double", "int": "xsd:int", "date": "xsd:date",
              "datetime": "xsd:dateTime"}
_FIELD_KEYS = frozenset({"type", "label", "length", "required", "default", "values", "restricted", "externalId",
                         "unique", "caseSensitive", "referenceTo", "relationshipName", "childRelationship",
                         "cascadeDelete", "createable", "updateable", "compute", "autoNumber", "precision",
                         "scale"})


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    label: str
    length: int = 0
    required: bool = False
    default: Any = None
    values: tuple[str, ...] = ()
    restricted: bool = False
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    child_relationship: str | None = None
    cascade_delete: bool = False
    createable: bool = True
    updateable: bool = True
    compute: str | None = None
    auto_number: bool = False
    precision: int = 0
    scale: int = 0

    @property
    def nillable(self) -> bool:
        return not self.required and self.type != "boolean"

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name, "label": self.label, "type": self.type, "length": self.length,
            "byteLength": self.length * 3, "precision": self.precision, "scale": self.scale,
            "digits": self.precision if self.type == "int" else 0, "soapType": _SOAP_TYPE.get(self.type, "xsd:string"),
            "nillable": self.nillable, "createable": self.createable, "updateable": self.updateable,
            "defaultedOnCreate": self.default is not None or self.auto_number or self.name in _SYSTEM_DEFAULTED,
            "defaultValue": self.default, "externalId": self.external_id, "unique": self.unique,
            "caseSensitive": self.case_sensitive, "idLookup": self.name == "Id" or self.external_id,
            "custom": self.name.endswith("__c"), "calculated": self.compute is not None,
            "autoNumber": self.auto_number, "filterable": True, "sortable": self.type != "textarea",
            "groupable": self.type not in NUMBER_TYPES | {"textarea", "datetime"},
            "picklistValues": [
                {"active": True, "defaultValue": value == self.default, "label": value, "validFor": None,
                 "value": value} for value in self.values],
            "restrictedPicklist": self.restricted, "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name, "cascadeDelete": self.cascade_delete,
            "polymorphicForeignKey": len(self.reference_to) > 1,
        }


_SYSTEM_DEFAULTED = frozenset({"Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate",
                               "LastModifiedById", "SystemModstamp", "OwnerId"})


def _system_fields(owned: bool) -> list[FieldDef]:
    read_only = {"createable": False, "updateable": False}
    fields = [
        FieldDef("Id", "id", "Record ID", 18, required=True, **read_only),
        FieldDef("IsDeleted", "boolean", "Deleted", **read_only),
        FieldDef("CreatedDate", "datetime", "Created Date", required=True, **read_only),
        FieldDef("CreatedById", "reference", "Created By ID", 18, required=True, reference_to=("User",),
                 relationship_name="CreatedBy", **read_only),
        FieldDef("LastModifiedDate", "datetime", "Last Modified Date", required=True, **read_only),
        FieldDef("LastModifiedById", "reference", "Last Modified By ID", 18, required=True,
                 reference_to=("User",), relationship_name="LastModifiedBy", **read_only),
        FieldDef("SystemModstamp", "datetime", "System Modstamp", required=True, **read_only),
    ]
    if owned:
        fields.append(FieldDef("OwnerId", "reference", "Owner ID", 18, required=True, reference_to=("User",),
                               relationship_name="Owner"))
    return fields


@dataclass
class SObjectDef:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: dict[str, FieldDef]
    _by_lower: dict[str, FieldDef] = dc_field(default_factory=dict)
    _relationships: dict[str, FieldDef] = dc_field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_lower = {name.lower(): f for name, f in self.fields.items()}
        self._relationships = {f.relationship_name.lower(): f for f in self.fields.values() if f.relationship_name}

    def field(self, name: str) -> FieldDef | None:
        """Case-insensitive, like the API."""
        return self._by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        return self._relationships.get(name.lower())

    @property
    def unique_fields(self) -> list[FieldDef]:
        return [f for f in self.fields.values() if f.unique]

    def urls(self, version: str) -> dict[str, str]:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}

    def summary(self, version: str) -> dict[str, Any]:
        return {
            "name": self.name, "label": self.label, "labelPlural": self.label_plural, "keyPrefix": self.key_prefix,
            "custom": self.name.endswith("__c"), "createable": True, "updateable": True, "deletable": True,
            "queryable": True, "retrieveable": True, "searchable": True, "undeletable": True,
            "replicateable": True, "triggerable": True, "layoutable": True, "urls": self.urls(version),
        }


@dataclass
class Schema:
    objects: dict[str, SObjectDef]

    def __post_init__(self) -> None:
        self._by_lower = {name.lower(): obj for name, obj in self.objects.items()}
        self._by_prefix = {obj.key_prefix: obj for obj in self.objects.values()}

    def get(self, name: str) -> SObjectDef | None:
        return self._by_lower.get(name.lower())

    def for_id(self, record_id: str) -> SObjectDef | None:
        return self._by_prefix.get(record_id[:3])

    def describe(self, obj: SObjectDef, version: str) -> dict[str, Any]:
        children = [
            {"childSObject": child.name, "field": f.name, "relationshipName": f.child_relationship,
             "cascadeDelete": f.cascade_delete, "deprecatedAndHidden": False, "restrictedDelete": False}
            for child in self.objects.values() for f in child.fields.values()
            if obj.name in f.reference_to and f.child_relationship
        ]
        return {**obj.summary(version), "fields": [f.describe() for f in obj.fields.values()],
                "childRelationships": children, "recordTypeInfos": [], "supportedScopes": [],
                "activateable": False, "compactLayoutable": True, "feedEnabled": False, "mergeable": False,
                "mruEnabled": True, "queryable": True}


def load_schema(extra_files: Iterable[Path] = (), extra_inline: Mapping[str, Any] | None = None) -> Schema:
    """schema.yaml, then each extra file, then an inline document, merged field by field."""
    merged: dict[str, Any] = yaml.safe_load(SCHEMA_FILE.read_text())["objects"]
    docs = [yaml.safe_load(Path(p).read_text()) for p in extra_files]
    if extra_inline:
        docs.append(copy.deepcopy(dict(extra_inline)))
    for doc in docs:
        for name, spec in (doc or {}).get("objects", {}).items():
            target = merged.setdefault(name, {"fields": {}})
            target.update({k: v for k, v in spec.items() if k != "fields"})
            target.setdefault("fields", {}).update(spec.get("fields") or {})
    return Schema({name: _build_object(name, spec) for name, spec in merged.items()})


def _build_object(name: str, spec: Mapping[str, Any]) -> SObjectDef:
    prefix = str(spec.get("keyPrefix", ""))
    if len(prefix) != 3 or not prefix.isalnum():
        raise ValueError(f"object {name}: keyPrefix must be 3 letters or digits (like '001'), got {prefix!r}")
    fields = {f.name: f for f in _system_fields(bool(spec.get("owned")))}
    for field_name, field_spec in (spec.get("fields") or {}).items():
        fields[field_name] = _build_field(name, field_name, field_spec or {})
    return SObjectDef(name, str(spec.get("label", name)), str(spec.get("labelPlural", f"{name}s")), prefix, fields)


def _build_field(obj: str, name: str, spec: Mapping[str, Any]) -> FieldDef:
    where = f"{obj}.{name}"
    unknown = set(spec) - _FIELD_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {', '.join(sorted(_FIELD_KEYS))}")
    kind = spec.get("type")
    if kind not in FIELD_TYPES:
        raise ValueError(f"{where}: type {kind!r} is not one of {', '.join(FIELD_TYPES)}")
    if spec.get("compute") not in (None, *COMPUTED):
        raise ValueError(f"{where}: compute {spec['compute']!r} is not one of {', '.join(COMPUTED)}")
    reference_to = spec.get("referenceTo") or ()
    reference_to = (reference_to,) if isinstance(reference_to, str) else tuple(reference_to)
    if kind == "reference" and not reference_to:
        raise ValueError(f"{where}: a reference field needs referenceTo (an object name or a list)")
    read_only = bool(spec.get("compute") or spec.get("autoNumber"))
    return FieldDef(
        name=name, type=kind, label=str(spec.get("label", name)),
        length=int(spec.get("length", _DEFAULT_LENGTH.get(kind, 0))),
        required=bool(spec.get("required", False)), default=spec.get("default"),
        values=tuple(str(v) for v in spec.get("values") or ()), restricted=bool(spec.get("restricted", False)),
        external_id=bool(spec.get("externalId", False)), unique=bool(spec.get("unique", False)),
        case_sensitive=bool(spec.get("caseSensitive", False)), reference_to=reference_to,
        relationship_name=spec.get("relationshipName"), child_relationship=spec.get("childRelationship"),
        cascade_delete=bool(spec.get("cascadeDelete", False)),
        createable=bool(spec.get("createable", not read_only)), updateable=bool(spec.get("updateable", not read_only)),
        compute=spec.get("compute"), auto_number=bool(spec.get("autoNumber", False)),
        precision=int(spec.get("precision", 18 if kind in NUMBER_TYPES else 0)), scale=int(spec.get("scale", 0)),
    )
