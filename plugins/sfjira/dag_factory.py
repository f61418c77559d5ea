"""The one DAG builder: every DAG kind of a mapping -- `sfjira_sync__<name>`, `sfjira_reconcile__<name>`
and `sfjira_rollback__<name>` -- from the settings they share (`mapping_dag`).

The sync DAG runs each data interval of the mapping's schedule, and soon after each change either side
reports to the webhook receiver (sfjira.webhooks: an event on `events_asset`, coalesced while a run is on):

    extract_salesforce ─┐
                        ├─> transform ─> plan ─> load_jira ─> load_salesforce ─> report
    extract_jira ───────┘

The extracts write each side's changed records; `transform` puts both through the mapping (canonical
frames + the transform's rejects); `plan` judges identities against the links and decides one action per
record and direction; the loads write; the report counts. Every arrow is an input: each step receives
the outputs (XComArgs) of the steps it reads -- `plan` also reads both extracts, the report every step.
The same tasks embed in a DAG of your own as a task group: `sync_task_group(mapping)` (both come from
`add_sync_tasks`, the one place the sync's tasks are built).

The reconciliation DAG is the full two-sided compare, daily and on demand:

    extract_salesforce ─┐
                        ├─> compare ─> check_drift_limit ─> heal
    extract_jira ───────┘

Params of a manual reconciliation: `scope` ("all" or "YYYY-MM-DD": records changed since that day,
UTC), `auto_heal` (send the healable drift through the sync's plan/load) and `fail_on_drift_above`
(fail the run when drift rows exceed it). The limit is checked after the reports are written and
BEFORE healing: drift that large is more likely a broken mapping or connection than edits, so it is
not healed blindly.

A broken mapping must never stop the others. Airflow keys an import error by the DAG file and marks
every DAG of that file stale, so the valid mappings' DAGs come from one file (dags/sfjira_dags.py,
which never raises for a mapping) and the problems of the broken ones are raised by another
(dags/sfjira_mapping_errors.py), which holds no DAG: Airflow shows them as its import error with
each mapping's own message (file:line, field, fix) -- never as a silently missing DAG.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import (
    DAG,
    Asset,
    AssetOrTimeSchedule,
    BaseOperator,
    CronDataIntervalTimetable,
    Param,
    TaskGroup,
)

from sfjira import settings
from sfjira.alerts import MappingAlerts
from sfjira.exceptions import MappingError
from sfjira.mapping import Mapping, MappingProblems, iter_mappings, load_mapping
from sfjira.operators.reconcile import (
    CompareOperator,
    DriftLimitOperator,
    HealOperator,
    ReconcileExtractJiraOperator,
    ReconcileExtractSalesforceOperator,
)
from sfjira.operators.rollback import RollbackPlanOperator, RollbackRestoreOperator
from sfjira.operators.sync import (
    ExtractJiraOperator,
    ExtractSalesforceOperator,
    LoadJiraOperator,
    LoadSalesforceOperator,
    PlanOperator,
    SyncReportOperator,
    TransformOperator,
)
from sfjira.reconcile.run import SCOPE_ALL, SCOPE_PATTERN
from sfjira.rollback.plan import CREATE_POLICIES
from sfjira.sync.cursor import MAX_REACH_BACK_HOURS
from sfjira.sync.lanes import load_concurrency

DEFAULT_START = pendulum.datetime(2026, 1, 1, tz="UTC")
SALESFORCE_POOL, JIRA_POOL = "salesforce_api", "jira_api"
RECONCILE_SCHEDULE = "0 3 * * *"  # daily at 03:00 UTC, off the business hours of most orgs


@dataclass(frozen=True)
class SyncTasks:
    """The ends of a sync's tasks: the extracts start it, the report ends it."""

    first: list[BaseOperator]
    last: BaseOperator


