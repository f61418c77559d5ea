"""The reconciliation DAG's steps after the extracts: compare + report, and the drift limit.

    compare_step(run, sf_out, jira_out)  -> XCom dict: value-free summary, report paths, rows path
    limit_step(run, compare_out)         -> raises DriftLimitExceeded above `fail_on_drift_above`

The compare runs bucket by bucket (reconcile.buckets): only the identity columns of the whole window
are read at once (for the identity rules, the counterparts and the bucket plan); field values are read
one bucket at a time, so the peak memory is a bucket's, not the window's. Drift rows go to Parquet
parts in the run folder (PII already masked by compare), one per bucket: the heal reads them back, the
limit needs only the counts of the summary; nothing passes rows through XCom.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection
from dataclasses import asdict
from typing import Any

import pandas as pd
from airflow.sdk import ObjectStoragePath

from sfjira.http import insecure_tls_connections
from sfjira.identity.lookup import judge
from sfjira.identity.rules import leave_out
from sfjira.reconcile.buckets import (
    JIRA,
    SALESFORCE,
    BucketPlan,
    Partitioned,
    Totals,
    bucket_count,
    compare_buckets,
    identity_columns,
    part_paths,
    partition,
    plan_buckets,
    read_identities,
)
from sfjira.reconcile.extract import fetch_jira, fetch_salesforce, read_parts
from sfjira.reconcile.heal import heal_plan
from sfjira.reconcile.report import DECISION, DECISION_REASON, with_decisions, write_report
from sfjira.reconcile.result import CATEGORIES, DRIFT_COLUMNS, DriftResult, check_limit, empty_rows
from sfjira.reconcile.run import ReconcileRun
from sfjira.reconcile.scope import counterparts, in_scope_links
from sfjira.storage import make_folder, part_records, read_frame, write_frame
from sfjira.sync.writer import auto_heal, one_writer

log = logging.getLogger(__name__)

ROWS_NAME = "drift_rows"            # a folder: one Parquet part of drift rows per bucket that found any
BUCKETS_NAME = "reconcile_buckets"  # both extracts split by bucket
LINK_IDENTITY = ("sf_id", "jira_id", "jira_key", "state")   # what compare reads of a link


def read_sides(sf_out: dict[str, Any], jira_out: dict[str, Any], *, sf_ids: Collection[str] | None = None,
               jira_keys: Collection[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both extracts (counterparts included once fetched) as the sync's frames; with ids / keys, only
    those rows (read part by part)."""
    return read_parts(sf_out["parts"], "Id", sf_ids), read_parts(jira_out["parts"], "key", jira_keys)


