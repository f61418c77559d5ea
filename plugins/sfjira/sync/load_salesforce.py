"""Load into Salesforce: write the Jira key (and URL) back onto newly linked records, apply
Jira-side field changes, flag records whose issue was deleted (found by a Jira write, or reported by
webhook and confirmed: sfjira.sync.jira_deleted), copy Jira comments -- all through
sObject Collections, 200 records per call (field updates above `[sfjira] bulk_write_threshold`
records: Bulk API 2.0 ingest jobs), under write-ahead intents.

Records are written by their linked Salesforce Id rather than upserted on the Jira-key external id:
an upsert on a key someone cleared in Salesforce would create a second record; an update by Id is
as idempotent and cannot.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import groupby
from typing import Any

import numpy as np
import pandas as pd

from sfjira import error_catalog
from sfjira.exceptions import ApiError
from sfjira.hooks.by_id import CHUNK as BY_ID_CHUNK
from sfjira.hooks.payload import canonical
from sfjira.hooks.results import WriteError, WriteResult
from sfjira.rejects import reject
from sfjira.rows import each_row
from sfjira.state.intents import Intent
from sfjira.storage import PartSet, concat_parts, is_part_set, iter_parts, part_paths, read_frame
from sfjira.sync import budget, bulk, cursor, jira_deleted
from sfjira.sync.before import conflict_reasons, reads_needed, salesforce_images
from sfjira.sync.extract import issues_by_key
from sfjira.sync.journal import (
    ChunkOutcome,
    close_superseded,
    conflicts_written_to,
    ledger_row,
    pending_ids,
    run_chunks,
    state_rows,
)
from sfjira.sync.resolve import header_line, salesforce_comments, salesforce_values, settle
from sfjira.sync.run import SyncRun
from sfjira.sync.settle import close_settled
from sfjira.sync.writer import one_writer
from sfjira.transform import to_salesforce
from sfjira.values.missing import is_missing

log = logging.getLogger(__name__)

# A pending update intent's result while its Bulk API 2.0 job runs: the job id, a digest of the records sent.
BULK_JOB, BULK_PAYLOAD = "bulk_job", "bulk_payload_sha256"


@one_writer()
def load_salesforce(run: SyncRun, plan_out: dict[str, Any], jira_result: dict[str, Any]) -> dict[str, Any]:
    if run.dry_run:
        return {"dry_run": True}
    plan = plan_out["tables"]
    counts: dict[str, Any] = {}
    gone = _jira_deleted(run, jira_result, plan)
    read_back = {"jira_owned": 0}
    records, total = _merged_parts(run, plan, gone, read_back)
    counts.update(_write(run, records, total, conflicts_written_to(plan, "salesforce")))
    # The policy writes are done: the webhook-reported deletions this run took can be settled.
    counts["jira_deleted_reports"] = jira_deleted.settle(run, plan_out, set(gone["sf_id"]))
    counts.update(_comments(run, plan["comments_to_sf"]))
    counts["superseded"] = close_superseded(run, "salesforce", ("update", "comment"))
    for quiet in iter_parts(plan["state_only"]):
        if len(quiet):
            run.state.save_synced_state(run.name, state_rows(quiet), run.run_id)
            counts["converged"] = counts.get("converged", 0) + len(quiet)
    # Every write of the run is done: the rejects of the records it carried through close.
    counts["rejects_closed"] = close_settled(run, plan_out)
    # Both loads completed (this task runs only after load_jira succeeded): the cursor may move.
    counts["cursor"] = cursor.commit(run)
    counts["api_calls"] = run.salesforce.calls
    if "jira" in vars(run):  # new issues were read back: those Jira calls belong in the report too
        counts["jira_api_calls"] = run.jira.calls
        counts["jira_read_back"] = read_back["jira_owned"]
    counts.update(budget.figures(run))
    return counts


# The plan tables read bucket by bucket: what a record is written (field updates) and why its key goes
# back (links adopted, made by a create, found stale).
BUCKET_TABLES = ("sf_update", "adopt", "jira_create", "sf_rekey")


def _plan_buckets(plan: dict[str, str]) -> Iterator[dict[str, pd.DataFrame]]:
    """The tables of BUCKET_TABLES one plan bucket at a time. plan_step writes every plan table as a part
    set of one part per bucket, a record's rows in the same bucket of each table (sfjira.sync.buckets), so
    part b of each table is bucket b. Tables whose parts do not pair up (not written per bucket) are read
    as one bucket."""
    paths = [plan[name] for name in BUCKET_TABLES]
    if len({len(part_paths(p)) if is_part_set(p) else 1 for p in paths}) == 1:
        for parts in zip(*(iter_parts(p) for p in paths), strict=True):
            yield dict(zip(BUCKET_TABLES, parts, strict=True))
    else:
        yield {name: concat_parts(list(iter_parts(path))) for name, path in zip(BUCKET_TABLES, paths, strict=True)}


def _bucket_ids(tables: dict[str, pd.DataFrame]) -> list[str]:
    return list(dict.fromkeys(str(i) for frame in tables.values() if "sf_id" in frame for i in frame["sf_id"]))


def _merged_parts(run: SyncRun, plan: dict[str, str], gone: pd.DataFrame,
                  read_back: dict[str, int]) -> tuple[Iterator[pd.DataFrame], int]:
    """The records to update, one frame per plan bucket: its field updates merged with the key write-backs
    (and Jira-owned values) of its links and the policy writes of its records; then the write-backs and
    policy writes of records no bucket holds. Written to a part set of the run folder before the first is
    sent: their count decides REST or Bulk API 2.0 before the first chunk, and the links and new issues
    are read, as before any write, while only one bucket is held."""
    base = _jira_browse_base(run) if run.mapping.salesforce.jira_url_field else ""
    held = _unconfirmed_keys(run)
    out = PartSet(run.folder, "sf_writes", pii=run.pii, sealed=("fields",))
    made_here = 0
    for tables in _plan_buckets(plan):
        ids = _bucket_ids(tables)
        made = _made(run, ids)
        mine = held["sf_id"].isin(ids)
        near = gone["sf_id"].astype(str).isin(ids) if len(gone) else np.zeros(0, bool)
        extra = _write_back(run, tables, made, held[mine], base, read_back)
        out.add(_merged(extra, gone[near], _field_updates(tables["sf_update"])))
        held, gone, made_here = held[~mine], gone[~near], made_here + len(made)
    if run.state.count_links(run.name, state="active", updated_run=run.run_id) > made_here:
        held = pd.concat([held, _made_outside_plan(run, plan)], ignore_index=True).drop_duplicates("sf_id")
    out.add(_merged(_write_back(run, {}, held.iloc[:0], held, base, read_back), gone))
    return iter_parts(out.close()), out.records


def _merged(extra: pd.DataFrame, gone: pd.DataFrame, updates: pd.DataFrame | None = None) -> pd.DataFrame:
    """One record per id. The order the merge keeps (a later value wins): key write-backs, field updates,
    policy writes."""
    return _merge(pd.concat([extra, *([updates] if updates is not None else []), gone], ignore_index=True))


def _made(run: SyncRun, ids: list[str]) -> pd.DataFrame:
    """The active links of these ids this run made (or re-made, after a cleared key)."""
    return run.state.links_of(run.name, sf_ids=ids, state="active", updated_run=run.run_id)


def _made_outside_plan(run: SyncRun, plan: dict[str, str]) -> pd.DataFrame:
    """The links this run made for records no plan table holds: a recovery of another run's creates
    (sfjira.sync.load_jira.recover_pending_creates). Rare, and only then are the plan's ids held at once."""
    planned = {i for tables in _plan_buckets(plan) for i in _bucket_ids(tables)}
    pages = (page[~page["sf_id"].astype(str).isin(planned)] for page in run.state.links_made_in(run.name, run.run_id))
    return concat_parts([*pages, pd.DataFrame({"sf_id": pd.Series([], dtype=object),
                                                "jira_key": pd.Series([], dtype=object)})])


