"""`python -m sfjira.state`: look at or prepare the state store from a shell.

    python -m sfjira.state status --mapping NAME [--url URL]
    python -m sfjira.state migrate [--url URL]
    python -m sfjira.state unlink --mapping NAME --sf-id ID [--sf-id ID ...]

Without --url the Airflow connection `sfjira_state` is used, or the default SQLite file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sfjira.exceptions import SfJiraError
from sfjira.state.engine import DEFAULT_CONN_ID
from sfjira.state.store import StateStore


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sfjira.state", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="SQLAlchemy URL (default: Airflow connection, else the SQLite file)")
    parser.add_argument("--conn-id", default=DEFAULT_CONN_ID, help="Airflow connection id (default %(default)s)")
    parser.add_argument("--schema", help="PostgreSQL schema holding the tables")
    sub = parser.add_subparsers(dest="command", required=True)
    status = sub.add_parser("status", help="runs, links, intents and rejects of one mapping")
    status.add_argument("--mapping", required=True)
    sub.add_parser("migrate", help="create or upgrade the schema")
    unlink = sub.add_parser("unlink", help="forget links (and their synced state) of Salesforce ids")
    unlink.add_argument("--mapping", required=True)
    unlink.add_argument("--sf-id", action="append", required=True, dest="sf_ids")
    return parser


def _store(args: argparse.Namespace) -> StateStore:
    if args.url:
        return StateStore(args.url, schema=args.schema)
    kwargs = {"schema": args.schema} if args.schema else {}
    return StateStore.from_airflow(args.conn_id, **kwargs)


def _print_status(store: StateStore, mapping: str) -> None:
    info = store.status(mapping)
    print(f"state store: {store.url} (schema v{info['schema_version']})")
    print(f"mapping: {mapping}")
    runs = info["runs"]
    print(f"runs: {sum(runs.values())} " + " ".join(f"{k}={v}" for k, v in sorted(runs.items())))
    links = info["links"]
    print(f"links: {sum(links.values())} " + " ".join(f"{k}={v}" for k, v in sorted(links.items())))
    print(f"synced records: {info['synced_records']}")
    print(f"pending intents: {info['pending_intents']}")
    print(f"open rejects: {info['open_rejects']}")
    for side, value in sorted(info["watermarks"].items()):
        print(f"watermark {side}: {value.isoformat()}")
    if not info["recent_runs"].empty:
        print("recent runs:")
        print(info["recent_runs"].to_string(index=False))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with _store(args) as store:
            if args.command == "migrate":
                print(f"{store.url}: schema version {store.migrate()}")
            elif args.command == "unlink":
                print(f"removed {store.delete_links(args.mapping, args.sf_ids)} link(s)")
            else:
                _print_status(store, args.mapping)
    except SfJiraError as err:
        print(err, file=sys.stderr)
        return 2
    return 0
