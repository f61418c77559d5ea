"""Validating recorded HTTP exchanges against Atlassian's official Jira Cloud OpenAPI document.

The spec is vendored next to this file (spec/, with its licence notice);
SFJIRA_JIRA_OPENAPI overrides the path. It is 2.4 MB and takes a second or two to load, so it is
loaded once per session.

Where the spec and Jira's wire behaviour disagree, the checker is lenient in exactly two documented
ways: `date-time` accepts Jira's `+hhmm` offsets (`2026-11-28T15:04:05.123+0000`, what Jira really
sends), and a declared `application/json` response whose schema is empty (`{}`) may have no body (Jira's 204s and
its bodiless 201s). Statuses the spec does not declare for an operation (the 410 of the removed
search, injected 429/503) are checked against the spec's ErrorCollection schema instead.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.response.exceptions import MissingData
from openapi_schema_validator import OAS30Validator

VENDORED_SPEC = Path(__file__).resolve().parent / "spec" / "jira-cloud-platform-openapi-v3.json"
SPEC_ENV = "SFJIRA_JIRA_OPENAPI"
HTTP_METHODS = ("get", "post", "put", "delete", "patch")
REPORTS: list[str] = []  # shown in the terminal summary by this directory's conftest
JIRA_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)$")


def spec_path() -> Path:
    return Path(os.environ.get(SPEC_ENV) or VENDORED_SPEC)


def jira_datetime(value: object) -> bool:
    return not isinstance(value, str) or bool(JIRA_DATETIME.match(value))


class SpecRequest(RequestsOpenAPIRequest):
    """A recorded request seen as if sent to the spec's server, with /rest/api/2 mapped onto its v3 twin."""

    def __init__(self, request: requests.PreparedRequest, server: str, path: str) -> None:
        super().__init__(request)
        self._server = server
        self._path = path

    @property
    def host_url(self) -> str:
        return self._server

    @property
    def path(self) -> str:
        return self._path


@dataclass
class Outcome:
    method: str
    path: str
    status: int
    operation: str | None  # "METHOD /template" in the spec, None when the spec has no such operation
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class SpecChecker:
    def __init__(self, path: Path) -> None:
        self.raw = json.loads(path.read_text())
        config = Config(spec_validator_cls=None, extra_format_validators={"date-time": jira_datetime})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Unsupported scheme type" for the OAuth2 scheme
            self.api = OpenAPI.from_dict(self.raw, config=config)
        self.server = self.raw["servers"][0]["url"]
        self.templates = sorted(((p, _regex(p)) for p in self.raw["paths"]), key=lambda t: t[0].count("{"))
        self.error_validator = OAS30Validator(self.raw["components"]["schemas"]["ErrorCollection"])
        self.outcomes: list[Outcome] = []

    def operations(self) -> set[str]:
        return {f"{m.upper()} {p}" for p, ops in self.raw["paths"].items() for m in ops if m in HTTP_METHODS}

    def template(self, method: str, path: str) -> str | None:
        for template, regex in self.templates:
            if regex.match(path) and method.lower() in self.raw["paths"][template]:
                return template
        return None

    def check(self, response: requests.Response) -> Outcome:
        request = response.request
        method = str(request.method)
        path = re.sub(r"^/rest/api/2/", "/rest/api/3/", urlparse(str(request.url)).path)
        template = self.template(method, path)
        outcome = Outcome(method, urlparse(str(request.url)).path, response.status_code,
                          f"{method} {template}" if template else None)
        self.outcomes.append(outcome)
        if template is None:
            return outcome
        spec_request = SpecRequest(request, self.server, path)
        if response.status_code != 401:  # an unauthenticated request is deliberately incomplete
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._try(outcome, "request", lambda: self.api.validate_request(spec_request))
        self._check_response(outcome, template, spec_request, response)
        return outcome

    def _check_response(self, outcome: Outcome, template: str, spec_request: SpecRequest,
                        response: requests.Response) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.api.validate_response(spec_request, RequestsOpenAPIResponse(response))
        except ResponseNotFound:
            outcome.notes.append(f"status {response.status_code} not declared; checked as ErrorCollection")
            errors = sorted(str(e.message) for e in self.error_validator.iter_errors(response.json()))
            outcome.problems += [f"response: {e}" for e in errors]
        except MissingData:
            if self._schemaless(template, outcome.method, response.status_code) and not response.content:
                outcome.notes.append("empty body where the spec declares schema-less JSON")
            else:
                outcome.problems.append("response: missing body")
        except Exception as exc:  # noqa: BLE001 - every validation failure is a finding to report
            outcome.problems.append(f"response: {_describe(exc)}")

    def _schemaless(self, template: str, method: str, status: int) -> bool:
        responses = self.raw["paths"][template][method.lower()]["responses"]
        declared = responses.get(str(status)) or responses.get("default") or {}
        return all(not media.get("schema") for media in declared.get("content", {}).values())

    def _try(self, outcome: Outcome, what: str, check: Any) -> None:
        try:
            check()
        except Exception as exc:  # noqa: BLE001
            outcome.problems.append(f"{what}: {_describe(exc)}")

    # -- reporting --------------------------------------------------------------------------------------

    def report(self, implemented: set[str]) -> tuple[str, list[str]]:
        """A readable coverage report, and the spec operations the emulator does not implement."""
        seen: dict[str, set[int]] = defaultdict(set)
        for o in self.outcomes:
            if o.operation:
                seen[o.operation].add(o.status)
        in_spec = implemented & self.operations()
        lines = [f"Jira OpenAPI conformance ({spec_path().name}): {len(self.outcomes)} exchanges checked",
                 f"Covered: {len(in_spec & set(seen))} of {len(in_spec)} spec operations the emulator implements"]
        lines += [f"  {op}  statuses {sorted(seen[op])}" for op in sorted(in_spec & set(seen))]
        missing = sorted(in_spec - set(seen))
        lines.append(f"Implemented but not exercised: {missing or 'none'}")
        outside = sorted(implemented - self.operations())
        lines.append(f"Implemented, not in the spec (not validated): {outside or 'none'}")
        notes = sorted({f"{o.operation} -> {o.status}: {n}" for o in self.outcomes for n in o.notes})
        lines.append("Leniencies applied:" + ("".join(f"\n  {n}" for n in notes) or " none"))
        not_implemented = sorted(self.operations() - implemented)
        lines.append(f"Spec operations the emulator does not implement (not covered): {len(not_implemented)}")
        return "\n".join(lines), not_implemented


def _regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def _describe(exc: Exception) -> str:
    details = getattr(exc, "schema_errors", None) or getattr(exc.__cause__, "schema_errors", None) or []
    parts = [f"{type(exc).__name__}: {exc}", *(f"{list(d.absolute_path)}: {d.message}" for d in details)]
    return " | ".join(parts)[:2000]
