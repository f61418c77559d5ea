"""The rollback's restore step: the planned actions written through the normal hooks, chunk by chunk
under the intent journal (sfjira.sync.journal), holding the mapping's writer lease.

Each chunk reads its records again just before writing (one search / one SOQL, as the sync's
before-images are read): a field still holding what the run wrote is written back; one already back
at its before-image is not sent again (after a killed attempt that wrote it, it is ledgered as this
rollback's write); one changed since -- at plan time or since the plan -- is left alone and ledgered
as a `skip`. Every write is ledgered with cause `rollback` (its `before` the value it replaced, its
`after` the restored one), so the rollback can itself be rolled back. A record a side refuses is
ledgered as a `reject` with the API's code and fix and the run ends `partial`; the others land.

The sync's agreed state of every field the run wrote goes back to the value the run replaced
(sfjira.rollback.agreed): the next sync finds restored fields unchanged on both sides, and carries a
field changed since from the side it was changed on, as if the run had never happened.
"""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any

import pandas as pd

from sfjira.exceptions import ApiError
from sfjira.rollback.agreed import restore_agreed
from sfjira.rollback.plan import ROLLBACK_LABEL, same
from sfjira.rollback.run import RollbackRun
from sfjira.rollback.steps import read_actions
from sfjira.rows import each_row
from sfjira.storage import read_frame
from sfjira.sync.before import jira_images, salesforce_images
from sfjira.sync.journal import ChunkOutcome, ledger_row, run_chunks
from sfjira.sync.resolve import settle
from sfjira.sync.writer import one_writer

log = logging.getLogger(__name__)

UPDATE_CHUNK = 50  # issues per intent (one write call per issue)
CHANGED_SINCE = "changed since the run: left alone"
COUNTS = ("restored", "already", "changed_since", "failed", "gone", "deleted", "labelled")


@one_writer()
def restore_step(run: RollbackRun, plan_out: dict[str, Any]) -> dict[str, Any]:
    if run.dry_run:
        return {"dry_run": True, "diff": plan_out["diff"]}
    actions, created = read_actions(plan_out["actions"]), read_frame(plan_out["created"])
    reason = f"rollback of {', '.join(plan_out['targets'])}"
    out: dict[str, Any] = {"targets": plan_out["targets"], "diff": plan_out["diff"]}
    out["jira"] = _add(_delete_created(run, created[created["status"] == "delete"], reason),
                       run_chunks(run, "jira", "update", _records(actions, created, "jira"), UPDATE_CHUNK,
                                  partial(_write_jira, run, reason), ids="jira_key"))
    out["salesforce"] = run_chunks(run, "salesforce", "update", _records(actions, created, "salesforce"),
                                   run.salesforce.COLLECTION_MAX, partial(_write_salesforce, run, reason))
    out["agreed"] = restore_agreed(run, actions, _refused(run))
    failed = sum(int(out[side].get("failed", 0)) for side in ("jira", "salesforce"))
    out["api_calls"] = {"jira": run.jira.calls, "salesforce": run.salesforce.calls}
    run.state.finish_run(run.run_id, "partial" if failed else "success", summary={"rollback": out})
    log.info("%s: %s", reason.capitalize(), json.dumps(out, sort_keys=True))
    print(f"SFJIRA ROLLBACK {run.name}: {json.dumps(out, sort_keys=True)}")
    return out


def _refused(run: RollbackRun) -> set[tuple[str, str]]:
    """(side, record id) of every record this rollback's writes were refused for (its `reject` rows)."""
    rows = run.state.ledger(run_id=run.run_id, mapping=run.name)
    rows = rows[rows["action"] == "reject"] if len(rows) else rows
    return {(str(r.side), str(r.jira_key if r.side == "jira" else r.sf_id)) for r in each_row(rows)}


def _add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: a.get(k, 0) + b.get(k, 0) for k in {*a, *b}}