def default_args() -> dict[str, Any]:
    """Retries are the recovery path for transient faults; `[sfjira] task_retries` / `retry_delay_seconds`
    let a demo or test run fail fast or retry quickly without editing the DAG. Read when a DAG is built
    (each parse), not when this module is first imported, so a changed configuration takes effect.

    `weight_rule="upstream"`: a task outranks the tasks before it, so a run already under way (holding its
    mapping's writer lease) gets the free worker slots for its next task ahead of the extracts of runs
    still waiting for that lease (a backfill's other windows). Airflow's default, "downstream", ranks the
    extracts highest, and a backfill with many active runs crawled (docs/celery.md)."""
    return {
        "owner": "sfjira",
        "weight_rule": "upstream",
        "retries": settings.get_int("task_retries"),
        "retry_delay": dt.timedelta(seconds=settings.get_float("retry_delay_seconds")),
        "retry_exponential_backoff": True,
        "max_retry_delay": dt.timedelta(minutes=10),
    }


def covering_logical_date(schedule: str, now: dt.datetime) -> dt.datetime:
    """A logical date whose data interval [previous tick, next tick) contains `now` (for manual runs
    with `airflow dags test`, whose interval is the last complete one before the logical date)."""
    from croniter import croniter

    return croniter(schedule, now).get_next(dt.datetime)


def mappings_dir(dags_folder: Path) -> Path:
    return Path(settings.get("mappings_dir") or dags_folder.parent / "include" / "mappings")


def start_date_of(mapping: Mapping) -> pendulum.DateTime:
    start = mapping.start_datetime
    return pendulum.instance(start) if start else DEFAULT_START


def assets(mapping: Mapping) -> list[Asset]:
    return [Asset(name=f"sfjira.{mapping.name}.salesforce.{mapping.salesforce.object}",
                  uri=f"sfjira://{mapping.name}/salesforce/{mapping.salesforce.object}"),
            Asset(name=f"sfjira.{mapping.name}.jira.{mapping.jira.project}",
                  uri=f"sfjira://{mapping.name}/jira/{mapping.jira.project}")]


def events_asset(mapping: Mapping | str) -> Asset:
    """What the webhook receiver (sfjira.webhooks) records an event on when either side reports a change.
    The sync's extract steps name it as an inlet, which is what makes Airflow create it in its database."""
    name = mapping if isinstance(mapping, str) else mapping.name
    return Asset(name=f"sfjira.{name}.events", uri=f"sfjira://{name}/events")


def timetable(schedule: str | None,
              events: Asset | None = None) -> CronDataIntervalTimetable | AssetOrTimeSchedule | None:
    """The cron's data intervals (None: triggered only); with `events`, also a run whenever the asset gets
    an event (`asset_triggered` runs: no logical date, no data interval -- sfjira.sync.cursor reads them
    from the committed cursor to the run's start). The cron stays: it is the safety net when no event comes."""
    if not schedule:
        return None
    cron = CronDataIntervalTimetable(schedule, timezone="UTC")
    return AssetOrTimeSchedule(timetable=cron, assets=events) if events is not None else cron


def mapping_dag(mapping: Mapping, kind: str, schedule: str | None, *, doc_md: str, params: dict[str, Any],
                events: Asset | None = None) -> DAG:
    """The settings every sfjira DAG of a mapping shares: `sfjira_<kind>__<name>`, a data-interval
    timetable (none: triggered only; `events`: or an asset event), one run at a time, retries with backoff,
    tags. One run at a time also coalesces events: while a run is queued or running Airflow keeps the
    asset's new events queued, and the next run consumes all of them (airflow/models/dag.py
    `dags_needing_dagruns` defers an asset-triggered DAG at max_active_runs)."""
    return DAG(
        dag_id=f"sfjira_{kind}__{mapping.name}",
        schedule=timetable(schedule, events),
        start_date=start_date_of(mapping),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["sfjira", kind, mapping.salesforce.object, mapping.jira.project],
        doc_md=doc_md,
        params=params,
        # The mapping's alert rules (sfjira.alerts), checked whenever a sync or reconciliation run ends.
        **_alert_callbacks(mapping, kind),
        # A DAG file holds exactly the DAGs it puts in its globals: sfjira_mapping_errors.py builds them too
        # (to report a mapping whose DAGs fail to build) and must not be credited with them.
        auto_register=False,
    )


