"""Load into Jira: adopt links, bulk-create new issues, update fields, walk transitions, apply
Salesforce deletions, copy comments. Every write is chunked under a write-ahead intent."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from functools import partial
from typing import Any

import pandas as pd

from sfjira.exceptions import ApiError
from sfjira.hooks.results import WriteResult
from sfjira.rejects import reject
from sfjira.rows import each_row
from sfjira.state.intents import Intent
from sfjira.storage import iter_parts, write_frame
from sfjira.sync import budget, jira_bulk_updates
from sfjira.sync.before import conflict_reasons, jira_images, plain, reads_needed
from sfjira.sync.journal import (
    ChunkOutcome,
    close_superseded,
    conflicts_written_to,
    ledger_row,
    pending_ids,
    run_chunks,
    state_rows,
)
from sfjira.sync.resolve import jira_comment, jira_status_reached, settle
from sfjira.sync.run import SyncRun
from sfjira.sync.steps import record_plan_rejects
from sfjira.sync.writer import one_writer

log = logging.getLogger(__name__)

UPDATE_CHUNK = 50     # records per intent for one-call-per-issue writes
JIRA_SEARCH_PAGE = 100  # keys per before-image search
PROPERTY_KEY = "sfjira"


@one_writer(keep=True)
def load_jira(run: SyncRun, plan_out: dict[str, Any]) -> dict[str, Any]:
    if run.dry_run:
        return {"dry_run": True}
    plan = plan_out["tables"]
    counts: dict[str, Any] = {"transform_rejects": record_plan_rejects(run, plan_out)}
    counts["recovered"] = recover_pending_creates(run)
    # Plan tables are part sets (one part per plan bucket): read one part at a time (sfjira.storage).
    for adopt in iter_parts(plan["adopt"]):
        if len(adopt):
            run.state.upsert_links(run.name, adopt[["sf_id", "jira_key", "jira_id"]], run.run_id)
            counts["adopted"] = counts.get("adopted", 0) + len(adopt)
    counts.update(_creates(run, plan["jira_create"]))
    gone: list[str] = []
    counts.update(_updates(run, plan["jira_update"], gone, conflicts_written_to(plan, "jira")))
    counts.update(_deletes(run, plan["deletes"]))
    counts.update(_comments(run, plan["comments_to_jira"]))
    counts["superseded"] = close_superseded(run, "jira", ("update", "transition", "delete", "comment"))
    counts["jira_gone"] = write_frame(run.folder, "jira_gone", pd.DataFrame({"sf_id": gone}, dtype=object))
    counts["api_calls"] = run.jira.calls
    # The workflow's calls (steps, the reads they needed, rereads after a refusal): the report's minimum.
    counts["workflow_calls"] = dict(run.jira.workflow_calls)
    if "salesforce" in vars(run):  # the API budget check before the first chunk (sync.budget)
        counts["salesforce_api_calls"] = run.salesforce.calls
    counts.update(budget.figures(run))
    return counts


def _sfid_location(run: SyncRun) -> str:
    jira = run.mapping.jira
    return jira.salesforce_id_field or f"{jira.salesforce_id_property}.sfid"


def recover_pending_creates(run: SyncRun) -> int:
    """Creates another run announced but never confirmed: link what exists, release the rest."""
    pending = run.state.pending_intents(run.name, "jira")
    pending = pending[(pending["op"] == "create") & (pending["run_id"] != run.run_id)] if len(pending) else pending
    found_total = 0
    for intent in each_row(pending):
        found = run.jira.find_by_sfids(intent.record_ids, _sfid_location(run), run.mapping.jira.project)
        links = pd.DataFrame({"sf_id": list(found), "jira_key": list(found.values())})
        if len(links):
            # Attributed to this run, so this run's Salesforce load writes the keys back.
            run.state.complete_intent(intent.intent_id, links=links, result={"recovered": len(links)},
                                      run_id=run.run_id)
        else:
            run.state.abandon_intent(intent.intent_id, reason="none of its records exist in Jira")
        found_total += len(links)
    return found_total


def _creates(run: SyncRun, table: str) -> dict[str, Any]:
    # Records linked by a recovery or another run are not created again. Records of this run's own create
    # chunks stay, so a retry cuts the same chunks and meets its intents again.
    intents = run.state.intents(run.name, side="jira", run_id=run.run_id)
    mine = {i for ids in intents.loc[intents["op"] == "create", "record_ids"] for i in ids} if len(intents) else set()
    creates = (_not_linked_elsewhere(run, part, mine) for part in iter_parts(table))
    mapping = run.mapping
    # Many new issues bound for one status: created 1,000 per chunk (50 per request) and walked there by bulk
    # transitions (Cloud), the chunk's intent keeping the tasks' ids.
    bulk_on = jira_bulk_updates.use_bulk_creates(run, iter_parts(table))
    current: dict[str, Intent] = {}

    def write(chunk: pd.DataFrame, resumed: bool) -> ChunkOutcome:
        existing: dict[str, str] = {}
        left = {"todo": chunk}

        def look_up() -> None:  # never conclusive: what is found is linked, the rest is sent
            found = run.jira.find_by_sfids(left["todo"]["sf_id"], _sfid_location(run), mapping.jira.project)
            existing.update(found)
            left["todo"] = left["todo"][~left["todo"]["sf_id"].isin(list(found))]

        def send() -> tuple[pd.DataFrame, list[Any]]:
            todo = left["todo"]
            payloads = [_create_payload(run, row.sf_id, row.fields) for row in each_row(todo)]
            return todo, run.jira.bulk_create(payloads) if payloads else []

        todo, results = settle(f"Jira bulk create of {len(chunk)} issue(s)", send, look_up, check_first=resumed)
        ok = [(row, res) for row, res in zip(each_row(todo), results, strict=True) if res.success]
        bad = [(row, res) for row, res in zip(each_row(todo), results, strict=True) if not res.success]
        made = pd.DataFrame({"sf_id": [r.sf_id for r, _ in ok] + list(existing),
                             "jira_key": [x.key for _, x in ok] + list(existing.values()),
                             "jira_id": [x.id for _, x in ok] + [None] * len(existing)})
        written = chunk[chunk["sf_id"].isin(made["sf_id"])]
        outcome = ChunkOutcome(links=made, state=state_rows(written),
                               counts={"created": len(ok), "found_existing": len(existing), "rejected": len(bad)})
        outcome.ledger = [ledger_row("jira", "create", r.sf_id, x.key, after=json.loads(r.fields), cause=run.cause)
                          for r, x in ok]
        outcome.rejects = [reject("jira", r.sf_id, x.errors[0].code if x.errors else "CREATE_FAILED",
                                  "; ".join(e.message for e in x.errors), _create_fix(x),
                                  field=",".join(sorted({f for e in x.errors for f in e.fields})) or None)
                           for r, x in bad]
        ids = {x.key: str(x.id) for _, x in ok if x.key and x.id}  # made by this attempt: in the initial status
        bulk = jira_bulk_updates.BulkChunk(run, current["intent"], ids) if bulk_on else None
        _initial_status(run, written.merge(made, on="sf_id"), outcome, bulk)
        return outcome

    size = jira_bulk_updates.MAX_ISSUES if bulk_on else run.jira.BULK_CREATE_MAX
    counts: dict[str, Any] = run_chunks(run, "jira", "create", creates, size, write,
                                        on_intent=(lambda intent: current.update(intent=intent)) if bulk_on else None)
    return {**counts, "create_status_path": "bulk" if bulk_on else "per_issue"}


def _create_payload(run: SyncRun, sf_id: str, fields_json: str) -> dict[str, Any]:
    jira = run.mapping.jira
    fields = {"project": {"key": jira.project}, "issuetype": {"name": jira.issue_type},
              **run.jira.encode_fields(run.mapping.fields_for("sf_to_jira"), json.loads(fields_json))}
    fields = {k: v for k, v in fields.items() if v is not None and v != []}
    payload: dict[str, Any] = {"fields": fields}
    if jira.salesforce_id_property:
        payload["properties"] = [{"key": jira.salesforce_id_property,
                                  "value": {"sfid": sf_id, "mapping": run.name}}]
    return payload


def _create_fix(result: WriteResult) -> str:
    fields = sorted({f for e in result.errors for f in e.fields})
    where = f" ({', '.join(fields)})" if fields else ""
    return f"correct the Salesforce record's mapped value{where} or the mapping, then let the next run retry it"


def _initial_status(run: SyncRun, created: pd.DataFrame, outcome: ChunkOutcome,
                    bulk: jira_bulk_updates.BulkChunk | None = None) -> None:
    """A new issue starts in the workflow's initial status (read once per run); walk it to the mapped one:
    with `bulk`, groups above the threshold by bulk transitions, the rest (and issues found already created
    by an earlier attempt, which may have moved) issue by issue."""
    rows = created[created["status"].notna()]
    walked: dict[str, jira_bulk_updates.Step] = {}
    if bulk is not None and len(rows):
        jira = run.mapping.jira
        first = next((k for k in rows["jira_key"] if k in bulk.ids), None)
        if first is not None:
            initial = run.jira.initial_status(first, (jira.project, jira.issue_type))
            walked = bulk.transitions((r.sf_id, r.jira_key, initial, r.status) for r in each_row(rows))
        outcome.counts["create_bulk_tasks"] = bulk.count
    for row in each_row(rows):
        step = walked.get(row.sf_id)
        if step is None or step.missing:
            _transition(run, row.sf_id, row.jira_key, row.status, outcome, created=True)
        elif not step.result.success:
            outcome.rejects.append(jira_bulk_updates.bulk_reject(row.sf_id, step.result, "status"))
        elif step.taken:
            outcome.ledger.append(ledger_row("jira", "transition", row.sf_id, row.jira_key, field="status",
                                             after=row.status, reason=" -> ".join(step.taken), cause=run.cause))
            outcome.counts["bulk_transitioned"] = outcome.counts.get("bulk_transitioned", 0) + 1


def _transition(run: SyncRun, sf_id: str, key: str, status: str, outcome: ChunkOutcome,
                gone: list[str] | None = None, before: Any = None, cause: str | None = None,
                created: bool = False) -> bool:
    """Walk the issue to `status`; False if refused (rejected) or, with `gone`, if the issue is missing.
    `before`: the status the chunk's before-image read, where the walk starts without reading the issue."""
    def reached() -> list[str] | None:  # after an ambiguous step: the status it led to may be the target
        return ["(confirmed by reading the status back)"] if jira_status_reached(run.jira, key, status) else None

    workflow = (run.mapping.jira.project, run.mapping.jira.issue_type)
    known = before if isinstance(before, str) and before else None

    def walk() -> list[str]:
        # A walk sent again after an ambiguous step starts from `known` too: a learned transition Jira refuses
        # there makes the hook read the issue and walk on from wherever it is.
        return run.jira.transition_to(key, status, status=known, workflow=workflow, created=created)

    try:
        taken = settle(f"transition {key} to {status!r}", walk, reached)
    except ApiError as exc:
        if gone is not None and exc.status == 404:
            gone.append(sf_id)
            return False
        outcome.rejects.append(reject("jira", sf_id, exc.code, exc.message, exc.fix, field="status"))
        return False
    if taken:
        outcome.ledger.append(ledger_row("jira", "transition", sf_id, key, field="status", before=before,
                                         after=status, reason=" -> ".join(taken), cause=cause or run.cause))
        outcome.counts["transitioned"] = outcome.counts.get("transitioned", 0) + 1
    return True


