"""Report: what a run did per direction, the API calls it used against the protocol minimum."""

from __future__ import annotations

import logging
import math
from collections import Counter
from typing import Any

from sfjira.hooks.jira import JiraSyncHook
from sfjira.hooks.salesforce import SalesforceSyncHook
from sfjira.http import insecure_tls_connections
from sfjira.state import audit
from sfjira.sync import bulk
from sfjira.sync.budget import format_usage, latency_summary, usage_summary
from sfjira.sync.run import SyncRun

log = logging.getLogger(__name__)

SF_QUERY_PAGE, SF_COLLECTION = SalesforceSyncHook.QUERY_PAGE_MAX, SalesforceSyncHook.COLLECTION_MAX
JIRA_SEARCH_PAGE, JIRA_BULK = JiraSyncHook.SEARCH_PAGE_MAX, JiraSyncHook.BULK_CREATE_MAX


def _merge_calls(*parts: dict[str, Any] | None) -> dict[str, int]:
    total: Counter[str] = Counter()
    for part in parts:
        total.update((part or {}).get("api_calls") or {})
    return dict(total)


def protocol_minimum(extract_sf: dict[str, Any], extract_jira: dict[str, Any], load_jira: dict[str, Any],
                     load_sf: dict[str, Any], plan: dict[str, Any] | None = None) -> dict[str, int]:
    """The fewest calls the APIs allow for this run's reads and writes: pages at each API's maximum, writes
    in chunks at each API's per-call maximum, Jira edits one call each. It counts every read the mapping
    needs:

    - Salesforce: a token and the API budget's /limits read in each step that calls Salesforce
      (`_salesforce_steps`); the extract's COUNT() and its read on the path it chose, REST or Bulk API 2.0
      (sfjira.sync.bulk has each cost); the comment query of a mapping whose comments flow to Jira (one
      page per 2,000, at least one, also when nothing changed); identity look-ups; before-images.
    - Jira: /myself (the user's time zone for JQL) and the search pages; the comment pages of issues whose
      comments the search truncated; the read-back of new issues; identity look-ups; before-images; the
      workflow (`_workflow_calls`): each transition step, and one read per workflow status the walks left
      from (a status's transitions are the workflow's, learned once per run; the initial status of created
      issues is read once, its transitions with it)."""
    # Identity look-ups (sfjira.identity): one GET per key in doubt, one describe for the id prefix.
    lookups = (plan or {}).get("identity_lookups") or {}
    sf_reads = (2 * _salesforce_steps(load_jira, load_sf) + _extract_reads(extract_sf) + _comment_reads(extract_sf)
                + lookups.get("salesforce", 0) + before_reads(load_sf))
    sf_writes = (_update_writes(load_sf) + math.ceil(load_sf.get("comments_to_sf", 0) / SF_COLLECTION))
    # A webhook-reported deletion is confirmed by one GET of its issue (sfjira.sync.jira_deleted).
    jira_reads = (1 + max(1, math.ceil(extract_jira.get("changed", 0) / JIRA_SEARCH_PAGE))
                  + extract_jira.get("delete_checks", 0)
                  + int(extract_jira.get("comment_reads", 0))
                  + math.ceil(load_sf.get("jira_read_back", 0) / JIRA_SEARCH_PAGE) + lookups.get("jira", 0)
                  + before_reads(load_jira))
    creates = load_jira.get("created", 0) + load_jira.get("rejected", 0)
    # A Jira Cloud bulk task (sfjira.sync.jira_bulk_updates) costs its submission and one progress read.
    jira_writes = (math.ceil(creates / JIRA_BULK) + load_jira.get("updated", 0)
                   + _workflow_calls(load_jira) + load_jira.get("comments_to_jira", 0)
                   + 2 * (load_jira.get("bulk_tasks", 0) + load_jira.get("create_bulk_tasks", 0)))
    return {"salesforce": sf_reads + sf_writes, "jira": jira_reads + jira_writes}


