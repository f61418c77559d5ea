"""The installed distribution: runtime dependencies declared once, development tools only in the `dev`
extra, and every third-party module the product imports carried by the runtime set."""

from __future__ import annotations

import ast
import re
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRODUCT = REPO / "plugins" / "sfjira"
# The demo, `make airflow` and the emulator connections drive the emulators: development tools, not the
# runtime. So is the CeleryExecutor profile of `make airflow-celery` and its test, whose Redis check needs
# the `celery` extra.
DEV_ONLY_MODULES = {"demo.py", "live.py", "emulator_env.py", "celery_profile.py"}
DEV_TOOLS = {"pytest", "ruff", "hypothesis", "openapi-core", "trustme", "pytest-xdist", "pytest-timeout"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _requires(dist: str) -> tuple[set[str], set[str]]:
    """(unconditional requirements, requirements of the dev extra) of an installed distribution."""
    plain, dev = set(), set()
    for requirement in metadata.requires(dist) or []:
        if "extra ==" in requirement:
            if re.search(r"extra == ['\"]dev['\"]", requirement):
                dev.add(_name(requirement))
            continue
        plain.add(_name(requirement))
    return plain, dev


def _closure(names: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            todo += _requires(name)[0]
        except metadata.PackageNotFoundError:
            continue
    return seen


def _imported_top_levels() -> set[str]:
    found: set[str] = set()
    for path in PRODUCT.rglob("*.py"):
        if path.name in DEV_ONLY_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_dev_tools_are_only_in_the_dev_extra() -> None:
    runtime, dev = _requires("sfjira")
    assert DEV_TOOLS <= dev
    assert not runtime & DEV_TOOLS, runtime & DEV_TOOLS
    assert {"apache-airflow", "apache-airflow-providers-salesforce", "apache-airflow-providers-atlassian-jira",
            "cryptography", "pandas", "pyarrow", "sqlalchemy"} <= runtime


def test_every_imported_third_party_module_comes_with_the_runtime() -> None:
    carried = _closure(_requires("sfjira")[0])
    providers = metadata.packages_distributions()
    missing = {}
    for module in sorted(_imported_top_levels() - {"sfjira", "__future__"}):
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        if dists and not dists & carried:
            missing[module] = sorted(dists)
    assert missing == {}, f"imported by plugins/sfjira but not carried by its runtime dependencies: {missing}"
