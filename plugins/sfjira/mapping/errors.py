"""Problems found in a mapping file, and how they become MappingErrors with file, line and fix.

Every check (schema, semantic, live) produces `Problem`s that carry a path into the YAML
document; the source lines recorded at load time turn the path into a line number.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sfjira.exceptions import MappingError
from sfjira.mapping.yamlsrc import Path, SourceLines, format_path

INVALID = "MAPPING_INVALID"
LIVE_MISMATCH = "MAPPING_LIVE_MISMATCH"
README = "plugins/sfjira/mapping/README.md"


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    fix: str
    code: str = INVALID
    at: Path | None = None  # where to point when `path` names a key that is absent


class MappingProblems(MappingError):
    """All problems of one or more mapping files. `errors` holds one MappingError per problem;
    str() lists them one per line in the form `file:line: field `path`: [CODE] message -- fix: ...`."""

    def __init__(self, errors: list[MappingError]) -> None:
        if not errors:
            raise ValueError("MappingProblems needs at least one error")
        self.errors = errors
        first = errors[0]
        super().__init__(first.message, file=first.file, field=first.field, line=first.line, fix=first.fix,
                         code=first.code)

    def __str__(self) -> str:
        return "\n".join(MappingError.__str__(e) for e in self.errors)


def to_errors(problems: Iterable[Problem], file: str, lines: SourceLines) -> list[MappingError]:
    return [MappingError(p.message, file=file, field=format_path(p.path), line=lines.line_of(p.at or p.path), fix=p.fix,
                         code=p.code) for p in problems]


def raise_problems(problems: list[Problem], file: str, lines: SourceLines) -> None:
    if problems:
        raise MappingProblems(to_errors(problems, file, lines))


# -- pydantic errors -> problems -------------------------------------------------------------------

def from_validation(exc: ValidationError, root: type[BaseModel]) -> list[Problem]:
    return [_problem(error, root) for error in exc.errors(include_url=False)]


def _problem(error: ErrorDetails, root: type[BaseModel]) -> Problem:
    loc = _clean_loc(tuple(error["loc"]))
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    last = loc[-1] if loc else ""
    if kind == "sfjira":
        return Problem(loc, ctx["message"], ctx["fix"])
    if kind == "missing":
        return Problem(loc, f"`{last}` is required", f"add `{last}:` ({_MISSING_HINTS.get(str(last), 'see ' + README)})")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(root, loc[:-1])
        close = difflib.get_close_matches(str(last), allowed, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        return Problem(loc, f"unknown key `{last}`", f"{hint}allowed keys here: {', '.join(allowed)}")
    if kind in ("literal_error", "enum"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        return Problem(loc, f"`{value}` is not allowed here", f"{hint}use one of: {', '.join(choices)}")
    if kind == "string_type" and isinstance(value, bool):
        return Problem(loc, f"YAML read this value as the boolean {str(value).lower()} (yes/no/on/off/true/false "
                            "are booleans in YAML)", "put the text in quotes, e.g. 'No' or 'On'")
    if kind == "string_type" and isinstance(value, int | float):
        return Problem(loc, f"YAML read this value as the number {value!r}, not as text",
                       "put it in quotes to keep it exactly as written, e.g. '1.10'")
    if kind == "string_pattern_mismatch":
        return Problem(loc, f"`{value}` does not have the expected form", _PATTERN_HINTS.get(str(last), error["msg"]))
    return Problem(loc, error["msg"], f"see {README}")


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop pydantic's synthetic parts: the `name`/`arg` of a transform step, validator tags, `[key]`."""
    cleaned = tuple(p for p in loc if p != "[key]" and not (isinstance(p, str) and p.startswith("function-")))
    if len(cleaned) >= 2 and cleaned[-1] in ("name", "arg") and isinstance(cleaned[-2], int) \
            and len(cleaned) >= 3 and cleaned[-3] == "transforms":
        cleaned = cleaned[:-1]
    return cleaned


def _allowed_keys(root: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    model: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return []
        model = _unwrap(model.model_fields[part].annotation)
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _unwrap(annotation: Any) -> Any:
    """Optional[X] / list[X] / dict[str, X] / Annotated[X, ...] -> X (the model a key lives in)."""
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin is typing.Annotated:
            annotation = args[0]
        elif origin in (typing.Union, types.UnionType, list, dict) and args:
            annotation = args[-1]
        else:
            return annotation


_MISSING_HINTS = {
    "name": "a lower_snake_case id, used as the DAG id, e.g. case_to_bug",
    "salesforce": "the Salesforce side or field, see " + README,
    "jira": "the Jira side or field, see " + README,
    "object": "the Salesforce object API name, e.g. Case",
    "jira_key_field": "the Salesforce external-id field that stores the Jira key, e.g. Jira_Key__c",
    "project": "the Jira project key, e.g. SUP",
    "issue_type": "the Jira issue type name, e.g. Bug",
    "fields": "the list of mapped fields",
    "value_map": "Salesforce value -> Jira status, e.g. {New: To Do}",
}
_PATTERN_HINTS = {
    "name": "use lower_snake_case starting with a letter (it becomes the DAG id), e.g. case_to_bug",
    "project": "use the Jira project key in capitals, e.g. SUP",
}
