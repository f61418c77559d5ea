"""The error catalog lists every code the source uses, each with meaning, fix and a `retried` that agrees
with how the code is raised; docs/errors.md is what the catalog generates.

The source scan (ast) finds codes where they are made: a `code=` keyword (a string, or an f-string that
builds a family like JIRA_HTTP_<status>), a class attribute `code = "..."`, and every other UPPER_SNAKE
string literal (reject codes passed positionally, code tables, comparisons). An UPPER_SNAKE literal that
is not a code (an environment variable, an OpenSSL reason) must be listed in NOT_CODES with its reason.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import sfjira
from sfjira import error_catalog
from sfjira.cli import main
from sfjira.exceptions import ApiError, SfJiraError, transient_status

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "plugins" / "sfjira"
CATALOG_FILE = SOURCE / "error_catalog.py"
DOCS = ROOT / "docs" / "errors.md"
CODE_SHAPE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")

# UPPER_SNAKE strings of the source that are not error codes, each with why.
NOT_CODES = {
    # environment variables and setting aliases (sfjira.settings, sfjira.storage, sfjira.demo)
    "SFJIRA_STORAGE": "env var", "SFJIRA_TASK_RETRIES": "env var", "SFJIRA_RETRY_DELAY_S": "env var",
    "SFJIRA_MAPPINGS_DIR": "env var", "SFJIRA_SALESFORCE_CONN_ID": "env var", "SFJIRA_JIRA_CONN_ID": "env var",
    "SFJIRA_WORKER_NAME": "env var (sfjira.celery_profile)", "SFJIRA_AIRFLOW_DATABASE": "env var (sfjira.live)",
    "SFJIRA_CELERY_BROKER": "env var (sfjira.live)",
    "AIRFLOW_HOME": "env var", "SFJIRA_AIRFLOW_PORT": "env var (sfjira.live)", "AIRFLOW_CONN_SFJIRA_STATE": "env var", "AIRFLOW_CONN_SFJIRA_CRYPTO": "env var",
    "ARROW_DEFAULT_MEMORY_POOL": "env var", "AIRFLOW_CONN_": "env var prefix (f-string, sfjira.emulator_env)",
    # OpenSSL reasons read off a TLS error (sfjira.http.retry), never recorded as codes
    "WRONG_VERSION_NUMBER": "OpenSSL reason", "UNSUPPORTED_PROTOCOL": "OpenSSL reason",
    "TLSV1_ALERT_PROTOCOL_VERSION": "OpenSSL reason", "NO_PROTOCOLS_AVAILABLE": "OpenSSL reason",
    "CERTIFICATE_VERIFY_FAILED": "OpenSSL reason",
    # Jira Cloud bulk edit's bulkEditMultiSelectFieldOption value (sfjira.hooks.jira_bulk)
    "REMOVE_ALL": "Jira API enum value",
}


@dataclass(frozen=True)
class Use:
    code: str   # the code, or an f-string's template (JIRA_HTTP_{})
    how: str    # "code=", "class code", "f-string", "literal"
    where: str  # file:line


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _template(node: ast.JoinedStr) -> str:
    return "".join(str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values)


def uses_in(source: str, where: str) -> list[Use]:
    """Every code `source` makes or names (see the module docstring)."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    for node in ast.walk(tree):  # __all__ lists names, not codes
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            skip.update(id(n) for n in ast.walk(node.value))
    found: list[Use] = []
    for node in ast.walk(tree):
        at = f"{where}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.keyword) and node.arg == "code":
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.append(Use(node.value.value, "code=", at))
                skip.add(id(node.value))
            elif isinstance(node.value, ast.JoinedStr):
                found.append(Use(_template(node.value), "f-string", at))
                skip.add(id(node.value))  # ast.walk is breadth first: the keyword comes before its value
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if (isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code" for t in stmt.targets)
                        and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)):
                    found.append(Use(stmt.value.value, "class code", f"{where}:{stmt.lineno}"))
                    skip.add(id(stmt.value))
        elif isinstance(node, ast.JoinedStr) and id(node) not in skip:
            head = node.values[0] if node.values else None
            if isinstance(head, ast.Constant) and re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_", str(head.value)):
                found.append(Use(_template(node), "f-string", at))
    found += [Use(node.value, "literal", f"{where}:{node.lineno}") for node in ast.walk(tree)
              if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
              and CODE_SHAPE.fullmatch(node.value)]
    return found


def _of_built_family(code: str) -> bool:
    """A concrete member of a family the source builds with an f-string (JIRA_HTTP_400)."""
    return any(f.template and f.pattern.fullmatch(code) for f in error_catalog.FAMILIES.values())


def unknown(uses: list[Use]) -> list[Use]:
    """The uses whose code the catalog does not know."""
    bad = []
    for use in uses:
        if use.how == "f-string":
            if error_catalog.family_of_template(use.code) is None and use.code.rstrip("{}") not in NOT_CODES:
                bad.append(use)
        elif not (error_catalog.is_catalogued(use.code) or _of_built_family(use.code)
                  or (use.how == "literal" and use.code in NOT_CODES)):
            bad.append(use)
    return bad