def _updates(run: SyncRun, table: str, gone: list[str], conflicts: pd.DataFrame) -> dict[str, int]:
    """Field updates and status walks, issue by issue; on Jira Cloud, groups of issues getting the same change
    above `[sfjira] jira_bulk_threshold` go as bulk tasks (sfjira.sync.jira_bulk_updates)."""
    decided = conflict_reasons(run, conflicts, "jira")
    current: dict[str, Intent] = {}
    bulk_on = jira_bulk_updates.use_bulk_parts(run, iter_parts(table))
    updates = iter_parts(table)

    def write(chunk: pd.DataFrame, _resumed: bool) -> ChunkOutcome:
        outcome = ChunkOutcome(counts={"updated": 0, "rejected": 0, "before_reads": _reads(chunk)})
        ids: dict[str, str] = {}
        images = jira_images(run, chunk["jira_key"], ids)  # before-images: one search per 100 keys
        bulk = jira_bulk_updates.BulkChunk(run, current["intent"], ids) if bulk_on else None
        # Fields first (a refused edit leaves the status alone), then the status walks of what was written.
        edited = bulk.edits(chunk) if bulk else {}
        written = [row for row in each_row(chunk) if _fields(run, row, edited.get(row.sf_id), images, decided,
                                                               outcome, gone)]
        moves = [(r.sf_id, r.jira_key, str(images.get(r.jira_key, {}).get("status") or ""), r.status)
                 for r in written if isinstance(r.status, str)]
        walked = bulk.transitions(m for m in moves if m[2]) if bulk else {}
        done = []
        for row in written:
            why = decided.get((row.sf_id, "status"))
            if isinstance(row.status, str) and not _walked(run, row, walked.get(row.sf_id), outcome, gone,
                                                           images.get(row.jira_key, {}).get("status"),
                                                           "conflict" if why else None):
                continue
            by_bulk = row.sf_id in edited or row.sf_id in walked
            outcome.counts["bulk_updated" if by_bulk else "updated"] = outcome.counts.get(
                "bulk_updated" if by_bulk else "updated", 0) + 1
            done.append(row.sf_id)
        outcome.counts["bulk_tasks"] = bulk.count if bulk else 0
        outcome.state = state_rows(chunk[chunk["sf_id"].isin(done)])
        return outcome

    size = jira_bulk_updates.MAX_ISSUES if bulk_on else UPDATE_CHUNK
    counts: dict[str, Any] = run_chunks(run, "jira", "update", updates, size, write, decisions=conflicts,
                                        on_intent=(lambda intent: current.update(intent=intent)) if bulk_on else None)
    return {**counts, "jira_write_path": "bulk" if bulk_on else "per_issue"}


