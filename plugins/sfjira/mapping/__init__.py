"""The mapping dictionary: one YAML file per synced object pair (include/mappings/*.yaml).

Public API (see README.md in this folder for the file format):
    load_mapping(path) -> Mapping              validate one file; raises MappingError (file:line: field ...)
    load_all(directory) -> list[Mapping]       all files; one MappingProblems listing every problem
    iter_mappings(directory)                   (path, Mapping | MappingError) per file, for DAG factories
    parse_mapping(text, file) -> Mapping       the same from text
    check_live(mapping, describe=, jira_fields=, createmeta=)   checks against real metadata
    resolve_jira_field_names(mapping, jira_fields) -> Mapping   "Deal Amount" -> customfield_10052
CLI: sfjira validate include/mappings/*.yaml [--live]
"""

from __future__ import annotations

from sfjira.mapping.errors import MappingProblems, Problem
from sfjira.mapping.live import (
    check_live,
    cross_problems,
    jira_problems,
    normalise_createmeta,
    resolve_jira_field_names,
    salesforce_problems,
)
from sfjira.mapping.loader import iter_mappings, load_all, load_mapping, mapping_files, parse_mapping
from sfjira.mapping.model import (
    CommentsMapping,
    DeletesPolicy,
    FieldMapping,
    JiraSide,
    Mapping,
    SalesforceSide,
    StatusMapping,
    TransformStep,
)

__all__ = [
    "CommentsMapping", "DeletesPolicy", "FieldMapping", "JiraSide", "Mapping", "MappingProblems", "Problem",
    "SalesforceSide", "StatusMapping", "TransformStep", "check_live", "cross_problems", "iter_mappings",
    "jira_problems", "load_all", "load_mapping", "mapping_files", "normalise_createmeta", "parse_mapping",
    "resolve_jira_field_names", "salesforce_problems",
]
