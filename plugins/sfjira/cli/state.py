"""`sfjira status | migrate | unlink | rotate-pii`: look at or prepare the state store from a shell.

    sfjira status --mapping NAME [--url URL]
    sfjira migrate [--url URL]
    sfjira unlink --mapping NAME --sf-id ID [--sf-id ID ...]
    sfjira rotate-pii [--url URL]      re-seal stored PII under the newest key of `sfjira_crypto`

Without --url the Airflow connection `sfjira_state` is used, or the default SQLite file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sfjira.exceptions import SfJiraError
from sfjira.pii import cipher_from_airflow
from sfjira.state.engine import DEFAULT_CONN_ID
from sfjira.state.store import StateStore


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = _command(commands, "status", "runs, links, intents and rejects of one mapping", _status)
    status.add_argument("--mapping", required=True)
    _command(commands, "migrate", "create or upgrade the state store's schema", _migrate)
    unlink = _command(commands, "unlink", "forget links (and their synced state) of Salesforce ids", _unlink)
    unlink.add_argument("--mapping", required=True)
    unlink.add_argument("--sf-id", action="append", required=True, dest="sf_ids")
    _command(commands, "rotate-pii", "re-seal every stored PII value under the newest key of the crypto "
             "connection (after putting a new key first, before dropping the old one)", _rotate_pii)


def _command(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str,
             action: Callable[[StateStore, argparse.Namespace], None]) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--url", help="SQLAlchemy URL (default: Airflow connection, else the SQLite file)")
    parser.add_argument("--conn-id", default=DEFAULT_CONN_ID, help="Airflow connection id (default %(default)s)")
    parser.add_argument("--schema", help="PostgreSQL schema holding the tables")
    parser.set_defaults(run=lambda args: _with_store(args, action))
    return parser


def _with_store(args: argparse.Namespace, action: Callable[[StateStore, argparse.Namespace], None]) -> int:
    try:
        with _store(args) as store:
            action(store, args)
    except SfJiraError as err:
        print(err, file=sys.stderr)
        return 2
    return 0


def _store(args: argparse.Namespace) -> StateStore:
    if args.url:
        return StateStore(args.url, schema=args.schema)
    kwargs = {"schema": args.schema} if args.schema else {}
    return StateStore.from_airflow(args.conn_id, **kwargs)


def _migrate(store: StateStore, _args: argparse.Namespace) -> None:
    print(f"{store.url}: schema version {store.migrate()}")


def _unlink(store: StateStore, args: argparse.Namespace) -> None:
    print(f"removed {store.delete_links(args.mapping, args.sf_ids)} link(s)")


def _rotate_pii(store: StateStore, _args: argparse.Namespace) -> None:
    print(f"re-sealed {store.rotate_pii(cipher_from_airflow())} stored PII value(s) under the newest key")


def _status(store: StateStore, args: argparse.Namespace) -> None:
    mapping = args.mapping
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
        print(f"cursor {side}: {value.isoformat()}")  # the committed cursor (sfjira.sync.cursor)
    held = info["writer_lease"]
    print(f"writer lease: held by {held.holder} until {held.expires_at.isoformat()} unless renewed" if held
          else "writer lease: free")
    if not info["recent_runs"].empty:
        print("recent runs:")
        print(info["recent_runs"].to_string(index=False))
