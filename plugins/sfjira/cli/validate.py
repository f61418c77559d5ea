"""`sfjira validate FILE... [--live]`: exit 0 with one OK line per valid file, 1 with every problem
(file:line: field ...: [CODE] message -- fix: ...) otherwise, 2 if --live cannot reach the systems."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sfjira.exceptions import MappingError
from sfjira.mapping.errors import MappingProblems
from sfjira.mapping.hooksource import LiveSources, LiveUnavailable, from_hooks
from sfjira.mapping.live import check_live
from sfjira.mapping.loader import load_mapping
from sfjira.mapping.model import Mapping


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    validate = commands.add_parser("validate", help="validate mapping files", description=__doc__)
    validate.add_argument("files", nargs="+", help="mapping YAML files, e.g. include/mappings/*.yaml")
    validate.add_argument("--live", action="store_true",
                          help="also check against Salesforce describe and Jira field metadata through the "
                               "connections [sfjira] salesforce_conn_id / jira_conn_id name")
    validate.set_defaults(run=lambda args: _validate(args.files, args.live))


def _validate(files: Sequence[str], live: bool) -> int:
    sources: LiveSources | None = None
    if live:
        try:
            sources = from_hooks()
        except LiveUnavailable as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    failed = False
    for file in files:
        try:
            mapping = load_mapping(file)
            if sources is not None:
                _check_live(mapping, sources)
        except LiveUnavailable as err:
            print(f"error: {file}: {err}", file=sys.stderr)
            return 2
        except MappingError as err:
            failed = True
            count = len(err.errors) if isinstance(err, MappingProblems) else 1
            print(err, file=sys.stderr)
            print(f"FAILED {file}: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
            continue
        print(f"OK {file} (mapping `{mapping.name}`: {len(mapping.synced_fields)} fields"
              f"{', live-checked' if sources else ''})")
    return 1 if failed else 0


def _check_live(mapping: Mapping, sources: LiveSources) -> None:
    try:
        createmeta = sources.createmeta(mapping.jira.project, mapping.jira.issue_type)
        check_live(mapping, describe=sources.describe, jira_fields=sources.jira_fields, createmeta=createmeta)
    except MappingError:
        raise
    except Exception as err:  # an API refusing a metadata call ends the live check, with its reason
        raise LiveUnavailable(f"reading metadata failed: {err}", fix="check the connections and the API user's "
                              "permissions (describe, field and createmeta access)") from None