def source_uses() -> list[Use]:
    return [use for path in sorted(SOURCE.rglob("*.py")) if path != CATALOG_FILE
            for use in uses_in(path.read_text(), str(path.relative_to(ROOT)))]


# -- the source uses catalogued codes only ----------------------------------------------------------------

def test_every_code_the_source_uses_is_in_the_catalog() -> None:
    bad = unknown(source_uses())
    assert not bad, ("codes missing from sfjira/error_catalog.py (add them with meaning, retried and fix, then "
                     "run `make docs`):\n" + "\n".join(f"  {u.code} ({u.how}) at {u.where}" for u in bad))


def test_the_scan_catches_a_new_code_however_it_is_made() -> None:
    snippet = '''
class NewError(SfJiraError):
    """Docstrings may say ANY_WORDS_THEY_LIKE."""
    code = "NEW_CLASS_CODE"

def f(status, mask, raw):
    raise ApiError("x", code="NEW_RAISED_CODE")
    rejects.add(mask, "NEW_REJECT_CODE", raw, key="k", source="s", target="t", side="jira", target_side="salesforce")
    raise ApiError("y", code=f"NEW_FAMILY_{status}")
    raise ApiError("z", code="AUTH_CONFIG")
    raise ApiError("w", code=f"JIRA_HTTP_{status}")
    raise ChunkRejected("JIRA_HTTP_400", "refused")
'''
    found = unknown(uses_in(snippet, "snippet.py"))
    assert sorted((u.code, u.how) for u in found) == [
        ("NEW_CLASS_CODE", "class code"), ("NEW_FAMILY_{}", "f-string"), ("NEW_RAISED_CODE", "code="),
        ("NEW_REJECT_CODE", "literal")]


def test_not_codes_are_not_catalogued_and_still_used() -> None:
    literals = {u.code.rstrip("{}") for u in source_uses()}
    assert not [c for c in NOT_CODES if error_catalog.is_catalogued(c)]
    assert sorted(set(NOT_CODES) - literals) == [], "NOT_CODES lists strings the source no longer has"


# -- the catalog itself -----------------------------------------------------------------------------------

def test_every_entry_has_meaning_fix_and_a_known_category() -> None:
    for entry in error_catalog.entries():
        assert entry.meaning.strip() and entry.fix.strip() and entry.raised_by.strip(), entry.code
        assert entry.category in error_catalog.CATEGORIES and entry.kind in error_catalog.KINDS, entry.code


def test_no_entry_is_dead() -> None:
    """A code listed by name is used by the source, unless it is an errorCode Salesforce defines (those
    arrive as data, passed through by the hooks, and are listed so their fix and retry are known)."""
    used = {u.code for u in source_uses()}
    dead = [e.code for e in error_catalog.CATALOG.values() if e.code not in used and not e.external]
    assert not dead, f"catalogued codes no source uses: {dead}"
    for entry in error_catalog.CATALOG.values():
        if entry.external and entry.code not in used:
            assert "Salesforce errorCode" in entry.raised_by, entry.code
    templates = {u.code for u in source_uses() if u.how == "f-string"}
    for family in error_catalog.FAMILIES.values():
        assert not family.template or family.template in templates, family.entry.code


def test_reject_reason_tables_are_catalogued() -> None:
    from sfjira.identity import rules
    from sfjira.transform import rejects

    assert not [c for c in [*rejects.REASONS, *rules.REASONS] if not error_catalog.is_catalogued(c)]


# -- retried agrees with the code's behaviour ---------------------------------------------------------------

def _error_classes() -> dict[str, type[SfJiraError]]:
    for module in pkgutil.walk_packages(sfjira.__path__, "sfjira."):
        if not module.name.endswith("__main__") and module.name not in ("sfjira.demo", "sfjira.live"):
            importlib.import_module(module.name)
    todo, found = [SfJiraError], {}
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo += cls.__subclasses__()
    return found


def test_a_class_default_code_is_retried_exactly_when_the_class_is_transient() -> None:
    for cls in _error_classes().values():
        entry = error_catalog.describe(cls.code)
        assert entry is not None and error_catalog.is_catalogued(cls.code), cls.__name__
        assert entry.retried == cls.transient, f"{cls.__name__}: catalog says retried={entry.retried}"


def _verdict(call: ast.Call, cls: type[SfJiraError]) -> bool | str:
    """How a raise site classifies its error: True/False, or "depends" (decided at run time)."""
    kwargs = {k.arg: k.value for k in call.keywords if k.arg}
    if "transient" in kwargs:
        value = kwargs["transient"]
        return value.value if isinstance(value, ast.Constant) else "depends"
    if issubclass(cls, ApiError) and not cls.ignores_status and "status" in kwargs:
        status = kwargs["status"]
        if isinstance(status, ast.Constant):
            return transient_status(status.value) if status.value is not None else cls.transient
        return "depends"
    return cls.transient


