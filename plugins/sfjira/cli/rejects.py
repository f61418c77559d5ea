"""`sfjira rejects | replay`: the dead-letter queue of a mapping from a shell.

    sfjira rejects --mapping NAME [--all] [--format table|csv|json]
    sfjira replay --mapping NAME [--print-only]

`rejects` lists the open rejects (with --all the closed ones too) with code, field, message, fix,
attempts and first/last seen. `replay` goes through Airflow, not around it: it triggers the mapping's
sync DAG with conf `{"replay_rejects": true}` (as `airflow dags trigger` does, and by running it), so
the replay is an ordinary DAG run with its logs, retries and one-writer rules; --print-only prints the
command instead.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from sfjira.cli.state import _command
from sfjira.state.store import StateStore

COLUMNS = ["side", "record_id", "code", "field", "message", "fix", "attempts", "first_seen", "last_seen"]
CLOSED = ["resolved", "resolved_at"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = _command(commands, "rejects", "list a mapping's open rejects (dead letters)", _rejects)
    listing.add_argument("--mapping", required=True)
    listing.add_argument("--all", action="store_true", help="closed rejects too")
    listing.add_argument("--format", choices=("table", "csv", "json"), default="table")
    replay = commands.add_parser("replay", help="sync the records of a mapping's open rejects again, through "
                                 "a run of its sync DAG with replay_rejects=true")
    replay.add_argument("--mapping", required=True)
    replay.add_argument("--print-only", action="store_true", help="print the airflow command, do not run it")
    replay.set_defaults(run=_replay)


def _rejects(store: StateStore, args: argparse.Namespace) -> None:
    # Sealed PII (payloads, messages of PII fields) stays sealed: the listing is for a terminal.
    frame = store.rejects(args.mapping, include_resolved=args.all)
    frame = frame[COLUMNS + CLOSED if args.all else COLUMNS]
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif args.format == "json":
        print(frame.to_json(orient="records", date_format="iso", indent=2))
    elif not len(frame):
        print(f"no {'' if args.all else 'open '}rejects for {args.mapping}")
    else:
        print(frame.to_string(index=False, max_colwidth=80))


def trigger_command(mapping: str) -> list[str]:
    """`airflow dags trigger sfjira_sync__<mapping> --conf '{"replay_rejects": true}'`."""
    airflow = Path(sys.executable).parent / "airflow"
    program = str(airflow) if airflow.exists() else (shutil.which("airflow") or "airflow")
    return [program, "dags", "trigger", f"sfjira_sync__{mapping}", "--conf", json.dumps({"replay_rejects": True})]


def _replay(args: argparse.Namespace) -> int:
    command = trigger_command(args.mapping)
    if args.print_only:
        print(shlex.join(command))
        return 0
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        print(f"[REPLAY_TRIGGER_FAILED] triggering the sync DAG failed: {done.stderr.strip()[-2000:]} -- fix: check "
              f"that the DAG sfjira_sync__{args.mapping} exists and the Airflow CLI reaches its metadata "
              f"database, or run: {shlex.join(command)}", file=sys.stderr)
        return 2
    return 0
