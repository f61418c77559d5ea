"""The `sfjira` command: the console script of the installed package (also `python -m sfjira.cli`).

    sfjira validate include/mappings/*.yaml [--live]
    sfjira status --mapping NAME        sfjira migrate        sfjira unlink --mapping NAME --sf-id ID
    sfjira rejects --mapping NAME [--all] [--format table|csv|json]        sfjira replay --mapping NAME
    sfjira errors [--format markdown|json]   (the error catalog; `make docs` writes docs/errors.md)
    sfjira audit [--mapping NAME] [--run RUN] [--record ID] [--field F] [--since T] [--until T] [--reveal]
    sfjira audit --prune [--days N]          (the ledger's before -> after; retention)
    sfjira rollback --mapping NAME --run RUN [--apply] [--created delete|label|keep]

Each subcommand lives in a module of this package that registers its parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from sfjira.cli import audit, errors, rejects, rollback, state, validate

COMMANDS = (validate, state, rejects, audit, rollback, errors)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="sfjira", description="sfjira: Salesforce <-> Jira sync for Airflow")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))