def _records(actions: pd.DataFrame, created: pd.DataFrame, side: str) -> pd.DataFrame:
    """One row per record of `side`: `restore` {field: before-image}, `expect` {field: what the run left},
    `action` {field: the run's ledger action}, `skip` {field: [now, before]} (changed since the plan), and
    for Jira whether the record's new issue gets the rollback label."""
    mine = actions[(actions["side"] == side) & actions["status"].isin(["restore", "changed_since"])]
    key = "jira_key" if side == "jira" else "sf_id"
    rows: dict[str, dict[str, Any]] = {}
    for a in mine.to_dict("records"):
        row = rows.setdefault(str(a[key]), {"sf_id": a["sf_id"], "jira_key": a["jira_key"], "restore": {},
                                            "expect": {}, "action": {}, "skip": {}, "label": False})
        if a["status"] == "restore":
            row["restore"][a["field"]], row["expect"][a["field"]] = a["before"], a["after"]
            row["action"][a["field"]] = a["action"]
        else:
            row["skip"][a["field"]] = [a["current"], a["before"]]
    if side == "jira":
        for c in each_row(created[created["status"] == "label"]):
            rows.setdefault(str(c.jira_key), {"sf_id": c.sf_id, "jira_key": c.jira_key, "restore": {}, "expect": {},
                                              "action": {}, "skip": {}, "label": False})["label"] = True
    frame = pd.DataFrame([{**r, **{c: json.dumps(r[c]) for c in ("restore", "expect", "action", "skip")}}
                          for _, r in sorted(rows.items())],
                         columns=["sf_id", "jira_key", "restore", "expect", "action", "skip", "label"])
    return frame.astype(object)