def raise_sites() -> list[tuple[str, bool | str, str]]:
    """(code, verdict, where) for every construction of an sfjira error class with a literal code (or none,
    so the class's own)."""
    classes = _error_classes()
    sites = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.func.id not in classes:
                continue
            cls = classes[node.func.id]
            code = next((k.value for k in node.keywords if k.arg == "code"), None)
            if code is None:
                sites.append((cls.code, _verdict(node, cls), f"{path.name}:{node.lineno}"))
            elif isinstance(code, ast.Constant):
                sites.append((code.value, _verdict(node, cls), f"{path.name}:{node.lineno}"))
    return sites


def test_each_raise_site_agrees_with_the_catalog() -> None:
    sites = raise_sites()
    assert len(sites) > 50  # the scan really sees the raises
    wrong = []
    for code, verdict, where in sites:
        entry = error_catalog.CATALOG[code]
        if verdict == "depends":
            ok = bool(entry.retried_when)
        else:
            ok = entry.retried == verdict or bool(entry.retried_when)
        if not ok:
            wrong.append(f"{code} at {where}: raised {verdict}, catalog retried={entry.retried}")
    assert not wrong, "\n".join(wrong)


def test_one_code_is_not_raised_both_transient_and_terminal() -> None:
    verdicts: dict[str, set] = {}
    for code, verdict, _ in raise_sites():
        verdicts.setdefault(code, set()).add(verdict)
    mixed = {c: v for c, v in verdicts.items() if {True, False} <= v and not error_catalog.CATALOG[c].retried_when}
    assert not mixed


# -- lookups ----------------------------------------------------------------------------------------------

def test_describe_makes_an_http_family_concrete() -> None:
    assert error_catalog.describe("JIRA_HTTP_503").retried is True
    terminal = error_catalog.describe("JIRA_HTTP_404")
    assert terminal.retried is False and terminal.code == "JIRA_HTTP_404" and "cannot see" in terminal.fix
    assert error_catalog.describe("JIRA_HTTP_400").fix.startswith("the request was refused as invalid")
    assert error_catalog.describe("429").retried is True and error_catalog.describe("400").kind == "reject"


def test_unknown_codes() -> None:
    assert error_catalog.describe("not a code") is None and error_catalog.fix_for("not a code") == ""
    other = error_catalog.describe("SOME_FUTURE_SALESFORCE_CODE")  # a Salesforce errorCode nobody listed yet
    assert other.category == "salesforce" and other.external and not error_catalog.is_catalogued(other.code)


def test_transient_prefers_the_catalog_over_the_status() -> None:
    assert error_catalog.transient("UNABLE_TO_LOCK_ROW", 400) is True
    assert error_catalog.transient("INVALID_FIELD", 400) is False
    assert error_catalog.transient("REQUEST_LIMIT_EXCEEDED", 503) is False
    assert error_catalog.transient("SALESFORCE_API_ERROR", 503) is True  # a status-dependent code
    assert error_catalog.transient("SOME_FUTURE_SALESFORCE_CODE", 502) is True
    assert error_catalog.transient("SOME_FUTURE_SALESFORCE_CODE", 400) is False


# -- docs/errors.md and `sfjira errors` -------------------------------------------------------------------

def test_docs_errors_md_is_generated_from_the_catalog() -> None:
    assert DOCS.read_text() == error_catalog.markdown(), "docs/errors.md is stale: run `make docs`"


def test_docs_list_every_code() -> None:
    text = error_catalog.markdown()
    assert all(f"| `{e.code}` |" in text for e in error_catalog.entries())


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_cli_prints_the_catalog(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["errors", "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        rows = json.loads(out)
        assert {r["code"] for r in rows} == {e.code for e in error_catalog.entries()}
        assert {r["code"]: r["retried"] for r in rows}["STATE_UNAVAILABLE"] is True
    else:
        assert out == error_catalog.markdown()


def test_the_retry_story_of_the_docs_holds() -> None:
    """docs/errors.md says: hook retries with exponential backoff and jitter, then Airflow's task retries
    with exponential backoff capped at 10 minutes. Both halves, checked against the code."""
    import datetime as dt
    import random

    from sfjira.dag_factory import default_args
    from sfjira.http.retry import RetryPolicy

    args = default_args()
    assert args["retry_exponential_backoff"] and args["max_retry_delay"] == dt.timedelta(minutes=10)
    assert "(10 minutes)" in error_catalog.INTRO and "retry_exponential_backoff" in error_catalog.INTRO
    policy = RetryPolicy(base_delay=1.0, max_delay=100.0, rng=random.Random(3))
    waits = [policy.backoff(4) for _ in range(20)]  # step 8 s: equal jitter keeps each wait in [4, 8]
    assert all(4.0 <= w <= 8.0 for w in waits) and len(set(waits)) == len(waits)