def _alert_callbacks(mapping: Mapping, kind: str) -> dict[str, Any]:
    if mapping.alerts is None or kind not in ("sync", "reconcile"):
        return {}
    check = MappingAlerts(str(mapping.source_file), kind)
    return {"on_success_callback": check, "on_failure_callback": check}


def sync_params() -> dict[str, Param]:
    """The sync's run params. A DAG that embeds a sync (`sync_task_group`) may declare them too; without
    them the steps run as if each were false."""
    return {
        "dry_run": Param(False, type="boolean", description="Plan only: write nothing, produce the diff"),
        "full_resync": Param(False, type="boolean", description="Ignore the window: compare everything"),
        "replay_rejects": Param(False, type="boolean",
                                description="Also read the open rejects' records by id on both sides and push them "
                                            "through the plan and load again (after fixing the data or the mapping)"),
        # The safe way to re-sync "the last N hours" of a scheduled DAG: a manual run never takes the
        # logical date of an interval the scheduler has yet to create (a backfill can: README).
        "reach_back_hours": Param(0, type="integer", minimum=0, maximum=MAX_REACH_BACK_HOURS,
                                  description="Manual runs: also re-read what changed this many hours before "
                                              "the run's interval (and re-sync it), on top of the window "
                                              "from the cursor. 0: off"),
    }


def add_sync_tasks(mapping: Mapping, *, salesforce_conn_id: str = "salesforce_default",
                   jira_conn_id: str = "jira_default", state_conn_id: str = "sfjira_state") -> SyncTasks:
    """The sync's tasks, added to the DAG or task group being defined (the one builder behind both
    `sync_dag` and `sync_task_group`). Each step gets its inputs as the outputs (XComArgs) of the steps
    before it, which is also what orders them."""
    common = {"mapping_file": str(mapping.source_file), "salesforce_conn_id": salesforce_conn_id,
              "jira_conn_id": jira_conn_id, "state_conn_id": state_conn_id}
    events = [events_asset(mapping)]
    ex_sf = ExtractSalesforceOperator(task_id="extract_salesforce", pool=SALESFORCE_POOL, inlets=events, **common)
    ex_j = ExtractJiraOperator(task_id="extract_jira", pool=JIRA_POOL, inlets=events, **common)
    transform = TransformOperator(task_id="transform", salesforce=ex_sf.output, jira=ex_j.output, **common)
    plan = PlanOperator(task_id="plan", salesforce=ex_sf.output, jira=ex_j.output, transformed=transform.output,
                        **common)
    # Backfills run up to 10 windows at once by default: the loads of one mapping must not interleave,
    # or two runs could both create the issue for a record in their overlapping windows.
    # A load has up to `[sfjira] load_concurrency` chunks in flight: it holds that many slots of its API's pool.
    slots = load_concurrency()
    load_j = LoadJiraOperator(task_id="load_jira", plan=plan.output, pool=JIRA_POOL, pool_slots=slots,
                              max_active_tis_per_dag=1, **common)
    load_sf = LoadSalesforceOperator(task_id="load_salesforce", plan=plan.output, jira_load=load_j.output,
                                     pool=SALESFORCE_POOL, pool_slots=slots, max_active_tis_per_dag=1, **common)
    steps = {"extract_salesforce": ex_sf, "extract_jira": ex_j, "transform": transform, "plan": plan,
             "load_jira": load_j, "load_salesforce": load_sf}
    report = SyncReportOperator(task_id="report", steps={name: op.output for name, op in steps.items()},
                                outlets=assets(mapping), **common)
    return SyncTasks(first=[ex_sf, ex_j], last=report)