def _salesforce_steps(load_jira: dict[str, Any], load_sf: dict[str, Any]) -> int:
    """Steps that call Salesforce. Airflow runs each step as its own process (on any worker), so each one
    authenticates (a token; Salesforce does not count the OAuth endpoint against the daily API limit) and
    the API budget reads the org's usage from /limits before its first call of consequence
    (sfjira.sync.budget). The extract always does; a load when it writes a chunk (the budget is checked
    before each): load_jira on either side's behalf, load_salesforce for its own writes."""
    jira_chunks = (before_reads(load_jira) + load_jira.get("created", 0) + load_jira.get("rejected", 0)
                   + load_jira.get("found_existing", 0) + load_jira.get("comments_to_jira", 0))
    sf_chunks = before_reads(load_sf) + load_sf.get("comments_to_sf", 0)
    return 1 + (1 if jira_chunks else 0) + (1 if sf_chunks else 0)


def _comment_reads(extract_sf: dict[str, Any]) -> int:
    """The extract's comment query (mappings whose comments flow to Jira): its pages, at least one."""
    if "comments" not in extract_sf:
        return 0
    return max(1, math.ceil(int(extract_sf.get("comment_count", 0)) / SF_QUERY_PAGE))


def _workflow_calls(load_jira: dict[str, Any]) -> int:
    """Transition steps and the workflow reads they needed (JiraSyncHook.transition_to); reads after Jira
    refused a learned transition are above the minimum. Reports from before the walk was counted: one
    call per issue moved."""
    walked = load_jira.get("workflow_calls")
    if not walked:
        return int(load_jira.get("transitioned", 0))
    return int(walked.get("steps", 0)) + int(walked.get("reads", 0))


def _extract_reads(extract_sf: dict[str, Any]) -> int:
    """The window's COUNT() (which decides the path, sfjira.sync.bulk) and the read on the path it chose."""
    read = extract_sf.get("changed", 0) + extract_sf.get("deleted_count", 0)
    path = extract_sf.get("read_path", "rest")
    counted = 1 if "window_count" in extract_sf else 0  # reports of runs before the COUNT() existed
    return counted + bulk.query_read_calls(path, read, int(extract_sf.get("bulk_describes", 0)), SF_QUERY_PAGE,
                                           extract_sf.get("bulk_page"))


def _update_writes(load_sf: dict[str, Any]) -> int:
    """Collections of 200 on the REST path, six calls per ingest job of 10,000 on the bulk path."""
    records = load_sf.get("sf_updated", 0) + load_sf.get("sf_rejected", 0)
    if load_sf.get("write_path") == "bulk":
        return bulk.write_calls(records)
    return math.ceil(records / SF_COLLECTION)


def before_reads(load: dict[str, Any]) -> int:
    """The before-image reads of a load (sfjira.sync.before): one per write chunk, none without writes."""
    return int(load.get("before_reads", 0)) + int(load.get("delete_before_reads", 0))


