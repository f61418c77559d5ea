"""`sfjira audit`: the ledger's before -> after of every write, from a shell.

    sfjira audit [--mapping NAME] [--run RUN] [--record ID_OR_KEY] [--field FIELD]
                 [--since ISO] [--until ISO] [--limit N] [--format table|csv|json] [--reveal]
    sfjira audit --prune [--mapping NAME] [--days N]

`--run` takes the state store's run id or the Airflow run id. PII images print masked; `--reveal`
opens them with the key of the crypto connection (`[sfjira] crypto_conn_id`) -- for someone who may
read the PII anyway, as the key is needed. `--prune` removes rows older than `[sfjira]
ledger_retention_days` (or `--days`; 0 keeps everything).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

import pandas as pd

from sfjira.cli.state import _command
from sfjira.pii import cipher_from_airflow
from sfjira.state import audit as trail
from sfjira.state.store import StateStore

TABLE = ["at", "run_id", "side", "action", "cause", "sf_id", "jira_key", "field", "before", "after", "winner",
         "reason"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command(commands, "audit", "the audit trail: before -> after of every field the sync wrote, "
                      "by mapping, run, record, field and time", _audit)
    parser.add_argument("--mapping")
    parser.add_argument("--run", dest="run_id", help="state store run id (mapping/airflow_run_id) or Airflow run id")
    parser.add_argument("--record", help="Salesforce id or Jira key")
    parser.add_argument("--field", help="field as the ledger names it (target field, or the mapping's key)")
    parser.add_argument("--since", type=_time, help="ISO date/time (UTC when no offset), inclusive")
    parser.add_argument("--until", type=_time, help="ISO date/time (UTC when no offset), exclusive")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--reveal", action="store_true", help="show PII values (needs the PII key)")
    parser.add_argument("--prune", action="store_true", help="remove rows past the retention period")
    parser.add_argument("--days", type=int, help="with --prune: retention in days instead of the setting")


def _time(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date/time: {text!r} (e.g. 2026-11-29 or "
                                         "2026-11-29T12:00:00+00:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _audit(store: StateStore, args: argparse.Namespace) -> None:
    if args.prune:
        removed = trail.prune(store, args.mapping, days=args.days)
        print(f"removed {removed} ledger row(s) past the retention period")
        return
    cipher = cipher_from_airflow() if args.reveal else None
    frame = trail.audit(store, mapping=args.mapping, run=args.run_id, record=args.record, field=args.field,
                        since=args.since, until=args.until, cipher=cipher, limit=args.limit)
    if args.format == "json":
        print(frame.to_json(orient="records", date_format="iso", indent=2))
        return
    shown = frame.assign(before=frame["before"].map(_text), after=frame["after"].map(_text))
    if args.format == "csv":
        shown.to_csv(sys.stdout, index=False)
    elif not len(shown):
        print("no ledger rows match")
    else:
        print(shown[TABLE].to_string(index=False, max_colwidth=60))


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)