def _write_back(run: SyncRun, tables: dict[str, pd.DataFrame], made: pd.DataFrame, held: pd.DataFrame, base: str,
                read_back: dict[str, int]) -> pd.DataFrame:
    """The Jira key (and URL) onto one bucket's records that do not carry it: links `made` (or re-made,
    after a cleared key) in this run -- except those adopted from the key the record carries -- links the
    plan found stale, and `held` ones (unconfirmed, or made outside the plan). Records whose issue was
    created in this run also get the values Jira owns (status...) that the new issue holds."""
    adopt, rekey = tables.get("adopt", pd.DataFrame()), tables.get("sf_rekey", pd.DataFrame())
    carried = list(adopt.loc[adopt["source"] == "salesforce_key", "sf_id"]) if len(adopt) else []
    stale = run.state.links_of(run.name, sf_ids=rekey["sf_id"], state="active") if len(rekey) else held.iloc[:0]
    new = pd.concat([made[~made["sf_id"].isin(carried)], stale, held]).drop_duplicates("sf_id")
    sf = run.mapping.salesforce
    fields = pd.DataFrame({sf.jira_key_field: new["jira_key"].to_numpy()})
    if sf.jira_url_field:
        fields[sf.jira_url_field] = base + new["jira_key"].to_numpy()
    out = pd.DataFrame({"sf_id": new["sf_id"].to_numpy(), "jira_key": new["jira_key"].to_numpy(),
                        "fields": [json.dumps(r) for r in fields.to_dict("records")], "kind": "link"})
    create = tables.get("jira_create", pd.DataFrame())
    creates = create[["sf_id", "js_hashes"]] if "js_hashes" in create.columns else \
        pd.DataFrame({"sf_id": pd.Series([], dtype=object), "js_hashes": pd.Series([], dtype=object)})
    owned = _jira_owned_values(run, new[new["sf_id"].isin(creates["sf_id"])], creates)
    read_back["jira_owned"] += len(owned)
    return pd.concat([out, owned], ignore_index=True) if len(owned) else out