def _fields(run: SyncRun, row: Any, step: jira_bulk_updates.Step | None, images: dict[str, dict[str, Any]],
            decided: dict[tuple[str, str], str], outcome: ChunkOutcome, gone: list[str]) -> bool:
    """A row's field values: written by its bulk edit when it had one (refused: a reject), else with one PUT.
    False when the issue is gone or Jira refused the values."""
    fields: dict[str, Any] = json.loads(row.fields)
    held = images.get(row.jira_key, {})
    if not fields:
        return True
    if step is not None and not step.missing:
        if not step.result.success:
            outcome.rejects.append(jira_bulk_updates.bulk_reject(row.sf_id, step.result, ",".join(fields)))
            outcome.counts["rejected"] += 1
            return False
        outcome.ledger += [_update_row(run, row.sf_id, row.jira_key, k, held.get(k), v, decided)
                           for k, v in fields.items()]
        return True
    try:
        # Setting fields is idempotent: after an ambiguous failure the same PUT is sent again.
        wire = run.jira.encode_fields(run.mapping.fields_for("sf_to_jira"), fields)
        settle(f"update {row.jira_key}", partial(run.jira.update_fields, row.jira_key, wire))
    except ApiError as exc:
        if exc.status == 404:
            gone.append(row.sf_id)
            return False
        outcome.rejects.append(reject("jira", row.sf_id, exc.code, exc.message, exc.fix))
        outcome.counts["rejected"] += 1
        return False
    outcome.ledger += [_update_row(run, row.sf_id, row.jira_key, k, held.get(k), v, decided) for k, v in fields.items()]
    return True


