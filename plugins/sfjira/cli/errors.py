"""`sfjira errors`: the error catalog (sfjira.error_catalog) as the markdown of docs/errors.md or as JSON.

    sfjira errors [--format markdown|json]

`make docs` writes docs/errors.md with it; a test fails when that file is stale.
"""

from __future__ import annotations

import argparse
import sys

from sfjira import error_catalog


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    help_text = "print the error catalog: every code, its meaning, whether it is retried, the fix"
    parser = commands.add_parser("errors", help=help_text, description=help_text)
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.set_defaults(run=_errors)


def _errors(args: argparse.Namespace) -> int:
    sys.stdout.write(error_catalog.markdown() if args.format == "markdown" else error_catalog.as_json())
    return 0
