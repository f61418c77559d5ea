"""The mapping file, typed. One `Mapping` per synced object pair (include/mappings/<name>.yaml).

Structure and single-value rules live here (pydantic); rules that relate several values
(direction/owner, reversibility, duplicate targets, Jira limits) live in mapping/semantic.py so
that each problem can name its own path and fix. See mapping/README.md for the documented format.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sfjira.mapping.catalog import FIELD_TYPES, SF_FIELD_PATH, FieldType
from sfjira.mapping.yamlsrc import SourceLines

if TYPE_CHECKING:
    import pandas as pd

Direction = Literal["sf_to_jira", "jira_to_sf", "both"]
FlowDirection = Literal["sf_to_jira", "jira_to_sf"]
Owner = Literal["salesforce", "jira", "latest"]
Unmapped = Literal["reject", "default", "pass"]
Overflow = Literal["truncate", "reject"]
TransformName = Literal["strip", "lower", "upper", "single_line", "template", "round"]

__all__ = ["FIELD_TYPES", "CommentsMapping", "DeletesPolicy", "Direction", "FieldMapping", "FieldType",
           "FlowDirection", "JiraSide", "Mapping", "Owner", "SalesforceSide", "StatusMapping", "TransformStep",
           "fail"]

PII_MASK = "***"


def fail(message: str, fix: str) -> PydanticCustomError:
    """A validation error that carries its own fix (read back by mapping/errors.py)."""
    return PydanticCustomError("sfjira", "{message}", {"message": message, "fix": fix})


def _sf_path(value: str) -> str:
    if not SF_FIELD_PATH.match(value):
        raise fail(f"`{value}` is not a Salesforce field name",
                   "use the API name, e.g. Subject, Jira_Key__c or a parent field like Account.Name")
    return value


def _sf_name(value: str) -> str:
    if "." in value:
        raise fail(f"`{value}` is a parent field; this setting needs a field of the object itself",
                   "use a field of the synced object, e.g. Jira_Key__c")
    return _sf_path(value)


SfPath = Annotated[str, AfterValidator(_sf_path)]
SfName = Annotated[str, AfterValidator(_sf_name)]

_OVERLAP = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str) -> timedelta:
    match = _OVERLAP.match(text.strip()) if text else None
    if not text or not match or not any(match.groups()):
        raise fail(f"`{text}` is not a duration", 'write it like "10m", "90s", "1h30m" or "2d"')
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _check_overlap(text: str) -> str:
    parse_duration(text)
    return text


def _check_cron(text: str) -> str:
    from croniter import croniter  # Airflow's own cron dependency

    if not croniter.is_valid(text):
        raise fail(f"`{text}` is not a cron expression",
                   'use five fields like "*/15 * * * *" or a preset such as @hourly or @daily')
    return text


def _check_start(value: date | datetime | None) -> date | datetime | None:
    if isinstance(value, datetime) and value.tzinfo is None:
        raise fail("start_date has no time zone, so it would be read differently on differently configured "
                   "workers", "add one, e.g. 2026-01-01T00:00:00Z, or give a plain date (read as UTC midnight)")
    return value


def _iso_scalar(value: Any) -> Any:
    """YAML turns 2026-01-01 into a date; defaults are kept as the text the transform parses."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TransformStep(_Strict):
    """One safe named transform: strip, lower, upper, single_line, {template: "..."} or {round: N}."""

    name: TransformName
    arg: str | int | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value}
        if isinstance(value, dict) and len(value) == 1 and "name" not in value:
            (name, arg), = value.items()
            return {"name": name, "arg": arg}
        return value

    @model_validator(mode="after")
    def _check_arg(self) -> TransformStep:
        if self.name == "template" and not isinstance(self.arg, str):
            raise fail("`template` needs the text with {Field} placeholders",
                       'write it as {template: "{Name} ({Account.Name})"}')
        if self.name == "round" and (isinstance(self.arg, bool) or not isinstance(self.arg, int)
                                     or not 0 <= self.arg <= 18):
            raise fail("`round` needs the number of decimal places (0-18)", "write it as {round: 2}")
        if self.name not in ("template", "round") and self.arg is not None:
            raise fail(f"`{self.name}` takes no argument", f"write it as a plain list item: - {self.name}")
        return self