def read_identity_sides(run: ReconcileRun, sf_out: dict[str, Any], jira_out: dict[str, Any]
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both extracts' identity columns only (ids, the key a record holds, the id an issue carries): what
    the identity rules, the counterparts and the bucket plan read of the whole window."""
    sf_cols, jira_cols = identity_columns(run.mapping)
    return read_identities(sf_out["parts"], sf_cols, "Id"), read_identities(jira_out["parts"], jira_cols, "key")


def _with_counterparts(run: ReconcileRun, sf_out: dict[str, Any], jira_out: dict[str, Any],
                       links: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], pd.DataFrame]:
    """compare reads absence as drift: what the records read point at (links, key field, carried id)
    but was not read -- out of the scope or the filter, or gone -- is fetched by id or key first. Claims
    the identity rules refuse are judged first and never followed (a key typed into a record fetches
    nothing); what the fetch brings in is judged too. All of it needs the identity columns only.
    Returns those columns of both sides, the counts and the refusals."""
    sf, jira = read_identity_sides(run, sf_out, jira_out)
    verdict = judge(run.mapping, sf, jira, links, run.jira, run.salesforce)
    wanted = counterparts(run.mapping, links, *leave_out(verdict.refused, sf, jira))
    fetched = {"salesforce": fetch_salesforce(run, sf_out["parts"], wanted.sf_ids),
               "jira": fetch_jira(run, jira_out["parts"], wanted.jira_keys)}
    refused = verdict.refused
    if wanted.sf_ids or wanted.jira_keys:
        log.info("Counterparts: asked %d Salesforce ids and %d Jira keys, found %s", len(wanted.sf_ids),
                 len(wanted.jira_keys), fetched)
        before_sf, before_jira = set(sf["Id"]), set(jira["key"])
        sf, jira = read_identity_sides(run, sf_out, jira_out)
        more = judge(run.mapping, sf[~sf["Id"].isin(before_sf)], jira[~jira["key"].isin(before_jira)], links,
                     run.jira, run.salesforce)
        refused = pd.concat([refused, more.refused], ignore_index=True) if len(more.refused) else refused
    if len(refused):
        log.warning("Identity: %d claim(s) refused (%s)", len(refused),
                    ", ".join(f"{c} {n}" for c, n in refused["code"].value_counts().items()))
    return sf, jira, fetched, refused


def _record_trend(run: ReconcileRun, counts: dict[str, int]) -> None:
    """Counts per category for the trend, once per run (a retried task does not count twice)."""
    history = run.state.drift_history(run.name)
    if not len(history) or run.run_id not in set(history["run_id"]):
        run.state.record_drift(run.name, run.run_id, counts)


def _fresh(folder: ObjectStoragePath) -> ObjectStoragePath:
    """`folder` emptied (what an earlier try of the step left there is not this try's)."""
    if folder.exists():
        folder.fs.rm(folder.path, recursive=True)
    return make_folder(folder)


def _buckets(run: ReconcileRun, sf_out: dict[str, Any], jira_out: dict[str, Any]
             ) -> tuple[BucketPlan, Partitioned, Partitioned, pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """The counterparts fetched, the claims judged, and both sides split into buckets of whole identity
    groups (reconcile.buckets). Returns the plan, both partitions, the links in scope, refusals, fetch counts."""
    links = run.state.links(run.name, columns=LINK_IDENTITY)
    sf, jira, fetched, refused = _with_counterparts(run, sf_out, jira_out, links)
    if run.since is not None:
        links = in_scope_links(links, sf, jira)
    count = bucket_count(max(len(sf), len(jira)), part_records())
    plan = plan_buckets(run.mapping, sf, jira, links, count)
    log.info("Compare: %d Salesforce records and %d Jira issues in %d bucket(s)", len(sf), len(jira), plan.buckets)
    del sf, jira
    out = str(ObjectStoragePath(str(run.folder)) / BUCKETS_NAME)
    return (plan, partition(plan, sf_out["parts"], SALESFORCE, out),
            partition(plan, jira_out["parts"], JIRA, out), links, refused, fetched)


@one_writer(keep=True, when=auto_heal)
def compare_step(run: ReconcileRun, sf_out: dict[str, Any], jira_out: dict[str, Any]) -> dict[str, Any]:
    mapping, store = run.mapping, run.state
    plan, sf, jira, links, refused, fetched = _buckets(run, sf_out, jira_out)
    rows_folder = _fresh(ObjectStoragePath(str(run.folder)) / ROWS_NAME)
    totals, would = Totals(mapping.name), Counter[str]()
    for bucket, result in compare_buckets(mapping, plan, sf, jira, links, refused=refused, pii=run.pii,
                                          synced_for=lambda ids: store.synced_state_of(mapping.name, ids)):
        totals.add(result)
        decisions = heal_plan(result, mapping)
        would.update(decisions.counts())
        if result.total:   # PII already masked by compare; the decisions ride along for the report
            write_frame(rows_folder, f"part-{bucket:05d}", with_decisions(result.rows, decisions.actions))
    _record_trend(run, totals.counts)
    drift = read_rows(str(rows_folder))
    result = DriftResult(mapping.name, drift[list(DRIFT_COLUMNS)], totals.sf_records, totals.jira_issues,
                         totals.pairs, totals.fields, rejected=totals.rejected_records)
    actions = drift.reindex(columns=[DECISION, DECISION_REASON]).set_axis(["action", "reason"], axis=1)
    paths = write_report(result, mapping, run.folder, history=store.drift_history(mapping.name), run_id=run.run_id,
                         actions=actions)
    summary = {**totals.summary(), "scope": run.scope, "counterparts_fetched": fetched,
               "auto_heal_would": dict(would), "buckets": plan.buckets,
               "insecure_tls": insecure_tls_connections([run.salesforce_conn_id, run.jira_conn_id])}
    store.update_run_summary(run.run_id, {"drift": summary, "report": asdict(paths)})
    line = format_summary(summary)
    log.info("Drift for %s: %s; report %s", mapping.name, line, paths.html)
    print(f"SFJIRA DRIFT {mapping.name}: {line}")
    return {"summary": summary, "report": asdict(paths), "rows": str(rows_folder), "fields": list(totals.fields)}


def read_rows(folder: str) -> pd.DataFrame:
    """The drift rows of every bucket (their parts), in the order one compare gives them: category as
    listed, then record, issue and field. Drift rows only -- as many as the drift, not the window."""
    paths = part_paths(folder) if ObjectStoragePath(folder).exists() else []
    if not paths:
        return empty_rows().assign(**{DECISION: pd.Series(dtype=object), DECISION_REASON: pd.Series(dtype=object)})
    frames = [read_frame(p) for p in paths]
    rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    rows = rows.astype(object)
    rows = rows.where(rows.notna(), None)   # None for "no value", as compare gives it (Parquet reads NaN)
    order = pd.Categorical(rows["category"], categories=list(CATEGORIES), ordered=True)
    rows = rows.assign(_order=order).sort_values(["_order", "sf_id", "jira_key", "field"], na_position="last",
                                                 kind="stable")
    return rows.drop(columns="_order").reset_index(drop=True)


def format_summary(summary: dict[str, Any]) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in summary["counts"].items())
    return (f"{summary['total']} drift rows ({counts}) over {summary['pairs']} pairs of {summary['sf_records']} "
            f"Salesforce records and {summary['jira_issues']} Jira issues, scope {summary['scope']}")


def stored_result(run: ReconcileRun, compare_out: dict[str, Any]) -> DriftResult:
    """The compare step's result, back from its Parquet rows (what heal and the limit need)."""
    summary = compare_out["summary"]
    return DriftResult(run.name, read_rows(compare_out["rows"])[list(DRIFT_COLUMNS)], int(summary["sf_records"]),
                       int(summary["jira_issues"]), int(summary["pairs"]), tuple(compare_out.get("fields") or ()))


@one_writer(keep=True, when=auto_heal)
def limit_step(run: ReconcileRun, compare_out: dict[str, Any]) -> dict[str, Any]:
    """Raise DriftLimitExceeded (the run is closed as failed first) when drift exceeds the limit."""
    limit, total = run.fail_on_drift_above, int(compare_out["summary"]["total"])
    if limit is not None and total > limit:
        run.state.finish_run(run.run_id, "failed", summary={"drift_limit": {"limit": limit, "total": total}})
        check_limit(run.name, {str(k): int(v) for k, v in compare_out["summary"]["counts"].items()}, limit)
    log.info("Drift limit: %s, drift rows %d: within it", "off" if limit is None else limit, total)
    return {"limit": limit, "total": total, "exceeded": False}