def sync_task_group(mapping: Mapping | str | Path, *, group_id: str | None = None,
                    salesforce_conn_id: str = "salesforce_default", jira_conn_id: str = "jira_default",
                    state_conn_id: str = "sfjira_state", **group_kwargs: Any) -> TaskGroup:
    """A mapping's sync as a task group of your own DAG (call it inside `with DAG(...)`):

        with DAG("nightly_crm", schedule="@daily", params=sync_params()) as dag:
            prepare >> sync_task_group("include/mappings/opportunity_to_epic.yaml") >> notify

    `mapping`: a loaded Mapping or the path of its YAML. `group_id` (default `sfjira_sync__<name>`) prefixes
    the task ids; the group's files go in a sub-folder of the run folder named after it. The steps, their
    order and the cursor are the sync DAG's own; the window is the DAG run's data interval widened back to
    the committed cursor, so the DAG's schedule should be no slower than you want the sync to run.
    Remaining keyword arguments go to TaskGroup (e.g. `tooltip`)."""
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(Path(mapping))
    with TaskGroup(group_id or f"sfjira_sync__{mapping.name}", **group_kwargs) as group:
        add_sync_tasks(mapping, salesforce_conn_id=salesforce_conn_id, jira_conn_id=jira_conn_id,
                       state_conn_id=state_conn_id)
    return group


def sync_dag(mapping: Mapping) -> DAG:
    """`sfjira_sync__<name>`: the sync's tasks in a DAG of their own on the mapping's schedule, and on
    every event the webhook receiver records for the mapping (near-real-time; README)."""
    with mapping_dag(mapping, "sync", mapping.schedule, doc_md=_doc(mapping), params=sync_params(),
                     events=events_asset(mapping)) as dag:
        add_sync_tasks(mapping)
    return dag


def drift_asset(mapping: Mapping) -> Asset:
    return Asset(name=f"sfjira.{mapping.name}.drift", uri=f"sfjira://{mapping.name}/drift")


def reconcile_params() -> dict[str, Param]:
    return {
        "scope": Param(SCOPE_ALL, type="string", pattern=SCOPE_PATTERN,
                       description='"all", or a date YYYY-MM-DD: only records changed since that day (UTC)'),
        "auto_heal": Param(False, type="boolean",
                           description="Repair the healable drift through the sync's own plan and load"),
        "fail_on_drift_above": Param(None, type=["null", "integer"], minimum=0,
                                     description="Fail the run when drift rows exceed this count (empty: off)"),
    }


def reconcile_dag(mapping: Mapping) -> DAG:
    common = {"mapping_file": str(mapping.source_file)}
    with mapping_dag(mapping, "reconcile", RECONCILE_SCHEDULE, doc_md=_reconcile_doc(mapping),
                     params=reconcile_params()) as dag:
        ex_sf = ReconcileExtractSalesforceOperator(task_id="extract_salesforce", pool=SALESFORCE_POOL, **common)
        ex_j = ReconcileExtractJiraOperator(task_id="extract_jira", pool=JIRA_POOL, **common)
        compare = CompareOperator(task_id="compare", salesforce=ex_sf.output, jira=ex_j.output,
                                  outlets=[drift_asset(mapping)], **common)
        limit = DriftLimitOperator(task_id="check_drift_limit", compare=compare.output, **common)
        heal = HealOperator(task_id="heal", salesforce=ex_sf.output, jira=ex_j.output, compare=compare.output,
                            max_active_tis_per_dag=1, **common)
        # The limit is checked BEFORE healing, though heal does not read its output.
        limit >> heal
    return dag


def rollback_params() -> dict[str, Param]:
    return {
        # No default: the trigger form asks for it, and a run triggered without it is refused.
        "run": Param(type="string", minLength=1,
                     description="The run to undo: its Airflow run id (e.g. manual__2026-11-29T10:00:00+00:00) or "
                                 "state-store run id, as `sfjira audit --mapping NAME` lists them"),
        "dry_run": Param(True, type="boolean",
                         description="Plan only (the default): write nothing, leave rollback_diff.md in the run folder"),
        "created": Param("keep", type="string", enum=list(CREATE_POLICIES),
                         description="Issues the run created: delete (and remove the key it wrote back), label "
                                     "(sfjira-rolled-back) or keep"),
    }


