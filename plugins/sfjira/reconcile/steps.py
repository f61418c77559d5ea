"""The reconciliation DAG's steps after the extracts: compare + report, and the drift limit.

    compare_step(run, sf_out, jira_out)  -> XCom dict: value-free summary, report paths, rows path
    limit_step(run, compare_out)         -> raises DriftLimitExceeded above `fail_on_drift_above`

Drift rows go to Parquet in the run folder (PII already masked by compare): the heal and limit
steps read them back instead of passing rows through XCom.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import pandas as pd

from sfjira.http import insecure_tls_connections
from sfjira.identity.lookup import judge
from sfjira.identity.rules import leave_out
from sfjira.reconcile.compare import compare
from sfjira.reconcile.extract import fetch_jira, fetch_salesforce, read_parts
from sfjira.reconcile.heal import heal_plan
from sfjira.reconcile.report import write_report
from sfjira.reconcile.result import DriftResult
from sfjira.reconcile.run import ReconcileRun
from sfjira.reconcile.scope import counterparts, in_scope_links
from sfjira.storage import read_frame, write_frame
from sfjira.sync.writer import auto_heal, one_writer

log = logging.getLogger(__name__)

ROWS_NAME = "drift_rows"


def read_sides(sf_out: dict[str, Any], jira_out: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both extracts (counterparts included once fetched) as the sync's frames."""
    return read_parts(sf_out["parts"], "Id"), read_parts(jira_out["parts"], "key")


def _with_counterparts(run: ReconcileRun, sf_out: dict[str, Any], jira_out: dict[str, Any],
                       links: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], pd.DataFrame]:
    """compare reads absence as drift: what the records read point at (links, key field, carried id)
    but was not read -- out of the scope or the filter, or gone -- is fetched by id or key first. Claims
    the identity rules refuse are judged first and never followed (a key typed into a record fetches
    nothing); what the fetch brings in is judged too. Returns the frames, the counts and the refusals."""
    sf, jira = read_sides(sf_out, jira_out)
    verdict = judge(run.mapping, sf, jira, links, run.jira, run.salesforce)
    wanted = counterparts(run.mapping, links, *leave_out(verdict.refused, sf, jira))
    fetched = {"salesforce": fetch_salesforce(run, sf_out["parts"], wanted.sf_ids),
               "jira": fetch_jira(run, jira_out["parts"], wanted.jira_keys)}
    refused = verdict.refused
    if wanted.sf_ids or wanted.jira_keys:
        log.info("Counterparts: asked %d Salesforce ids and %d Jira keys, found %s", len(wanted.sf_ids),
                 len(wanted.jira_keys), fetched)
        before_sf, before_jira = set(sf["Id"]), set(jira["key"])
        sf, jira = read_sides(sf_out, jira_out)
        more = judge(run.mapping, sf[~sf["Id"].isin(before_sf)], jira[~jira["key"].isin(before_jira)], links,
                     run.jira, run.salesforce)
        refused = pd.concat([refused, more.refused], ignore_index=True) if len(more.refused) else refused
    if len(refused):
        log.warning("Identity: %d claim(s) refused (%s)", len(refused),
                    ", ".join(f"{c} {n}" for c, n in refused["code"].value_counts().items()))
    return sf, jira, fetched, refused


def _record_trend(run: ReconcileRun, result: DriftResult) -> None:
    """Counts per category for the trend, once per run (a retried task does not count twice)."""
    history = run.state.drift_history(run.name)
    if not len(history) or run.run_id not in set(history["run_id"]):
        run.state.record_drift(run.name, run.run_id, result.counts())


@one_writer(keep=True, when=auto_heal)
def compare_step(run: ReconcileRun, sf_out: dict[str, Any], jira_out: dict[str, Any]) -> dict[str, Any]:
    mapping, store = run.mapping, run.state
    links = store.links(mapping.name)
    sf, jira, fetched, refused = _with_counterparts(run, sf_out, jira_out, links)
    if run.since is not None:
        links = in_scope_links(links, sf, jira)
    result = compare(mapping, sf, jira, links, synced_state=store.synced_state(mapping.name), refused=refused,
                     pii=run.pii)
    decisions = heal_plan(result, mapping)
    _record_trend(run, result)
    paths = write_report(result, mapping, run.folder, history=store.drift_history(mapping.name), run_id=run.run_id,
                         actions=decisions.actions)
    summary = {**result.summary(), "scope": run.scope, "counterparts_fetched": fetched,
               "auto_heal_would": decisions.counts(),
               "insecure_tls": insecure_tls_connections([run.salesforce_conn_id, run.jira_conn_id])}
    store.update_run_summary(run.run_id, {"drift": summary, "report": asdict(paths)})
    line = format_summary(summary)
    log.info("Drift for %s: %s; report %s", mapping.name, line, paths.html)
    print(f"SFJIRA DRIFT {mapping.name}: {line}")
    return {"summary": summary, "report": asdict(paths), "rows": write_frame(run.folder, ROWS_NAME, result.rows),
            "fields": list(result.fields)}


def format_summary(summary: dict[str, Any]) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in summary["counts"].items())
    return (f"{summary['total']} drift rows ({counts}) over {summary['pairs']} pairs of {summary['sf_records']} "
            f"Salesforce records and {summary['jira_issues']} Jira issues, scope {summary['scope']}")


def stored_result(run: ReconcileRun, compare_out: dict[str, Any]) -> DriftResult:
    """The compare step's result, back from its Parquet rows (what heal and the limit need)."""
    summary = compare_out["summary"]
    return DriftResult(run.name, read_frame(compare_out["rows"]), int(summary["sf_records"]),
                       int(summary["jira_issues"]), int(summary["pairs"]), tuple(compare_out.get("fields") or ()))


@one_writer(keep=True, when=auto_heal)
def limit_step(run: ReconcileRun, compare_out: dict[str, Any]) -> dict[str, Any]:
    """Raise DriftLimitExceeded (the run is closed as failed first) when drift exceeds the limit."""
    limit, total = run.fail_on_drift_above, int(compare_out["summary"]["total"])
    if limit is not None and total > limit:
        run.state.finish_run(run.run_id, "failed", summary={"drift_limit": {"limit": limit, "total": total}})
        stored_result(run, compare_out).check_limit(limit)
    log.info("Drift limit: %s, drift rows %d: within it", "off" if limit is None else limit, total)
    return {"limit": limit, "total": total, "exceeded": False}