def build_report(run: SyncRun, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ex_sf, ex_j = results.get("extract_salesforce", {}), results.get("extract_jira", {})
    plan, l_j, l_sf = results.get("plan", {}), results.get("load_jira", {}), results.get("load_salesforce", {})
    counts = plan.get("counts", {})
    looked = plan.get("lookup_calls") or {}
    sf_calls = _merge_calls(ex_sf, l_sf, {"api_calls": looked.get("salesforce")},
                            {"api_calls": l_j.get("salesforce_api_calls")})
    jira_calls = _merge_calls(ex_j, l_j, {"api_calls": l_sf.get("jira_api_calls")}, {"api_calls": looked.get("jira")})
    used = {"salesforce": sum(sf_calls.values()), "jira": sum(jira_calls.values())}
    minimum = protocol_minimum(ex_sf, ex_j, l_j, l_sf, plan)
    summary = {
        "mapping": run.name,
        "dry_run": run.dry_run,
        # The window actually read and why (the cursor can widen it past the interval: sfjira.sync.cursor).
        "window": {k: v for k, v in run.window.as_dict().items() if k != "full"},
        "cursor": l_sf.get("cursor") or {},
        "sf_to_jira": {"read": ex_sf.get("changed", 0), "created": l_j.get("created", 0),
                       "updated": l_j.get("updated", 0) + l_j.get("bulk_updated", 0), "planned_creates": counts.get("jira_create", 0),
                       "planned_updates": counts.get("jira_update", 0), "conflicts": counts.get("ledger", 0),
                       "rejected": l_j.get("rejected", 0), "deletes": l_j.get("deletes_applied", 0),
                       "comments": l_j.get("comments_to_jira", 0)},
        "jira_to_sf": {"read": ex_j.get("changed", 0), "updated": l_sf.get("sf_updated", 0),
                       "planned_updates": counts.get("sf_update", 0), "rejected": l_sf.get("sf_rejected", 0),
                       "comments": l_sf.get("comments_to_sf", 0),
                       # Webhook-reported Jira deletions settled by this run, by outcome (sync.jira_deleted).
                       "deletes_reported": l_sf.get("jira_deleted_reports") or {}},
        "transform_rejects": counts.get("rejects", 0),
        "api_calls": {"used": used, "minimum": minimum, "salesforce": sf_calls, "jira": jira_calls,
                      # By-id reads of the ledger's before-images (sfjira.sync.before), part of both figures.
                      "before_reads": {"salesforce": before_reads(l_sf), "jira": before_reads(l_j)}},
        # The org's daily Salesforce usage against its limit, and what Jira's rate limiting cost (sync.budget).
        "api_usage": usage_summary(results),
        # Seconds per endpoint, every attempt of every step (the dashboard's latency chart).
        "latency": latency_summary(results),
        "plan_diff": plan.get("diff"),
        # Connections whose TLS certificate checks are off (allow_insecure_tls): said on every run.
        "insecure_tls": insecure_tls_connections([run.salesforce_conn_id, run.jira_conn_id]),
    }
    for direction in ("sf_to_jira", "jira_to_sf"):
        d = summary[direction]
        d["skipped"] = max(0, d["read"] - d.get("created", 0) - d["updated"] - d["rejected"])
    rejected = summary["sf_to_jira"]["rejected"] + summary["jira_to_sf"]["rejected"] + summary["transform_rejects"]
    if not run.dry_run:
        run.state.finish_run(run.run_id, "partial" if rejected else "success", summary=summary)
        # Ledger retention ([sfjira] ledger_retention_days): rows of this mapping past it go.
        pruned = audit.prune(run.state, run.name)
        if pruned:
            log.info("ledger retention: removed %d row(s) of %s", pruned, run.name)
    log.info("sfjira %s: %s", run.name, format_summary(summary))
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    a, b = summary["sf_to_jira"], summary["jira_to_sf"]
    calls, window = summary["api_calls"], summary.get("window") or {}
    read = (f"window [{window['since']}, {window['until']}) by {window['reason']}"
            f"{' -- ' + window['note'] if window.get('note') else ''}; ") if window else ""
    return (f"{read}Salesforce->Jira created {a['created']} updated {a['updated']} skipped {a['skipped']} "
            f"conflicts {a['conflicts']} rejected {a['rejected']}; Jira->Salesforce updated {b['updated']} "
            f"skipped {b['skipped']} rejected {b['rejected']}; transform rejects {summary['transform_rejects']}; "
            f"API calls Salesforce {calls['used']['salesforce']} (minimum {calls['minimum']['salesforce']}), "
            f"Jira {calls['used']['jira']} (minimum {calls['minimum']['jira']})"
            + (f"; {format_usage(summary['api_usage'])}" if summary.get("api_usage") else ""))