class _Chunk:
    """A chunk's bookkeeping: which fields to send, and the ledger rows and counts it leaves."""

    def __init__(self, run: RollbackRun, side: str, reason: str, resumed: bool) -> None:
        self.run, self.side, self.reason, self.resumed = run, side, reason, resumed
        self.outcome = ChunkOutcome(counts=dict.fromkeys(COUNTS, 0))

    def sort(self, row: Any, held: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        """{field: (value now, value to restore)} of the fields still holding what the run wrote; the
        others are counted (and ledgered: a skip, or this rollback's own write found landed)."""
        restore, expect, actions = json.loads(row.restore), json.loads(row.expect), json.loads(row.action)
        todo = {}
        for field, value in restore.items():
            now = held.get(field)
            if same(now, expect[field]):
                todo[field] = (now, value)
            elif same(now, value):
                self.count("already")
                if self.resumed:  # an earlier attempt of this chunk wrote it before it was killed
                    self.written(row, field, actions[field], expect[field], value)
            else:
                self.skip(row, field, now, value)
        for field, (now, value) in json.loads(row.skip).items():
            self.skip(row, field, now, value)
        return todo

    def count(self, what: str, n: int = 1) -> None:
        self.outcome.counts[what] += n

    def written(self, row: Any, field: str, action: str, before: Any, after: Any) -> None:
        self.outcome.ledger.append(ledger_row(self.side, action, row.sf_id, _key(row), field=field, before=before,
                                              after=after, reason=self.reason, cause="rollback"))

    def restored(self, row: Any, todo: dict[str, tuple[Any, Any]]) -> None:
        """The fields of `row` this chunk wrote back ({field: (value replaced, value restored)}), ledgered."""
        actions = json.loads(row.action)
        for field, (now, value) in todo.items():
            self.written(row, field, actions[field], now, value)
        self.count("restored", len(todo))

    def skip(self, row: Any, field: str, now: Any, value: Any) -> None:
        self.count("changed_since")
        self.outcome.ledger.append(ledger_row(self.side, "skip", row.sf_id, _key(row), field=field, before=now,
                                              after=value, reason=f"{self.reason}: {CHANGED_SINCE}", cause="rollback"))

    def refused(self, row: Any, code: str, message: str, fix: str, field: str | None = None) -> None:
        self.count("failed")
        self.outcome.ledger.append(ledger_row(self.side, "reject", row.sf_id, _key(row), field=field,
                                              reason=f"{self.reason}: [{code}] {message} -- fix: {fix}",
                                              cause="rollback"))


def _key(row: Any) -> str | None:
    return row.jira_key if isinstance(row.jira_key, str) else None


def _write_jira(run: RollbackRun, reason: str, chunk: pd.DataFrame, resumed: bool) -> ChunkOutcome:
    book = _Chunk(run, "jira", reason, resumed)
    images = jira_images(run, chunk["jira_key"])
    mapped = run.mapping.fields_for("sf_to_jira")
    for row in each_row(chunk):
        held = images.get(row.jira_key)
        if held is None:
            book.count("gone")
            continue
        todo = book.sort(row, held)
        status = todo.pop("status", None)
        try:
            if todo:
                wire = run.jira.encode_fields(mapped, {f: v for f, (_, v) in todo.items()})
                settle(f"restore {row.jira_key}", partial(run.jira.update_fields, row.jira_key, wire))
            if status is not None and isinstance(status[1], str):
                settle(f"transition {row.jira_key} back to {status[1]!r}",
                       partial(run.jira.transition_to, row.jira_key, status[1]))
                todo["status"] = status
            if row.label:
                settle(f"label {row.jira_key}", partial(run.jira.add_labels, row.jira_key, [ROLLBACK_LABEL]))
                book.count("labelled")
        except ApiError as exc:
            book.refused(row, exc.code, exc.message, exc.fix)
            continue
        book.restored(row, todo)
    return book.outcome


def _write_salesforce(run: RollbackRun, reason: str, chunk: pd.DataFrame, resumed: bool) -> ChunkOutcome:
    book = _Chunk(run, "salesforce", reason, resumed)
    images = salesforce_images(run, {str(r.sf_id): list(json.loads(r.restore)) for r in each_row(chunk)})
    mapped = run.mapping.fields_for("jira_to_sf")
    sending: list[tuple[Any, dict[str, tuple[Any, Any]]]] = []
    for row in each_row(chunk):
        held = images.get(str(row.sf_id))
        if held is None:
            book.count("gone")
            continue
        todo = book.sort(row, held)
        if todo:
            sending.append((row, todo))
    if sending:
        payload = [{"Id": row.sf_id, **run.salesforce.encode_fields(mapped, {f: v for f, (_, v) in todo.items()})}
                   for row, todo in sending]
        # An update by Id is idempotent: after an ambiguous failure the same records are sent again.
        results = settle(f"Salesforce restore of {len(payload)} record(s)",
                         lambda: run.salesforce.update_collection(payload, run.mapping.salesforce.object))
        for (row, todo), res in zip(sending, results, strict=True):
            if not res.success:
                err = res.errors[0] if res.errors else None
                book.refused(row, err.code if err else "UPDATE_FAILED", err.message if err else "refused",
                             "fix the record in Salesforce (or the value), then run the rollback again: it "
                             "restores what is left", field=",".join(err.fields) if err and err.fields else None)
                continue
            book.restored(row, todo)
    return book.outcome


def _delete_created(run: RollbackRun, created: pd.DataFrame, reason: str) -> dict[str, int]:
    """The issues the run created, deleted (policy `delete`), and their links dropped; the records' key
    write-backs are restored with the other Salesforce fields."""
    def write(chunk: pd.DataFrame, _resumed: bool) -> ChunkOutcome:
        book = _Chunk(run, "jira", reason, _resumed)
        for row in each_row(chunk):
            settle(f"delete {row.jira_key}", partial(run.jira.delete_issue, row.jira_key))
            book.outcome.ledger.append(ledger_row("jira", "delete", row.sf_id, row.jira_key,
                                                  after={"policy": "delete"}, reason=reason, cause="rollback"))
            book.count("deleted")
        book.outcome.saves.append(partial(run.state.delete_links, run.name, chunk["sf_id"].astype(str).tolist()))
        return book.outcome

    return run_chunks(run, "jira", "delete", created, UPDATE_CHUNK, write)