def _walked(run: SyncRun, row: Any, step: jira_bulk_updates.Step | None, outcome: ChunkOutcome, gone: list[str],
            before: Any, cause: str | None) -> bool:
    """A row's status: from its bulk walk when it had one (refused: a reject), else walked issue by issue."""
    if step is None or step.missing:
        return _transition(run, row.sf_id, row.jira_key, row.status, outcome, gone, before, cause)
    if not step.result.success:
        outcome.rejects.append(jira_bulk_updates.bulk_reject(row.sf_id, step.result, "status"))
        outcome.counts["rejected"] += 1
        return False
    if step.taken:
        outcome.ledger.append(ledger_row("jira", "transition", row.sf_id, row.jira_key, field="status", before=before,
                                         after=row.status, reason=" -> ".join(step.taken),
                                         cause=cause or run.cause))
        outcome.counts["bulk_transitioned"] = outcome.counts.get("bulk_transitioned", 0) + 1
    return True


def _reads(chunk: pd.DataFrame) -> int:
    return reads_needed(len(chunk), JIRA_SEARCH_PAGE)  # one search per 100 keys


def _update_row(run: SyncRun, sf_id: str, key: str, field: str, before: Any, after: Any,
                decided: dict[tuple[str, str], str]) -> dict[str, Any]:
    why = decided.get((sf_id, field))
    return ledger_row("jira", "update", sf_id, key, field=field, before=before, after=after, reason=why,
                      cause="conflict" if why else run.cause)


