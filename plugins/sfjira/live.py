"""`make airflow` (`python -m sfjira.live [--dir DIR] [--port N]`): both emulators with the demo's seeded
data and a live Airflow 3 over them -- api-server, scheduler, dag-processor and triggerer, LocalExecutor,
this checkout's DAGs, the connections and pools -- until Ctrl-C (or SIGTERM), then everything it started
is stopped and it exits 0.

A component that dies is restarted, and the terminal says so (sfjira.supervisor). Everything lives under
.airflow/ (recreated on each start): home/ is AIRFLOW_HOME (home/logs: the components' own logs and the
task logs the UI shows), runs/ the run folders, state.db the state store, emulators.json the emulators'
addresses and admin tokens. The port is 8080, or a free one when 8080 is taken; $SFJIRA_AIRFLOW_PORT or
--port choose another (0: any free one).

`--executor celery` (`make airflow-celery`) runs the CeleryExecutor profile instead (sfjira.celery_profile,
docs/celery.md): the metadata DB, Celery's results and the state store in the PostgreSQL database
`--database` names (dropped and created again on each start, like .airflow/), Redis at `--broker` as the
broker, and two `airflow celery worker` processes (`--workers N`) next to the four components.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import sqlalchemy as sa

from emulators.common.control import ADMIN_TOKEN_HEADER
from emulators.common.process import EmulatorProcess
from sfjira.celery_profile import (
    CeleryProfile,
    celery_problem,
    celery_workers,
    postgres_problem,
    recreate_database,
    redis_problem,
)
from sfjira.demo import start_emulators
from sfjira.emulator_env import environment, postgres_state, sqlite_state
from sfjira.local_airflow import (
    REPO,
    LocalAirflowError,
    Login,
    airflow_environment,
    base_url,
    components,
    free_port,
    port_is_free,
    prepare,
    wait_for_api_server,
)
from sfjira.supervisor import Supervisor

WORK = REPO / ".airflow"
PORT_ENV = "SFJIRA_AIRFLOW_PORT"
DEFAULT_PORT = 8080
# Fixed, published logins: the api-server listens on loopback only (sfjira.local_airflow).
LOGINS = (Login("admin", "admin", "admin"), Login("viewer", "viewer", "viewer"))
READY = "Airflow is up: "  # the line tests (and people) wait for
DATABASE_ENV, BROKER_ENV = "SFJIRA_AIRFLOW_DATABASE", "SFJIRA_CELERY_BROKER"
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/sfjira_live"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
STATE_SCHEMA = "sfjira"


def choose_port(requested: str | None) -> int:
    """The asked-for port (0: any free one), else 8080 while it is free, else any free one."""
    if requested is None or requested == "":
        if port_is_free(DEFAULT_PORT):
            return DEFAULT_PORT
        port = free_port()
        print(f"Port {DEFAULT_PORT} is taken; using {port} (set {PORT_ENV} to choose)")
        return port
    try:
        port = int(requested)
    except ValueError:
        port = -1
    if port == 0:
        return free_port()
    if not 0 < port < 65536 or not port_is_free(port):
        raise LocalAirflowError(f"port {requested} is not a free TCP port on 127.0.0.1",
                                fix=f"set {PORT_ENV} (or --port) to a free port, or 0 for any free one")
    return port


def save_emulators(work: Path, sf: EmulatorProcess, jira: EmulatorProcess) -> Path:
    """Where a person finds the emulators' admin surface (fault injection, counters): owner-only."""
    path = work / "emulators.json"
    path.write_text(json.dumps({name: {"url": e.url, "ca_bundle": e.ca_bundle, "admin_token": e.admin_token}
                                for name, e in (("salesforce", sf), ("jira", jira))}, indent=2) + "\n")
    path.chmod(0o600)
    return path


def celery_setup(database: str, broker: str) -> CeleryProfile:
    """The CeleryExecutor profile of this start, its database created afresh (LocalAirflowError saying
    what is missing: the provider, PostgreSQL or Redis)."""
    problem = celery_problem()
    if problem is None and (pg := postgres_problem(database)):
        problem = f"PostgreSQL does not answer at {database} ({pg}); start it or pass --database / ${DATABASE_ENV}"
    if problem is None and (rd := redis_problem(broker)):
        problem = f"Redis does not answer at {broker} ({rd}); start it (redis-server) or pass --broker / ${BROKER_ENV}"
    if problem is not None:
        raise LocalAirflowError(f"--executor celery needs its services: {problem}",
                                fix="see docs/celery.md, or run `make airflow` (LocalExecutor, SQLite) instead")
    recreate_database(database)
    return CeleryProfile(database=database, broker=broker)


