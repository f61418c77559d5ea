"""Load mapping files: YAML with line numbers -> pydantic model -> semantic checks.

Every failure is a MappingError (a MappingProblems listing all problems found), so a DAG factory
can turn an invalid file into a DAG import error carrying the same message the CLI prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import yaml
from pydantic import ValidationError

from sfjira.exceptions import MappingError
from sfjira.mapping import semantic
from sfjira.mapping.errors import MappingProblems, Problem, from_validation, raise_problems, to_errors
from sfjira.mapping.model import Mapping
from sfjira.mapping.pii_key import key_problems
from sfjira.mapping.yamlsrc import SourceLines, load_yaml

PATTERNS = ("*.yaml", "*.yml")


def parse_mapping(text: str, file: str = "<memory>") -> Mapping:
    """Validate mapping YAML text; `file` is only used in messages."""
    try:
        data, lines, issues = load_yaml(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise MappingError(f"not valid YAML: {getattr(err, 'problem', None) or err}", file=file,
                           line=mark.line + 1 if mark else None, code="MAPPING_YAML",
                           fix="check indentation and quoting around that line") from None
    raise_problems([Problem(i.path, i.message, i.fix) for i in issues], file, lines)
    if not isinstance(data, dict):
        raise MappingError("the file must hold one mapping (keys like name, salesforce, jira, fields)", file=file,
                           line=1, fix="see plugins/sfjira/mapping/README.md for a commented example")
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as err:
        raise_problems(from_validation(err, Mapping), file, lines)
        raise  # unreachable: a ValidationError always carries at least one error
    raise_problems(semantic.check(mapping), file, lines)
    return mapping.attach_source(file, lines)


def load_mapping(path: str | Path) -> Mapping:
    """Load and validate one mapping file. Raises MappingError (MappingProblems) naming file:line; also
    when the file declares PII and the key that encrypts it is not configured (PII_KEY_MISSING)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise MappingError(f"cannot read the file: {err.strerror}", file=str(path), code="MAPPING_NOT_FOUND",
                           fix="check the path") from None
    mapping = parse_mapping(text, str(path))
    raise_problems(key_problems(mapping), str(path), mapping.source_lines)
    return mapping


def mapping_files(directory: str | Path) -> list[Path]:
    directory = Path(directory)
    return sorted({p for pattern in PATTERNS for p in directory.glob(pattern)})


def iter_mappings(directory: str | Path) -> Iterator[tuple[Path, Mapping | MappingError]]:
    """Every mapping file with its Mapping or its error: one bad file must not hide the good ones.

    This is what a DAG factory wants: build DAGs for the good files, raise the error of each bad
    file while building its DAG (so Airflow shows it as that file's import error).
    """
    seen: dict[str, Path] = {}
    for path in mapping_files(directory):
        try:
            mapping = load_mapping(path)
        except MappingError as err:
            yield path, err
            continue
        if mapping.name in seen:
            yield path, MappingError(f"mapping name `{mapping.name}` is already used by {seen[mapping.name]}",
                                     file=str(path), field="name", line=mapping.line_of(("name",)),
                                     fix="give every mapping a unique name (it becomes the DAG id)")
            continue
        seen[mapping.name] = path
        yield path, mapping


def load_all(directory: str | Path) -> list[Mapping]:
    """All mappings of a directory; raises one MappingProblems listing the problems of every bad file."""
    mappings: list[Mapping] = []
    errors: list[MappingError] = []
    for _path, result in iter_mappings(directory):
        if isinstance(result, MappingError):
            errors.extend(result.errors if isinstance(result, MappingProblems) else [result])
        else:
            mappings.append(result)
    if errors:
        raise MappingProblems(errors)
    return mappings


__all__ = ["SourceLines", "iter_mappings", "load_all", "load_mapping", "mapping_files", "parse_mapping",
           "to_errors"]