def _unconfirmed_keys(run: SyncRun) -> pd.DataFrame:
    """Links whose key write-back another run left pending (killed between the call and its commit) and
    that the record does not carry: read back, and written again only where the key is not there."""
    suspects = pending_ids(run, "salesforce", "update") - set(
        i for ids in _own_intents(run, "update") for i in ids)
    linked = run.state.links_of(run.name, sf_ids=sorted(suspects), state="active")[["sf_id", "jira_key"]]
    if not len(linked):
        return linked
    carried = salesforce_values(run.salesforce, run.mapping.salesforce.object, run.mapping.salesforce.jira_key_field,
                                linked["sf_id"])
    return linked[linked["sf_id"].isin(carried.index) &
                  (carried.reindex(linked["sf_id"]).to_numpy() != linked["jira_key"].to_numpy())]


def _own_intents(run: SyncRun, op: str) -> list[list[str]]:
    mine = run.state.intents(run.name, side="salesforce", run_id=run.run_id)
    return list(mine.loc[mine["op"] == op, "record_ids"]) if len(mine) else []


def _jira_owned_values(run: SyncRun, created: pd.DataFrame, creates: pd.DataFrame) -> pd.DataFrame:
    """Fields that flow only from Jira (a status reported back, fix versions...) as new issues hold them,
    read back in one search per 100 issues, with the agreed hashes of every field flowing to Salesforce."""
    mapping = run.mapping
    owned = [f for f in mapping.fields_for("jira_to_sf") if not f.flows("sf_to_jira")]
    if not owned or not len(created):
        return pd.DataFrame(columns=["sf_id", "fields", "kind", "js_hashes"])
    result = to_salesforce(mapping, issues_by_key(run, created["jira_key"].tolist()))
    sf_of_key = pd.Series(created["sf_id"].to_numpy(), index=created["jira_key"].to_numpy())
    keys = result.frame.index[result.frame.index.isin(sf_of_key.index)]
    ids = sf_of_key.reindex(keys).to_numpy()
    columns = [f.salesforce for f in owned]
    values = result.target.loc[keys, columns].to_numpy(dtype=object).tolist()  # rows, not .at per cell
    payloads = [dict(zip(columns, map(canonical, row), strict=True)) for row in values]
    observed = run.pii.field_hashes(result.frame.loc[keys, [f.canonical_key for f in owned]])
    agreed = pd.Series(creates["js_hashes"].to_numpy(), index=creates["sf_id"].to_numpy()).reindex(ids)
    hashes = [json.dumps({**json.loads(a or "{}"), **{k: v for k, v in row.items() if isinstance(v, str)}},
                         sort_keys=True) for a, row in zip(agreed, observed.to_dict("records"), strict=True)]
    return pd.DataFrame({"sf_id": ids, "fields": [json.dumps(p) for p in payloads], "kind": "jira_owned",
                         "js_hashes": hashes})


def _jira_browse_base(run: SyncRun) -> str:
    return run.jira.get_conn().url.rstrip("/") + "/browse/"