def rollback_dag(mapping: Mapping) -> DAG:
    """`sfjira_rollback__<name>`: triggered by hand (or `sfjira rollback`), never scheduled.

        plan ─> restore
    """
    common = {"mapping_file": str(mapping.source_file)}
    with mapping_dag(mapping, "rollback", None, doc_md=_rollback_doc(mapping), params=rollback_params()) as dag:
        plan = RollbackPlanOperator(task_id="plan", **common)
        RollbackRestoreOperator(task_id="restore", plan=plan.output, pool=SALESFORCE_POOL, **common)
    return dag


def _rollback_doc(mapping: Mapping) -> str:
    return (f"### sfjira rollback: `{mapping.name}`\n\n"
            "Every field a run wrote, on both sides, back to the value it replaced. A field changed since by anyone "
            "else is left alone and listed. Params: `run` (the run to undo), `dry_run` (default true: only "
            "rollback_diff.md in the run folder), `created` (delete | label | keep the issues the run created). "
            "The rollback is ledgered and can itself be rolled back. README: \"When a sync went wrong\".")


def _reconcile_doc(mapping: Mapping) -> str:
    return (f"### sfjira reconciliation: `{mapping.name}`\n\n"
            f"Every record of Salesforce `{mapping.salesforce.object}` and every issue of Jira "
            f"`{mapping.jira.project}/{mapping.jira.issue_type}` in scope, compared field by field. Reports "
            "(drift.json, drift.csv, drift_report.html) land in the run folder under the storage base.\n\n"
            "Params: `scope` (\"all\" or YYYY-MM-DD), `auto_heal` (repair through the sync's plan/load), "
            "`fail_on_drift_above` (fail the run above this many drift rows; checked before healing).")


def _doc(mapping: Mapping) -> str:
    return (f"### sfjira sync: `{mapping.name}`\n\n{mapping.description or ''}\n\n"
            f"Salesforce `{mapping.salesforce.object}` <-> Jira `{mapping.jira.project}/{mapping.jira.issue_type}`, "
            f"schedule `{mapping.schedule}`, overlap `{mapping.overlap}`. Mapping file: `{mapping.source_file}`.\n\n"
            "Params: `dry_run` (plan only, readable diff in the run folder), `full_resync` (ignore the window), "
            "`replay_rejects` (also re-read the open rejects' records by id and sync them again), "
            "`reach_back_hours` (re-sync the last N hours: trigger a manual run; never a backfill up to "
            "the latest interval, which stops Airflow 3.3's scheduler -- see the README).")


def build_dags(dags_folder: Path) -> tuple[dict[str, DAG], list[MappingError]]:
    """The DAGs of every valid mapping, and the problems of every broken one (one entry per problem)."""
    dags: dict[str, DAG] = {}
    problems: list[MappingError] = []
    for path, mapping in iter_mappings(mappings_dir(dags_folder)):
        if isinstance(mapping, MappingError):
            problems.extend(mapping.errors if isinstance(mapping, MappingProblems) else [mapping])
            continue
        try:
            built = [sync_dag(mapping), reconcile_dag(mapping), rollback_dag(mapping)]
        except Exception as err:  # noqa: BLE001 - whatever stops one mapping's DAGs is that mapping's problem
            problems.append(MappingError(f"building its DAGs failed: {type(err).__name__}: {err}", file=str(path),
                                         code="MAPPING_DAG_FAILED", fix="correct the mapping, or report this error"))
            continue
        dags.update({dag.dag_id: dag for dag in built})
    return dags, problems


def raise_mapping_problems(dags_folder: Path) -> None:
    """Raise every broken mapping's problems at once (for the DAG file that shows them as its import error)."""
    _, problems = build_dags(dags_folder)
    if problems:
        raise MappingProblems(problems)
