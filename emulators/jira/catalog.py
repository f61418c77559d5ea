"""The fixed Jira world of the shared catalog: projects, issue types, priorities, workflow.

Ids look like a real company-managed Jira site's, so clients that treat ids as opaque strings
and clients that sort them both behave as they would against Jira.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    description: str
    hierarchy_level: int  # 1 for Epic, 0 for standard types


@dataclass(frozen=True)
class Version:
    id: str
    name: str
    released: bool


@dataclass(frozen=True)
class Project:
    id: str
    key: str
    name: str
    description: str
    issue_type_ids: tuple[str, ...]
    versions: tuple[Version, ...] = ()


@dataclass(frozen=True)
class Priority:
    id: str
    name: str
    color: str


@dataclass(frozen=True)
class StatusCategory:
    id: int
    key: str
    name: str
    color: str


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    description: str
    category: StatusCategory


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    source: str  # status id
    target: str  # status id


@dataclass(frozen=True)
class LinkType:
    id: str
    name: str
    inward: str
    outward: str


ISSUE_TYPES: dict[str, IssueType] = {t.id: t for t in (
    IssueType("10000", "Epic", "A big user story that needs to be broken down.", 1),
    IssueType("10001", "Story", "Functionality or a feature expressed as a user goal.", 0),
    IssueType("10002", "Task", "A small, distinct piece of work.", 0),
    IssueType("10003", "Bug", "A problem or error.", 0),
)}

PROJECTS: dict[str, Project] = {p.key: p for p in (
    Project("10000", "SUP", "Support", "Customer support cases mirrored from Salesforce.", ("10003", "10002"),
            (Version("10000", "1.0", True), Version("10001", "1.1", True), Version("10002", "2.0", False))),
    Project("10001", "DEL", "Delivery", "Delivery work for won opportunities.", ("10000", "10001", "10002")),
)}

PRIORITIES: dict[str, Priority] = {p.id: p for p in (
    Priority("1", "Highest", "#d04437"),
    Priority("2", "High", "#f15C75"),
    Priority("3", "Medium", "#f79232"),
    Priority("4", "Low", "#707070"),
    Priority("5", "Lowest", "#999999"),
)}
DEFAULT_PRIORITY = "3"

_NEW = StatusCategory(2, "new", "To Do", "blue-gray")
_IN_PROGRESS = StatusCategory(4, "indeterminate", "In Progress", "yellow")
_DONE = StatusCategory(3, "done", "Done", "green")
STATUS_CATEGORIES = (_NEW, _IN_PROGRESS, _DONE)

STATUSES: dict[str, Status] = {s.id: s for s in (
    Status("10000", "To Do", "Work that has not been started.", _NEW),
    Status("3", "In Progress", "This issue is being actively worked on at the moment by the assignee.",
           _IN_PROGRESS),
    Status("10001", "In Review", "The work is waiting for review.", _IN_PROGRESS),
    Status("10002", "Done", "The work is finished.", _DONE),
)}
INITIAL_STATUS = "10000"

TRANSITIONS: tuple[Transition, ...] = (
    Transition("11", "Start Progress", "10000", "3"),
    Transition("21", "Submit for Review", "3", "10001"),
    Transition("31", "Stop Progress", "3", "10000"),
    Transition("41", "Done", "10001", "10002"),
    Transition("51", "Request Changes", "10001", "3"),
    Transition("61", "Reopen", "10002", "10000"),
)

# Reaching a done-category status sets the resolution; leaving it clears it (as Jira's post functions do).
RESOLUTION_DONE = {"id": "10000", "name": "Done", "description": "Work has been completed on this issue."}

LINK_TYPES: dict[str, LinkType] = {t.id: t for t in (
    LinkType("10000", "Blocks", "is blocked by", "blocks"),
    LinkType("10001", "Cloners", "is cloned by", "clones"),
    LinkType("10002", "Duplicate", "is duplicated by", "duplicates"),
    LinkType("10003", "Relates", "relates to", "relates to"),
)}


def project_by_id_or_key(value: str) -> Project | None:
    if value in PROJECTS:
        return PROJECTS[value]
    return next((p for p in PROJECTS.values() if p.id == value), None)


def transitions_from(status_id: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == status_id]


def find_by_name(items: dict[str, object], name: str) -> str | None:
    """Id of the item whose `name` matches case-insensitively (Jira names are case-insensitive)."""
    wanted = name.casefold()
    return next((key for key, item in items.items() if getattr(item, "name", "").casefold() == wanted), None)