def _field_updates(updates: pd.DataFrame) -> pd.DataFrame:
    return updates.assign(kind="update")


def _jira_deleted(run: SyncRun, jira_result: dict[str, Any], plan: dict[str, str]) -> pd.DataFrame:
    """Issues found deleted while loading Jira, and those a webhook reported and the extract confirmed
    (the plan's `jira_deleted`, sfjira.sync.jira_deleted): apply the mapping's Jira-deleted policy."""
    found = read_frame(jira_result["jira_gone"]) if jira_result.get("jira_gone") else pd.DataFrame({"sf_id": []})
    reported = read_frame(plan["jira_deleted"]) if plan.get("jira_deleted") else pd.DataFrame({"sf_id": []})
    gone = pd.concat([reported.reindex(columns=["sf_id", "jira_key"]), found.reindex(columns=["sf_id", "jira_key"])],
                     ignore_index=True).astype(object).drop_duplicates("sf_id")
    policy = run.mapping.deletes.jira_deleted if run.mapping.deletes else None
    if not len(gone) or policy is None or policy.action == "ignore":
        return pd.DataFrame(columns=["sf_id", "fields", "kind"])
    # The link leaves "active" only once the policy's write succeeded (_write): until then each run that
    # writes to the issue meets its 404 again and applies the policy, so a failed run loses nothing.
    key_field = run.mapping.salesforce.jira_key_field
    change = {key_field: None} if policy.action == "clear_key" else {policy.field: policy.value}
    return pd.DataFrame({"sf_id": gone["sf_id"], "jira_key": gone["jira_key"], "fields": json.dumps(change),
                         "kind": "jira_deleted"})


def _merge(writes: pd.DataFrame) -> pd.DataFrame:
    """One record per Salesforce id: the key write-back and field updates go in the same call."""
    if not len(writes):
        return writes.assign(fields=[], sf_id=[])
    # One pass over the writes in id order (a stable sort keeps each id's writes in their order): what a
    # groupby with these aggregations gives, without its Python call per group per column -- a first sync
    # has two writes (key, Jira-owned values) for each of its 5,000 ids.
    ids = writes["sf_id"].to_numpy(dtype=object)
    order = sorted((i for i in range(len(ids)) if not is_missing(ids[i])), key=lambda i: ids[i])
    fields, kinds = writes["fields"].to_numpy(dtype=object), writes["kind"].to_numpy(dtype=object)
    column = {c: writes[c].to_numpy(dtype=object) if c in writes else None for c in ("jira_key", "sj_hashes", "js_hashes")}
    out: dict[str, list[Any]] = {c: [] for c in ("sf_id", "fields", "kinds", "jira_key", "sj_hashes", "js_hashes")}
    for _, rows in groupby(order, key=lambda i: ids[i]):
        group = list(rows)
        out["sf_id"].append(ids[group[0]])
        out["fields"].append(json.dumps({k: v for i in group for k, v in json.loads(fields[i]).items()}))
        out["kinds"].append(",".join(sorted({kinds[i] for i in group})))
        out["jira_key"].append(_present(column["jira_key"], group))
        out["sj_hashes"].append(_present(column["sj_hashes"], group, last=True))
        out["js_hashes"].append(_present(column["js_hashes"], group, last=True))
    return pd.DataFrame(out)


def _present(values: np.ndarray | None, rows: list[int], *, last: bool = False) -> Any:
    """The first (last) value of `rows` that is not missing, as groupby's first() (last()) takes it."""
    if values is None:
        return None
    return next((values[i] for i in (reversed(rows) if last else rows) if not is_missing(values[i])), None)