class FieldMapping(_Strict):
    """One mapped field. Values of `value_map` are Salesforce value -> Jira value, whatever the direction."""

    salesforce: SfPath
    jira: str = Field(min_length=1)
    key: str | None = None
    direction: Direction = "sf_to_jira"
    owner: Owner | None = None
    type: FieldType = "string"
    value_map: dict[str, str] = Field(default_factory=dict)
    reverse_map: dict[str, str] = Field(default_factory=dict)
    unmapped: Unmapped = "reject"
    default: Annotated[Any, BeforeValidator(_iso_scalar)] = None
    required: bool = False
    max_length: int | None = Field(default=None, gt=0)
    on_overflow: Overflow | None = None
    separator: str | None = Field(default=None, min_length=1)
    transforms: list[TransformStep] = Field(default_factory=list)
    pii: bool = False

    @property
    def canonical_key(self) -> str:
        """Column name of this field in canonical frames (defaults to the Salesforce field)."""
        return self.key or self.salesforce

    @property
    def writes_jira(self) -> bool:
        return self.direction in ("sf_to_jira", "both")

    @property
    def writes_salesforce(self) -> bool:
        return self.direction in ("jira_to_sf", "both")

    def flows(self, direction: FlowDirection) -> bool:
        return self.writes_jira if direction == "sf_to_jira" else self.writes_salesforce

    @property
    def effective_owner(self) -> Owner:
        """Who wins a conflict: one-way fields are owned by their source."""
        if self.direction == "sf_to_jira":
            return "salesforce"
        if self.direction == "jira_to_sf":
            return "jira"
        return self.owner or "latest"

    @property
    def overflow(self) -> Overflow:
        return self.on_overflow or "reject"

    @property
    def sf_separator(self) -> str:
        """How a multi-picklist is joined in the Salesforce field (";" for real multipicklists)."""
        return self.separator or ";"

    @property
    def template(self) -> str | None:
        return next((str(t.arg) for t in self.transforms if t.name == "template"), None)

    def forward_value_map(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Salesforce value -> Jira value (`extra`: run-time entries, e.g. a user directory)."""
        return {**self.value_map, **(extra or {})}

    def reverse_value_map(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Jira value -> Salesforce value: the inverse of value_map (+ extra), overridden by reverse_map."""
        inverse: dict[str, str] = {}
        for sf_value, jira_value in self.forward_value_map(extra).items():
            inverse.setdefault(jira_value, sf_value)
        inverse.update(self.reverse_map)
        return inverse


class StatusMapping(_Strict):
    """Salesforce status/stage <-> Jira workflow status (reached through transitions)."""

    salesforce: SfName
    direction: Direction = "both"
    owner: Owner | None = None
    key: str | None = None
    value_map: dict[str, str] = Field(min_length=1)
    reverse_map: dict[str, str] = Field(default_factory=dict)
    unmapped: Unmapped = "reject"
    default: str | None = None

    def as_field(self) -> FieldMapping:
        return FieldMapping(salesforce=self.salesforce, jira="status", key=self.key, direction=self.direction,
                            owner=self.owner, type="picklist", value_map=self.value_map,
                            reverse_map=self.reverse_map, unmapped=self.unmapped, default=self.default)


class SalesforceSide(_Strict):
    object: SfName
    where: str | None = None
    jira_key_field: SfName
    jira_url_field: SfName | None = None


class JiraSide(_Strict):
    project: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,9}$")]
    issue_type: str = Field(min_length=1)
    salesforce_id_field: str | None = None
    salesforce_id_property: str | None = None


class CommentsSalesforce(_Strict):
    object: SfName = "CaseComment"
    parent_field: SfName = "ParentId"
    body_field: SfName = "CommentBody"
    max_length: int | None = Field(default=None, gt=0)
    duration_field: SfName | None = None
    values: dict[str, str | bool | int | float] = Field(default_factory=dict)


class CommentsJira(_Strict):
    kind: Literal["comment", "worklog"] = "comment"


class CommentsMapping(_Strict):
    direction: Direction = "both"
    salesforce: CommentsSalesforce = Field(default_factory=CommentsSalesforce)
    jira: CommentsJira = Field(default_factory=CommentsJira)
    marker: str = Field(default="[sfjira]", min_length=1)

    def flows(self, direction: FlowDirection) -> bool:
        return self.direction in (direction, "both")


def _action_shorthand(value: Any) -> Any:
    return {"action": value} if isinstance(value, str) else value


class SalesforceDeleted(_Strict):
    action: Literal["transition", "label", "delete", "ignore"] = "ignore"
    status: str | None = None
    label: str | None = None


class JiraDeleted(_Strict):
    action: Literal["clear_key", "flag", "ignore"] = "ignore"
    field: SfName | None = None
    value: str | None = None


class DeletesPolicy(_Strict):
    salesforce_deleted: Annotated[SalesforceDeleted, BeforeValidator(_action_shorthand)] = Field(
        default_factory=SalesforceDeleted)
    jira_deleted: Annotated[JiraDeleted, BeforeValidator(_action_shorthand)] = Field(default_factory=JiraDeleted)


_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Alerts(_Strict):
    """Who is told, and when (sfjira.alerts): by mail through the Airflow SMTP connection `smtp_conn_id`.
    Each threshold is off when left out."""

    to: list[Annotated[str, Field(pattern=_EMAIL)]] = Field(min_length=1)
    smtp_conn_id: str = Field(default="smtp_default", min_length=1)
    from_email: Annotated[str, Field(pattern=_EMAIL)] | None = None
    failed_intervals: int | None = Field(default=None, ge=1)
    """The sync has not succeeded for this many of its schedule's intervals."""
    rejects_above: int | None = Field(default=None, ge=0)
    """A sync run rejected more records than this (both directions and the transform together)."""
    drift_above: int | None = Field(default=None, ge=0)
    """A reconciliation found more drift rows than this."""


