"""What one sync step needs: the mapping, the window, where frames go, and lazy hooks/state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sfjira.mapping import Mapping, load_mapping
from sfjira.pii import PiiProtection
from sfjira.storage import make_folder, run_path, safe_name

if TYPE_CHECKING:
    from sfjira.hooks.jira import JiraSyncHook
    from sfjira.hooks.salesforce import SalesforceSyncHook
    from sfjira.state import StateStore

# A full resync reads everything: from before any record either API can hold, to well past any clock
# skew between the worker and the APIs.
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
FUTURE = dt.timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """The half-open interval [since, until) a run reads, overlap already applied, and why it starts
    where it does (see sfjira.sync.cursor): "interval", "cursor (last committed <ts>)", "backfill" or
    "full_resync"."""

    since: dt.datetime
    until: dt.datetime
    full: bool = False
    reason: str = "interval"
    note: str | None = None
    """Set when the window reaches far behind its interval (read anyway; the summary says so)."""

    @classmethod
    def for_interval(cls, start: dt.datetime, end: dt.datetime, overlap: dt.timedelta, *, full: bool = False,
                     now: dt.datetime | None = None, reason: str = "interval") -> Window:
        if full:
            return cls(EPOCH, (now or dt.datetime.now(dt.UTC)) + FUTURE, True, "full_resync")
        return cls(start - overlap, end, reason=reason)

    def as_dict(self) -> dict[str, object]:
        """For XCom and the run summary."""
        out: dict[str, object] = {"since": self.since.isoformat(), "until": self.until.isoformat(),
                                  "reason": self.reason, "full": self.full}
        return {**out, "note": self.note} if self.note else out

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Window:
        return cls(dt.datetime.fromisoformat(str(data["since"])), dt.datetime.fromisoformat(str(data["until"])),
                   bool(data.get("full")), str(data.get("reason") or "interval"),
                   str(data["note"]) if data.get("note") else None)


@dataclass
class SyncRun:
    """What one step of one sync DAG run works with. The names around "run", each meaning one thing:

    - `SyncRun` (a variable named `run`): this object, the step's view of the DAG run;
    - `airflow_run_id`: Airflow's DAG run id (`manual__...`, `scheduled__...`), also the run folder's name;
    - `state_run`: the key the state store knows this run by: the Airflow run id, or `<run id>#n` for the
      n-th plan of a cleared run;
    - `run_id`: the state store's id of that run (begun on first use), stamped on intents, ledger and rejects.
    """

    mapping_file: str
    dag_id: str
    airflow_run_id: str
    window: Window
    dry_run: bool = False
    replay: bool = False
    """Also read the records of the mapping's open rejects by id (the `replay_rejects` Param)."""
    salesforce_conn_id: str = "salesforce_default"
    jira_conn_id: str = "jira_default"
    state_conn_id: str = "sfjira_state"
    state_run: str | None = None
    """The run's key in the state store (default: the Airflow run id). A plan made again for the same
    Airflow run (the run was cleared) gets its own key, handed to the loads through the plan's output."""
    group: str | None = None
    """The task group the steps run in, when the sync is embedded in another DAG (sfjira.dag_factory.
    sync_task_group): its files go in a sub-folder of the run folder named after it."""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def cause(self) -> str:
        """Why this run's writes happen, as the ledger says it (state.vocab.LEDGER_CAUSES)."""
        return "replay" if self.replay else "change"

    @cached_property
    def mapping(self) -> Mapping:
        return load_mapping(Path(self.mapping_file))

    @property
    def name(self) -> str:
        return self.mapping.name

    @cached_property
    def folder(self) -> str:
        folder = run_path(self.dag_id, self.airflow_run_id)
        # Group ids may hold dots (nested groups); a name of dots alone must not climb out of the run folder.
        sub = safe_name(self.group or "").strip(".")
        return str(make_folder(folder / sub) if sub else folder)

    @cached_property
    def salesforce(self) -> SalesforceSyncHook:
        from sfjira.hooks.salesforce import SalesforceSyncHook  # local import: keeps DAG parsing fast

        return SalesforceSyncHook(salesforce_conn_id=self.salesforce_conn_id)

    @cached_property
    def jira(self) -> JiraSyncHook:
        from sfjira.hooks.jira import JiraSyncHook  # local import: keeps DAG parsing fast

        return JiraSyncHook(jira_conn_id=self.jira_conn_id)

    @cached_property
    def pii(self) -> PiiProtection:
        """The mapping's PII fields and the key sealing them (from the `sfjira_crypto` connection)."""
        return PiiProtection.for_mapping(self.mapping)

    @cached_property
    def state(self) -> StateStore:
        """The state store, sealing this mapping's PII in the ledger and rejects."""
        from sfjira.state import StateStore  # local import: keeps DAG parsing fast

        return StateStore.from_airflow(self.state_conn_id).protect(self.name, self.pii)

    @cached_property
    def run_id(self) -> str:
        """The state store's run id (begin_run is idempotent: a retried task gets the same run back)."""
        return self.state.begin_run(self.name, self.state_run or self.airflow_run_id,
                                    window_start=self.window.since, window_end=self.window.until,
                                    dry_run=self.dry_run)

    def fresh_state_run(self) -> str:
        """The state-store key for a new plan of this Airflow run: the run id itself, or `<run id>#n` once
        an earlier plan of the same run has begun writing (its intents are that plan's, not this one's)."""
        key, attempt = self.airflow_run_id, 1
        while len(self.state.intents(self.name, run_id=self.state.run_key(self.name, key))):
            attempt += 1
            key = f"{self.airflow_run_id}#{attempt}"
        return key
