"""`sfjira rollback`: the rollback DAG's two steps run from a shell, on the same code.

    sfjira rollback --mapping NAME --run RUN                     # dry run: prints the diff, writes nothing
    sfjira rollback --mapping NAME --run RUN --apply [--created delete|label|keep]

`--run` is the run to undo (its Airflow run id or state-store run id, as `sfjira audit --mapping NAME`
lists them); `--mapping` a mapping name (looked up in `[sfjira] mappings_dir`, else include/mappings
beside Airflow's DAGs folder) or the path of its YAML. Connections come from Airflow (as for its tasks);
the run holds the mapping's writer lease like a DAG run (`sfjira_rollback__<name>/cli__<time>`), so it
never writes beside a sync. Without --apply it is the DAG's dry run; with it, plan and restore. Exit
code 0 when everything planned was restored or left alone as reported, 1 when a record was refused (the
ledger's `reject` rows say why), 2 when the rollback could not start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from sfjira.exceptions import SfJiraError
from sfjira.rollback.plan import CREATE_POLICIES


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("rollback", help="restore every field a run wrote (dry run unless --apply)",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mapping", required=True, help="mapping name or path of its YAML")
    parser.add_argument("--run", required=True, dest="target", help="the run to undo (Airflow or state-store run id)")
    parser.add_argument("--apply", action="store_true", help="write (default: dry run, print the diff)")
    parser.add_argument("--created", choices=CREATE_POLICIES, default="keep",
                        help="what to do with the issues the run created (default %(default)s)")
    parser.add_argument("--conn-id", default="sfjira_state", help="state store connection (default %(default)s)")
    parser.set_defaults(run=_rollback)


def mapping_file(name_or_path: str) -> Path:
    """The YAML of a mapping given by path or by name (the name inside the file, as the DAG ids use it)."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    from airflow.configuration import conf

    from sfjira.dag_factory import mappings_dir
    from sfjira.mapping import iter_mappings

    folder = mappings_dir(Path(conf.get("core", "dags_folder")))
    for file, mapping in iter_mappings(folder):
        if getattr(mapping, "name", None) == name_or_path:
            return file
    raise SfJiraError(f"no mapping named {name_or_path!r} in {folder}", code="MAPPING_NOT_FOUND",
                      fix="give the mapping's name as its `name:` says, or the path of its YAML file")


def _rollback(args: argparse.Namespace) -> int:
    from sfjira.mapping import load_mapping
    from sfjira.rollback.restore import restore_step
    from sfjira.rollback.run import RollbackRun, no_window
    from sfjira.rollback.steps import plan_step
    from sfjira.storage import read_text

    try:
        path = mapping_file(args.mapping)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        run = RollbackRun(mapping_file=str(path), dag_id=f"sfjira_rollback__{load_mapping(path).name}",
                          airflow_run_id=f"cli__{stamp}", window=no_window(), dry_run=not args.apply,
                          target=args.target, created=args.created, state_conn_id=args.conn_id)
        planned = plan_step(run)
        print(read_text(planned["diff"]))
        if not args.apply:
            print(f"dry run: nothing written (the diff is also in {planned['diff']}); --apply writes it")
            return 0
        done = restore_step(run, planned)
    except SfJiraError as err:
        print(err, file=sys.stderr)
        return 2
    print(json.dumps({side: done[side] for side in ("jira", "salesforce")}, indent=2, sort_keys=True))
    return 1 if any(int(done[side].get("failed", 0)) for side in ("jira", "salesforce")) else 0