def _deletes(run: SyncRun, table: str) -> dict[str, int]:
    """Salesforce deleted a linked record: apply the mapping's policy on the issue."""

    def acting() -> Iterator[pd.DataFrame]:
        for deletes in iter_parts(table):
            ignored = (deletes["action"] == "ignore").to_numpy(dtype=bool) if len(deletes) else None
            if ignored is None:
                yield deletes
                continue
            if ignored.any():
                run.state.set_link_state(run.name, deletes["sf_id"][ignored].tolist(), "deleted_sf",
                                         run_id=run.run_id)
            yield deletes[~ignored]

    def write(chunk: pd.DataFrame, _resumed: bool) -> ChunkOutcome:
        outcome = ChunkOutcome(counts={"deletes_applied": 0, "delete_before_reads": _reads(chunk)})
        images = jira_images(run, chunk["jira_key"])  # the issue as it was: the policy's before-image
        applied = []
        for row in each_row(chunk):
            held = images.get(row.jira_key)
            if row.action == "transition":
                if not _transition(run, row.sf_id, row.jira_key, row.status, outcome,
                                   before=(held or {}).get("status"), cause="delete_policy"):
                    continue
            elif row.action == "label":
                settle(f"label {row.jira_key}", partial(run.jira.add_labels, row.jira_key, [row.label]))
            elif row.action == "delete":
                settle(f"delete {row.jira_key}", partial(_delete_issue, run, row.jira_key))
            outcome.ledger.append(ledger_row("jira", "delete", row.sf_id, row.jira_key, field=None, before=held,
                                             after=plain({"policy": row.action, "status": row.status, "label": row.label}),
                                             reason=f"deleted in Salesforce: policy {row.action}",
                                             cause="delete_policy"))
            outcome.counts["deletes_applied"] += 1
            applied.append(row.sf_id)
        # Only a link whose policy was applied leaves "active": one left active is planned again by the next
        # run (the cursor never passes a failed run, so it reads the deletion again) until it is applied.
        if applied:
            outcome.saves.append(partial(run.state.set_link_state, run.name, applied, "deleted_sf", run_id=run.run_id))
        return outcome

    return run_chunks(run, "jira", "delete", acting(), UPDATE_CHUNK, write)


def _delete_issue(run: SyncRun, key: str) -> None:
    """Delete an issue; one already gone (an earlier send landed, or a person deleted it) is deleted."""
    try:
        run.jira.delete_issue(key)
    except ApiError as exc:
        if exc.status != 404:
            raise


def _comments(run: SyncRun, table: str) -> dict[str, int]:
    comments = (_with_new_keys(run, part) for part in iter_parts(table))
    suspects = pending_ids(run, "jira", "comment")  # a killed attempt may have added these already

    def write(chunk: pd.DataFrame, resumed: bool) -> ChunkOutcome:
        outcome = ChunkOutcome(counts={"comments_to_jira": 0})
        linked = []
        for row in each_row(chunk):
            created = settle(f"comment {row.comment_id} on {row.jira_key}",
                             partial(run.jira.add_comment, row.jira_key, row.body),
                             partial(jira_comment, run.jira, row.jira_key, row.body),
                             check_first=resumed or str(row.comment_id) in suspects)
            linked.append({"sf_comment_id": row.comment_id, "jira_comment_id": str(created["id"]),
                           "sf_parent_id": row.sf_id, "jira_key": row.jira_key, "origin": "salesforce"})
            # The comment's ids, not its text: a body is free text the ledger has no field to seal it by.
            outcome.ledger.append(ledger_row("jira", "comment", row.sf_id, row.jira_key, field="comment",
                                             after={"id": str(created["id"]), "from": str(row.comment_id)},
                                             cause=run.cause))
            outcome.counts["comments_to_jira"] += 1
        if linked:
            outcome.saves.append(partial(run.state.upsert_comment_links, run.name, pd.DataFrame(linked), run.run_id))
        return outcome

    return run_chunks(run, "jira", "comment", comments, UPDATE_CHUNK, write, ids="comment_id")


def _not_linked_elsewhere(run: SyncRun, part: pd.DataFrame, mine: set[str]) -> pd.DataFrame:
    """The part's creates but those of records an active link not made by this run's own create chunks
    backs: the links of the part's ids only, so a mapping's million links are never read at once."""
    if not len(part):
        return part
    linked = run.state.links_of(run.name, sf_ids=part["sf_id"].astype(str).tolist(), state="active")
    elsewhere = set(linked["sf_id"]) - mine
    return part[~part["sf_id"].isin(list(elsewhere))] if elsewhere else part


def _with_new_keys(run: SyncRun, comments: pd.DataFrame) -> pd.DataFrame:
    """Comments whose parent was created in this run get the new issue's key; those whose parent could
    not be created are left out (logged), as there is no issue to hold them. Only the links of those
    parents are read."""
    missing = comments["jira_key"].isna()
    if not missing.any():
        return comments
    parents = sorted(set(comments.loc[missing, "sf_id"].dropna().astype(str)))
    links = run.state.links_of(run.name, sf_ids=parents, state="active")
    keys = pd.Series(links["jira_key"].to_numpy(), index=links["sf_id"].to_numpy())
    comments = comments.assign(jira_key=comments["jira_key"].fillna(comments["sf_id"].map(keys)))
    orphans = comments[comments["jira_key"].isna()]
    if len(orphans):
        log.warning("%d comment(s) not copied: their Salesforce record has no Jira issue (its create was "
                    "rejected): %s", len(orphans), ", ".join(orphans["comment_id"].astype(str).head(20)))
    return comments[comments["jira_key"].notna()]