class Mapping(_Strict):
    """A validated mapping file. Build it with `sfjira.mapping.load_mapping(path)`."""

    version: Literal[1] = 1
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    description: str = ""
    salesforce: SalesforceSide
    jira: JiraSide
    schedule: Annotated[str, AfterValidator(_check_cron)] = "*/15 * * * *"
    overlap: Annotated[str, AfterValidator(_check_overlap)] = "10m"
    start_date: Annotated[date | datetime | None, AfterValidator(_check_start)] = None
    fields: list[FieldMapping] = Field(min_length=1)
    status: StatusMapping | None = None
    comments: CommentsMapping | None = None
    deletes: DeletesPolicy = Field(default_factory=DeletesPolicy)
    alerts: Alerts | None = None
    pii: list[str] = Field(default_factory=list)

    _source_file: str = PrivateAttr(default="<memory>")
    _lines: SourceLines = PrivateAttr(default_factory=SourceLines)

    # -- where it came from (for errors found after loading, e.g. by the live checks) --
    @property
    def source_file(self) -> str:
        return self._source_file

    @property
    def source_lines(self) -> SourceLines:
        return self._lines

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        return self._lines.line_of(path)

    def attach_source(self, file: str, lines: SourceLines) -> Mapping:
        self._source_file, self._lines = file, lines
        return self

    # -- derived views the sync uses --
    @property
    def overlap_delta(self) -> timedelta:
        return parse_duration(self.overlap)

    @property
    def start_datetime(self) -> datetime | None:
        if self.start_date is None or isinstance(self.start_date, datetime):
            return self.start_date
        return datetime(self.start_date.year, self.start_date.month, self.start_date.day, tzinfo=UTC)

    @cached_property
    def synced_fields(self) -> tuple[FieldMapping, ...]:
        """All mapped fields, the status mapping included (as a picklist field targeting `status`)."""
        return tuple(self.fields) + ((self.status.as_field(),) if self.status else ())

    def fields_for(self, direction: FlowDirection) -> tuple[FieldMapping, ...]:
        """The fields written in one direction (two-way fields are in both)."""
        return tuple(f for f in self.synced_fields if f.flows(direction))

    def field(self, key: str) -> FieldMapping:
        for f in self.synced_fields:
            if f.canonical_key == key:
                return f
        raise KeyError(key)

    def salesforce_columns(self) -> list[str]:
        """Every Salesforce field (incl. parent paths) the sync must SELECT, in a stable order."""
        head = ["Id", "SystemModstamp", self.salesforce.jira_key_field, self.salesforce.jira_url_field]
        return self._columns(head, "salesforce", "sf_to_jira")

    def jira_columns(self) -> list[str]:
        """Every Jira field the sync must request (ids or, if unresolved, names), in a stable order."""
        return self._columns(["id", "key", "updated", self.jira.salesforce_id_field], "jira", "jira_to_sf")

    def _columns(self, head: list[str | None], side: str, renders: FlowDirection) -> list[str]:
        """`head`, each field's column on `side`, and the inputs of templates rendered from that side."""
        cols = [c for c in head if c]
        for f in self.synced_fields:
            cols.append(getattr(f, side))
            if f.template and f.direction == renders:
                cols.extend(template_fields(f.template))
        return list(dict.fromkeys(cols))

    def jira_property_column(self) -> str | None:
        """Input column holding the Salesforce id read from the issue's entity property (the Jira
        hook's `sfid` column), or None when the mapping keeps no property."""
        return "sfid" if self.jira.salesforce_id_property else None

    # -- PII --
    @cached_property
    def pii_columns(self) -> frozenset[str]:
        """Column names holding PII in any frame we build: Salesforce names, Jira ids, canonical keys."""
        names: set[str] = set()
        for f in self.synced_fields:
            if f.pii or f.salesforce in self.pii or f.canonical_key in self.pii or f.jira in self.pii:
                names.update({f.salesforce, f.jira, f.canonical_key})
        return frozenset(names)

    def mask_pii(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of `frame` with every PII column's non-missing values replaced by "***"."""
        masked = frame.copy()
        for column in masked.columns:
            if column in self.pii_columns:
                values = masked[column]
                masked[column] = values.astype(object).where(values.isna(), PII_MASK)
        return masked


def template_fields(template: str) -> list[str]:
    """Placeholders of a `{Field}` template, in order. Raises ValueError on bad syntax."""
    import string

    names = []
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name or spec or conversion or not SF_FIELD_PATH.match(name):
            raise ValueError(f"placeholder {{{name}}} is not a plain field name")
        names.append(name)
    return names
