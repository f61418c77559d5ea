"""Jira Cloud bulk operations in the Jira load's updates: many issues getting the same change go as one task.

Above `[sfjira] jira_bulk_threshold` issues in a chunk:
- the same field values (a plan row's whole `fields`, when bulk edit takes every field of it:
  sfjira.hooks.jira_bulk.edited_fields) go as bulk edit tasks. Bulk edit sets one value per field for
  all its issues, so the common case of different values per issue stays on the per-issue path;
- the same target status reached from the same status go as bulk transition tasks, one per workflow step.
Data Center has no bulk API and always writes issue by issue; so does a load with no group that large.

Each task's id goes into the chunk's write-ahead intent (`jira_bulk_tasks`: {request digest: task id})
as soon as it exists: a retry of the chunk, or a later run's plan of the same change, finds it among the
pending intents and polls that task instead of submitting the change again.

Per-issue outcomes: refused issues become rejects with Jira's reasons; issues the task did not report
(deleted, or hidden from the API user) go the per-issue way, which finds them gone.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from sfjira import settings
from sfjira.batching import batches
from sfjira.error_catalog import fix_for
from sfjira.hooks.jira_bulk import MAX_ISSUES, Tasks, edited_fields
from sfjira.hooks.results import WriteResult
from sfjira.rejects import reject
from sfjira.state.intents import Intent
from sfjira.sync.resolve import settle
from sfjira.sync.run import SyncRun

log = logging.getLogger(__name__)

BULK_TASKS = "jira_bulk_tasks"
MISSING = "JIRA_BULK_ISSUE_MISSING"


def threshold() -> int:
    return settings.get_int("jira_bulk_threshold")


def use_bulk_creates(run: SyncRun, parts: Iterable[pd.DataFrame]) -> bool:
    """Whether more than the threshold of new issues go to the same status after their creation (Cloud only):
    their walks from the workflow's initial status then go as bulk transitions. Reads only the plan's parts."""
    statuses = [_hashes(part["status"].dropna()) for part in parts if len(part) and "status" in part]
    return _group_above_threshold(statuses) and run.jira.is_cloud


def use_bulk_parts(run: SyncRun, parts: Iterable[pd.DataFrame]) -> bool:
    """Whether the load's updates hold a group above the threshold worth a bulk task (Cloud only): the same
    target status, or the same field values. It decides the chunk size, so it reads only the plan (a retry
    cuts the same chunks), part by part: only a 64-bit hash of each target and change is kept across the
    parts (8 bytes a row), never the parts themselves."""
    statuses: list[np.ndarray] = []
    changes: list[np.ndarray] = []
    for part in parts:
        if not len(part):
            continue
        if "status" in part:
            statuses.append(_hashes(part["status"].dropna()))
        changes.append(_hashes(part.loc[part["fields"] != "{}", "fields"]))
    return (_group_above_threshold(statuses) or _group_above_threshold(changes)) and run.jira.is_cloud


def _hashes(values: pd.Series) -> np.ndarray:
    return pd.util.hash_array(values.astype(str).to_numpy(dtype=object))


def _group_above_threshold(hashes: list[np.ndarray]) -> bool:
    joined = np.concatenate(hashes) if hashes else np.array([], np.uint64)
    return bool(len(joined)) and int(np.unique(joined, return_counts=True)[1].max()) > threshold()


@dataclass
class Step:
    """A bulk outcome for one record: its result, and the transitions walked (bulk transitions)."""

    result: WriteResult
    taken: list[str] = field(default_factory=list)

    @property
    def missing(self) -> bool:
        return not self.result.success and any(e.code == MISSING for e in self.result.errors)


class BulkChunk:
    """The bulk writes of one update chunk, its tasks noted in the chunk's intent."""

    def __init__(self, run: SyncRun, intent: Intent, ids: dict[str, str]) -> None:
        self.run = run
        self.intent = intent
        self.ids = ids  # issue key -> id, from the before-image read
        self.mine: dict[str, str] = {}
        self.tasks = Tasks(known=_pending_tasks(run), on_task=self._noted)
        self.count = 0  # tasks submitted or resumed

    def _noted(self, digest: str, task_id: str) -> None:
        self.mine[digest] = task_id
        self.run.state.note_intent(self.intent.intent_id, {BULK_TASKS: dict(self.mine)})

    def edits(self, chunk: pd.DataFrame) -> dict[str, Step]:
        """sf_id -> Step for the rows whose field values go by bulk edit."""
        steps: dict[str, Step] = {}
        mapped = self.run.mapping.fields_for("sf_to_jira")
        rows = chunk[(chunk["fields"] != "{}") & chunk["jira_key"].isin(list(self.ids))]
        for fields_json, group in rows.groupby("fields", sort=True):
            encoded = edited_fields(mapped, json.loads(str(fields_json))) if len(group) > threshold() else None
            if encoded is None:
                continue
            edited, actions = encoded
            for part in batches(group, MAX_ISSUES):
                ids = [self.ids[k] for k in part["jira_key"]]
                results = settle(f"Jira bulk edit of {len(ids)} issue(s)",
                                 partial(self.run.jira.bulk.edit, ids, edited, actions, self.tasks))
                self.count += 1
                steps.update({sf_id: Step(r) for sf_id, r in zip(part["sf_id"], results, strict=True)})
        return steps

    def transitions(self, moves: Iterable[tuple[str, str, str, str]]) -> dict[str, Step]:
        """sf_id -> Step for the moves (sf_id, key, status now, target) in groups above the threshold."""
        groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for sf_id, key, now, target in moves:
            if key in self.ids and now.casefold() != target.casefold():
                groups[(now, target)].append((sf_id, key))
        steps: dict[str, Step] = {}
        jira = self.run.mapping.jira
        for (now, target), members in sorted(groups.items()):
            if len(members) <= threshold():
                continue
            ids = [self.ids[key] for _, key in members]
            results, taken = settle(f"Jira bulk transition of {len(ids)} issue(s) to {target!r}",
                                    partial(self.run.jira.bulk.walk, ids, now, target,
                                            workflow=(jira.project, jira.issue_type), tasks=self.tasks))
            self.count += max(1, len(taken))
            steps.update({sf_id: Step(r, taken) for (sf_id, _), r in zip(members, results, strict=True)})
        return steps


def bulk_reject(sf_id: str, result: WriteResult, field_name: str | None = None) -> dict[str, Any]:
    error = result.errors[0]
    return reject("jira", sf_id, error.code, "; ".join(e.message for e in result.errors), fix_for(error.code),
                  field=field_name)


def _pending_tasks(run: SyncRun) -> dict[str, str]:
    """Bulk tasks noted by pending Jira update and create intents (this chunk's own killed attempt, or another
    run's)."""
    pending = run.state.pending_intents(run.name, "jira")
    known: dict[str, str] = {}
    for result in pending.loc[pending["op"].isin(["update", "create"]), "result"] if len(pending) else []:
        if isinstance(result, dict) and isinstance(result.get(BULK_TASKS), dict):
            known.update({str(k): str(v) for k, v in result[BULK_TASKS].items()})
    return known