def _write(run: SyncRun, records: Iterable[pd.DataFrame], total: int, conflicts: pd.DataFrame) -> dict[str, Any]:
    """The updates by Id: sObject Collections of 200, or, above `[sfjira] bulk_write_threshold` records,
    Bulk API 2.0 ingest jobs of `bulk.WRITE_CHUNK` (one per intent; sfjira.sync.bulk)."""
    sobject = run.mapping.salesforce.object
    decided = conflict_reasons(run, conflicts, "salesforce")
    use_bulk = bulk.use_bulk_write(total)
    current: dict[str, Intent] = {}

    def send(payload: list[dict[str, Any]]) -> list[WriteResult]:
        if use_bulk:
            return _bulk_update(run, sobject, payload, current["intent"])
        # An update by Id is idempotent: after an ambiguous failure the same records are sent again.
        return settle(f"Salesforce update of {len(payload)} record(s)",
                      lambda: run.salesforce.update_collection(payload, sobject))

    def write(chunk: pd.DataFrame, _resumed: bool) -> ChunkOutcome:
        mapped = run.mapping.fields_for("jira_to_sf")
        payload = [{"Id": row.sf_id, **run.salesforce.encode_fields(mapped, json.loads(row.fields))}
                   for row in each_row(chunk)]
        # Before-images: one SOQL per 200 ids of the chunk, of the fields it writes. A bulk chunk reads them
        # the same way: a query job cannot take 10,000 ids in one SOQL (100,000 characters at most), and a
        # job over the whole object would read far more than the chunk writes.
        images = salesforce_images(run, {p["Id"]: list(p) for p in payload})
        results = send(payload)
        ok = [r.success for r in results]
        done = chunk[ok]
        outcome = ChunkOutcome(state=state_rows(done.dropna(subset=["js_hashes"])) if "js_hashes" in done else None,
                               counts={"sf_updated": sum(ok), "sf_rejected": len(ok) - sum(ok),
                                       "before_reads": reads_needed(len(chunk), BY_ID_CHUNK)})
        for row, res, data in zip(each_row(chunk), results, payload, strict=True):
            if res.success:
                held = images.get(row.sf_id, {})
                outcome.ledger += [_update_row(run, row, k, held.get(k), v, decided)
                                   for k, v in data.items() if k != "Id"]
            else:
                err = res.errors[0] if res.errors else None
                outcome.rejects.append(reject("salesforce", row.sf_id, err.code if err else "UPDATE_FAILED",
                                              err.message if err else "refused", _sf_fix(err),
                                              field=",".join(err.fields) if err and err.fields else None))
        flagged = [row.sf_id for row, res in zip(each_row(chunk), results, strict=True)
                   if res.success and "jira_deleted" in str(row.kinds).split(",")]
        if flagged:
            outcome.saves.append(partial(run.state.set_link_state, run.name, flagged, "deleted_jira", run_id=run.run_id))
        return outcome

    size = bulk.WRITE_CHUNK if use_bulk else run.salesforce.COLLECTION_MAX
    counts: dict[str, Any] = run_chunks(run, "salesforce", "update", records, size, write, decisions=conflicts,
                                        on_intent=(lambda intent: current.update(intent=intent)) if use_bulk else None)
    return {**counts, "write_path": "bulk" if use_bulk else "rest"}


def _bulk_update(run: SyncRun, sobject: str, payload: list[dict[str, Any]], intent: Intent) -> list[WriteResult]:
    """One chunk through an ingest job whose id (with a digest of what it sends) goes into the chunk's intent
    as soon as the job exists. A killed task's retry, or the next plan of the same run, finds a pending
    intent with the same payload and collects that job (`resume`) instead of creating another; after an
    ambiguous failure inside the task the same job is resumed too. Only an identical payload resumes a job:
    a job sending other values would leave this plan's values unwritten. Rows a job leaves unprocessed are
    sent in new jobs by the hook (the intent keeps the latest; an update by Id is idempotent)."""
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    job: dict[str, str | None] = {"id": _job_to_resume(run, digest)}

    def noted(job_id: str) -> None:
        job["id"] = job_id
        run.state.note_intent(intent.intent_id, {BULK_JOB: job_id, BULK_PAYLOAD: digest})

    if job["id"]:
        log.info("Salesforce update chunk %d: resuming Bulk API job %s of a killed attempt", intent.chunk, job["id"])
        noted(job["id"])
    def send() -> list[WriteResult]:
        try:
            return run.salesforce.bulk_update(sobject, payload, on_job=noted, resume=job["id"])
        except ApiError as exc:
            if not job["id"] or exc.status != 404:
                raise
            # Salesforce keeps a job's results 7 days: a job that old is gone, so the records go in a new one.
            log.warning("Bulk API job %s is gone (%s): sending the chunk in a new job", job["id"], exc.message)
            job["id"] = None
            return run.salesforce.bulk_update(sobject, payload, on_job=noted)

    return settle(f"Salesforce Bulk API update of {len(payload)} record(s)", send)