def state_connection(work: Path, profile: CeleryProfile | None) -> dict[str, object]:
    """The state store: a SQLite file, or with Celery a schema of the metadata database (workers on other
    machines could share neither a SQLite file nor the run folders, so a real deployment needs this)."""
    if profile is None:
        return sqlite_state(str(work / "state.db"))
    db = sa.make_url(profile.database)
    return postgres_state(host=db.host or "127.0.0.1", port=db.port or 5432, database=db.database or "",
                          user=db.username or "postgres", schema=STATE_SCHEMA)


def banner(env: dict[str, str], work: Path, sf: EmulatorProcess, emulators_file: Path,
           profile: CeleryProfile | None = None) -> str:
    logins = "; ".join(f"{u.username} / {u.password} ({u.role})" for u in LOGINS)
    faults = json.dumps({"rules": [{"fault": "503", "path": "/query", "times": 4}]})
    state = f"state store {work / 'state.db'}" if profile is None else f"state store schema {STATE_SCHEMA}"
    celery = [] if profile is None else [
        f"  CeleryExecutor: broker {profile.broker}, queue {profile.queue}; metadata DB, Celery results and the",
        f"  state store in {profile.database}; workers' logs {Path(env['AIRFLOW_HOME']) / 'logs'}/celery-worker-*.log."]
    return "\n".join([
        f"{READY}{base_url(env)}",
        f"  Log in as {logins}.",
        *celery,
        "  The sfjira DAGs appear (paused) once the dag-processor has parsed dags/: unpause one to let the",
        "  scheduler run it on its schedule, trigger it (Params: dry_run, full_resync), or backfill a range.",
        f"  Logs: {Path(env['AIRFLOW_HOME']) / 'logs'} (the components' *.log and every task try's log);",
        f"  run folders {work / 'runs'}; {state}; emulators {emulators_file}.",
        "  To watch a retry: make Salesforce answer 503 to one task try's 4 queries, then trigger a sync:",
        f"    curl -s --cacert {sf.ca_bundle} -X PUT -H '{ADMIN_TOKEN_HEADER}: {sf.admin_token}' "
        f"-H 'Content-Type: application/json' -d '{faults}' {sf.url}/__emulator/faults",
        "Press Ctrl-C to stop everything.",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sfjira.live", description="make airflow: a live Airflow")
    parser.add_argument("--dir", type=Path, default=WORK, help="its folder (default: .airflow/, recreated)")
    parser.add_argument("--port", default=os.environ.get(PORT_ENV), help=f"the UI's port (default 8080; ${PORT_ENV})")
    parser.add_argument("--executor", choices=("local", "celery"), default="local",
                        help="local (default: LocalExecutor, SQLite) or celery (PostgreSQL, Redis, two workers)")
    parser.add_argument("--database", default=os.environ.get(DATABASE_ENV, DEFAULT_DATABASE),
                        help=f"celery: the PostgreSQL database, dropped and created again (default {DEFAULT_DATABASE})")
    parser.add_argument("--broker", default=os.environ.get(BROKER_ENV, DEFAULT_BROKER),
                        help=f"celery: the Redis broker (default {DEFAULT_BROKER})")
    parser.add_argument("--workers", type=int, default=2, help="celery: how many workers (default 2)")
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not stop.is_set():
            print(f"\n{signal.Signals(signum).name}: stopping everything", flush=True)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        port = choose_port(args.port)
        profile = celery_setup(args.database, args.broker) if args.executor == "celery" else None
    except LocalAirflowError as err:
        print(err, file=sys.stderr)
        return 1
    work = args.dir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sf, jira = start_emulators(work, new_session=True)
    supervisor: Supervisor | None = None
    try:
        env = airflow_environment(
            work / "home", environment(sf.url, jira.url, sf.ca_bundle, state=state_connection(work, profile)),
            storage=work / "runs", port=port, logins=LOGINS)
        if profile is not None:
            env.update(profile.environment())
        emulators_file = save_emulators(work, sf, jira)
        print("Preparing Airflow: metadata DB, pools salesforce_api and jira_api ...", flush=True)
        prepare(env, logins=LOGINS, reserialize=False)  # the dag-processor parses dags/ itself
        if stop.is_set():  # Ctrl-C while the emulators started or the DB was migrated
            return 0
        workers = celery_workers(env, profile, count=args.workers) if profile is not None else []
        supervisor = Supervisor([*components(env), *workers], say=lambda line: print(line, flush=True))
        supervisor.start()
        watching = supervisor  # (for the closure: mypy does not narrow `supervisor` inside it)

        def keep_watching() -> bool:  # a component that dies while the api-server comes up is restarted too
            watching.check()
            return not stop.is_set()

        wait_for_api_server(env, alive=keep_watching)
        print(banner(env, work, sf, emulators_file, profile), flush=True)
        supervisor.run(stop)
        return 0
    except LocalAirflowError as err:
        if stop.is_set():  # interrupted while preparing: a stop, not a failure
            return 0
        print(err, file=sys.stderr, flush=True)
        return 1
    finally:
        if supervisor is not None:
            supervisor.stop()
        jira.stop()
        sf.stop()
        print("Everything stopped.", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