def _job_to_resume(run: SyncRun, digest: str) -> str | None:
    """The newest Bulk API job a pending update intent (this chunk's own, or a killed run's) noted for
    exactly this payload."""
    pending = run.state.pending_intents(run.name, "salesforce")
    notes = [r for r in (pending.loc[pending["op"] == "update", "result"] if len(pending) else [])
             if isinstance(r, dict) and r.get(BULK_PAYLOAD) == digest and r.get(BULK_JOB)]
    return str(notes[-1][BULK_JOB]) if notes else None


def _update_row(run: SyncRun, row: Any, field: str, before: Any, after: Any,
                decided: dict[tuple[str, str], str]) -> dict[str, Any]:
    """A written Salesforce field's ledger row: a key write-back is a `link`, a Jira-deleted policy's
    change a `delete` (cause delete_policy), a conflict's winner carries the owner rule."""
    sf = run.mapping.salesforce
    kinds = set(str(row.kinds).split(","))
    why = decided.get((row.sf_id, field))
    action, cause = "update", "conflict" if why else run.cause
    if "link" in kinds and field in (sf.jira_key_field, sf.jira_url_field):
        action = "link"
    elif "jira_deleted" in kinds and not why:
        action, cause = "delete", "delete_policy"
    key = row.jira_key if isinstance(getattr(row, "jira_key", None), str) else None
    return ledger_row("salesforce", action, row.sf_id, key, field=field, before=before, after=after,
                      reason=why or row.kinds, cause=cause)


def _sf_fix(err: WriteError | None) -> str:
    """The catalog's fix for an errorCode it names (sfjira.error_catalog); a generic one otherwise."""
    code = getattr(err, "code", "")
    if error_catalog.is_catalogued(code):
        return error_catalog.fix_for(code)
    return "fix the value on the Jira side or the mapping; the next run retries the record"


def _comments(run: SyncRun, table: str) -> dict[str, int]:
    cm = run.mapping.comments
    if cm is None:
        return {}
    sf = cm.salesforce
    suspects = pending_ids(run, "salesforce", "comment")  # a killed attempt may have created these already

    def write(chunk: pd.DataFrame, resumed: bool) -> ChunkOutcome:
        found: dict[str, str] = {}
        left = {"todo": chunk}

        def look_up() -> None:  # what is found is linked, the rest is sent
            todo = left["todo"]
            there = salesforce_comments(run.salesforce, sf.object, sf.parent_field, sf.body_field,
                                        todo["sf_id"].astype(str).tolist())
            ids = [there.get((str(r.sf_id), header_line(r.body))) for r in each_row(todo)]
            found.update({str(r.comment_id): i for r, i in zip(each_row(todo), ids, strict=True) if i})
            left["todo"] = todo[[i is None for i in ids]]

        def send() -> tuple[pd.DataFrame, list[Any]]:
            todo = left["todo"]
            payload = [{sf.parent_field: r.sf_id, sf.body_field: r.body, **sf.values} for r in each_row(todo)]
            return todo, run.salesforce.create_collection(sf.object, payload) if payload else []

        check_first = resumed or bool(suspects & set(chunk["comment_id"].astype(str)))
        todo, results = settle(f"Salesforce comments ({len(chunk)})", send, look_up, check_first=check_first)
        links = [{"sf_comment_id": res.id, "jira_comment_id": row.comment_id, "sf_parent_id": row.sf_id,
                  "jira_key": row.jira_key, "origin": "jira"}
                 for row, res in zip(each_row(todo), results, strict=True) if res.success]
        links += [{"sf_comment_id": sf_comment_id, "jira_comment_id": row.comment_id, "sf_parent_id": row.sf_id,
                   "jira_key": row.jira_key, "origin": "jira"}
                  for row in each_row(chunk) if (sf_comment_id := found.get(str(row.comment_id)))]
        saves: list[Callable[[], object]] = \
            [partial(run.state.upsert_comment_links, run.name, pd.DataFrame(links), run.run_id)] if links else []
        # The comment's ids, not its text: a body is free text the ledger has no field to seal it by.
        ledger = [ledger_row("salesforce", "comment", link["sf_parent_id"], link["jira_key"], field="comment",
                             after={"id": link["sf_comment_id"], "from": str(link["jira_comment_id"])},
                             cause=run.cause) for link in links]
        return ChunkOutcome(ledger=ledger, counts={"comments_to_sf": len(links)}, saves=saves)

    return run_chunks(run, "salesforce", "comment", iter_parts(table), run.salesforce.COLLECTION_MAX, write,
                      ids="comment_id")
