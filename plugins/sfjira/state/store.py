"""`StateStore`: the sync's memory between runs, behind one small API.

Bulk methods take and return pandas DataFrames. Every public method is one transaction;
`complete_intent` writes a chunk's links, synced state, ledger and rejects and closes its intent
in the same transaction, so a crash leaves either all of it or none of it (and the intent pending).
Nothing secret is stored: the URL's password is never logged, reject payloads are scrubbed, and
the PII of a mapping registered with `protect` is sealed in the ledger and the rejects (the state
store keeps it nowhere else); `rotate_pii` re-seals it under a new key.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
import sqlalchemy as sa

from sfjira.exceptions import StateStoreError
from sfjira.pii import PiiCipher, PiiProtection
from sfjira.state import audit as _audit
from sfjira.state import comments as _comments
from sfjira.state import deliveries as _deliveries
from sfjira.state import drift as _drift
from sfjira.state import intents as _intents
from sfjira.state import jira_deletes as _jira_deletes
from sfjira.state import lease as _lease
from sfjira.state import ledger as _ledger
from sfjira.state import links as _links
from sfjira.state import migrations, overview, sealing
from sfjira.state import rejects as _rejects
from sfjira.state import runs as _runs
from sfjira.state import schema as _schema
from sfjira.state import synced as _synced
from sfjira.state import watermarks as _watermarks
from sfjira.state.engine import (
    DEFAULT_CONN_ID,
    create_state_engine,
    default_url,
    masked,
    normalize_url,
    transaction,
    url_from_airflow,
)
from sfjira.state.frames import read_frame_in
from sfjira.state.intents import Intent
from sfjira.state.types import utcnow


class StateStore:
    """State of every mapping's sync in one database (SQLite file or PostgreSQL).

    :param url: SQLAlchemy URL; `postgres://` (as Airflow writes it) is accepted.
    :param schema: PostgreSQL schema to keep the tables in (created by `migrate`); None = search_path.
    :param auto_migrate: create/upgrade the schema on first use. With False, a store that is behind
        raises until `migrate()` is called (e.g. from a deployment step).
    """

    def __init__(self, url: str | sa.URL, *, schema: str | None = None, auto_migrate: bool = True,
                 echo: bool = False) -> None:
        self._url = normalize_url(url)
        self._schema = schema
        self._auto_migrate = auto_migrate
        self._echo = echo
        self._engine: sa.Engine | None = None
        self._pid = os.getpid()
        self._ready = False
        self._pii: dict[str, PiiProtection] = {}

    def protect(self, mapping: str, pii: PiiProtection) -> StateStore:
        """From now on, seal `mapping`'s PII values in every ledger image and reject this store writes."""
        if pii.active:
            self._pii[mapping] = pii
        return self

    @classmethod
    def from_airflow(cls, conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> StateStore:
        """The store named by the Airflow connection, or the default SQLite file when it is not defined.

        The connection's extra `state_schema` selects a PostgreSQL schema."""
        found = url_from_airflow(conn_id)
        if found is None:
            return cls(default_url(), **kwargs)
        url, schema = found
        return cls(url, schema=kwargs.pop("schema", schema), **kwargs)

    def __repr__(self) -> str:
        return f"StateStore({self.url!r})"

    @property
    def url(self) -> str:
        """The URL with its password masked (safe to log)."""
        return masked(self._url)

    @property
    def location(self) -> str:
        """The database and schema (password masked): two stores with the same location share their rows."""
        return f"{self.url}#{self._schema}" if self._schema else self.url

    @property
    def engine(self) -> sa.Engine:
        if self._engine is not None and self._pid != os.getpid():
            # A forked worker must not share the parent's pooled connections: leave them to the parent.
            self._engine.dispose(close=False)
            self._engine = None
        if self._engine is None:
            self._engine = create_state_engine(self._url, self._schema, self._echo)
            self._pid = os.getpid()
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._ready = False

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------------------

    def migrate(self, steps: Sequence[migrations.Step] = migrations.STEPS) -> int:
        """Create or upgrade the schema; idempotent and safe to call from several processes at once."""
        with transaction(self.engine, write=True) as conn:
            version = migrations.migrate(conn, steps, where=self.url, pg_schema=self._schema)
        self._ready = version == migrations.SCHEMA_VERSION
        return version

    def schema_version(self) -> int:
        """The database's schema version (0 = not created yet)."""
        with transaction(self.engine, write=False) as conn:
            return migrations.read_version(conn)

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        found = self.schema_version()
        known = migrations.SCHEMA_VERSION
        if found > known:
            raise migrations.too_new_error(found, known, self.url)
        if found < known:
            if not self._auto_migrate:
                raise StateStoreError(
                    f"the state store at {self.url} has schema version {found}, this sfjira needs {known}",
                    code="STATE_SCHEMA_OLD", fix="run `sfjira migrate` (or StateStore.migrate())")
            self.migrate()
        self._ready = True

    @contextmanager
    def _tx(self, *, write: bool) -> Iterator[sa.Connection]:
        self._ensure_ready()
        with transaction(self.engine, write=write) as conn:
            yield conn

    # -- runs ---------------------------------------------------------------------------------------

    run_key = staticmethod(_runs.run_key)

    def begin_run(self, mapping: str, airflow_run_id: str, *, window_start: dt.datetime | None = None,
                  window_end: dt.datetime | None = None, dry_run: bool = False, kind: str = "sync") -> str:
        """Open (or, for a retried task, re-open) the run; returns its run_id `"{mapping}/{airflow_run_id}"`."""
        with self._tx(write=True) as conn:
            return _runs.begin(conn, mapping, airflow_run_id, window_start=window_start, window_end=window_end,
                              dry_run=dry_run, kind=kind)

    def update_run_summary(self, run_id: str, summary: Mapping[str, Any]) -> dict[str, Any]:
        """Deep-merge `summary` into the run's summary (values replace, dicts merge); returns the result."""
        with self._tx(write=True) as conn:
            return _runs.merge_summary(conn, run_id, summary)

    def finish_run(self, run_id: str, status: str, *, summary: Mapping[str, Any] | None = None) -> None:
        """Close the run with status success | partial | failed, merging `summary` in."""
        with self._tx(write=True) as conn:
            _runs.finish(conn, run_id, status, summary)

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self._tx(write=False) as conn:
            return _runs.get(conn, run_id)

    def runs(self, mapping: str, *, limit: int | None = 50, status: str | None = None) -> pd.DataFrame:
        """Newest first: run_id, mapping, airflow_run_id, kind, status, dry_run, window_start, window_end,
        started_at, finished_at, attempts, summary."""
        with self._tx(write=False) as conn:
            return _runs.listing(conn, mapping, limit=limit, status=status)

    # -- watermarks ---------------------------------------------------------------------------------

    def get_watermark(self, mapping: str, side: str) -> dt.datetime | None:
        with self._tx(write=False) as conn:
            return _watermarks.get(conn, mapping, side)

    def set_watermark(self, mapping: str, side: str, value: dt.datetime, *, run_id: str | None = None,
                      allow_backwards: bool = False) -> dt.datetime:
        """Record that `side` is fully synced up to `value`; returns the stored mark. The mark only moves
        forward (a backfill of an older window leaves it) unless `allow_backwards`."""
        with self._tx(write=True) as conn:
            return _watermarks.set_(conn, mapping, side, value, run_id=run_id, allow_backwards=allow_backwards)

    def watermarks(self, mapping: str) -> dict[str, dt.datetime]:
        with self._tx(write=False) as conn:
            return _watermarks.get_all(conn, mapping)

    # -- links --------------------------------------------------------------------------------------

    def links(self, mapping: str, *, state: str | None = None,
              columns: Sequence[str] = _links.LINK_COLUMNS) -> pd.DataFrame:
        """sf_id, jira_id, jira_key, state, created_run, updated_run, created_at, updated_at (or only
        `columns` of them: a reconciliation of a million links needs four)."""
        with self._tx(write=False) as conn:
            return _links.read(conn, mapping, state=state, columns=columns)

    def links_of(self, mapping: str, *, sf_ids: Iterable[str] = (), jira_keys: Iterable[str] = (),
                 state: str | None = None, updated_run: str | None = None) -> pd.DataFrame:
        """The links of these Salesforce ids or Jira keys: `links` for one plan bucket. Only those in `state`
        and last saved by run `updated_run`, when given (the links a run made, of one bucket's ids)."""
        with self._tx(write=False) as conn:
            return read_frame_in(conn, _schema.links, _links.LINK_COLUMNS, mapping,
                                 {"sf_id": sf_ids, "jira_key": jira_keys}, key=("sf_id",), order_by=("sf_id",),
                                 datetimes=("created_at", "updated_at"),
                                 where=_links.matching(state=state, updated_run=updated_run))

    def links_made_in(self, mapping: str, run_id: str, *, page: int = 10_000) -> Iterator[pd.DataFrame]:
        """The active links run `run_id` last saved, sf_id and jira_key, `page` at a time in sf_id order (a
        first sync makes a link per record: a million rows are never read at once)."""
        after: str | None = None
        while True:
            with self._tx(write=False) as conn:
                frame = _links.made_in(conn, mapping, run_id, after=after, limit=page)
            if not len(frame):
                return
            yield frame
            after = str(frame["sf_id"].iloc[-1])

    def count_links(self, mapping: str, *, state: str | None = None, updated_run: str | None = None) -> int:
        """How many links are in `state` and were last saved by run `updated_run` (each when given)."""
        with self._tx(write=False) as conn:
            return _links.count(conn, mapping, state=state, updated_run=updated_run)

    def upsert_links(self, mapping: str, df: pd.DataFrame, run_id: str | None) -> int:
        """Columns sf_id, jira_key (+ optional jira_id, state). Raises STATE_LINK_CONFLICT when a Jira key
        or id is already linked to another Salesforce id; nothing of the call is written then."""
        with self._tx(write=True) as conn:
            return _links.save(conn, mapping, df, run_id)

    def set_link_state(self, mapping: str, sf_ids: Iterable[str], state: str, *, run_id: str | None = None) -> int:
        with self._tx(write=True) as conn:
            return _links.set_state(conn, mapping, sf_ids, state, run_id)

    def delete_links(self, mapping: str, sf_ids: Iterable[str]) -> int:
        """Forget links and their synced state (operator action; the ledger keeps the history)."""
        with self._tx(write=True) as conn:
            return _links.delete(conn, mapping, sf_ids)

    # -- synced state -------------------------------------------------------------------------------

    def synced_state(self, mapping: str, *, direction: str | None = None) -> pd.DataFrame:
        """sf_id, direction, hash, field_hashes (dict), run_id, synced_at."""
        with self._tx(write=False) as conn:
            return _synced.read(conn, mapping, direction=direction)

    def synced_state_of(self, mapping: str, sf_ids: Iterable[str]) -> pd.DataFrame:
        """The synced state of these Salesforce ids (both directions): `synced_state` for one plan or
        reconciliation bucket."""
        with self._tx(write=False) as conn:
            return read_frame_in(conn, _schema.synced_state, _synced.SYNCED_COLUMNS, mapping, {"sf_id": sf_ids},
                                 key=("sf_id", "direction"), order_by=("sf_id", "direction"), datetimes=("synced_at",))

    def save_synced_state(self, mapping: str, df: pd.DataFrame, run_id: str | None) -> int:
        """Columns sf_id, direction, hash (+ optional field_hashes dict)."""
        with self._tx(write=True) as conn:
            return _synced.save(conn, mapping, df, run_id)

    # -- ledger -------------------------------------------------------------------------------------

    def append_ledger(self, df: pd.DataFrame, *, run_id: str | None = None, mapping: str | None = None) -> int:
        """Columns side, action (+ run_id, mapping unless given here; + sf_id and/or jira_key, field,
        before, after, reason). Values are stored as passed, PII of a `protect`ed mapping sealed."""
        with self._tx(write=True) as conn:
            return _ledger.append(conn, df, run_id=run_id, mapping=mapping, pii=self._pii)

    def ledger(self, *, run_id: str | None = None, mapping: str | None = None, sf_id: str | None = None,
               jira_key: str | None = None, cipher: PiiCipher | None = None) -> pd.DataFrame:
        """In append order: seq, run_id, mapping, at, side, action, sf_id, jira_key, field, before, after, reason.
        PII images are sealed; with `cipher` they come back opened."""
        with self._tx(write=False) as conn:
            rows = _ledger.read(conn, run_id=run_id, mapping=mapping, sf_id=sf_id, jira_key=jira_key)
        return sealing.open_columns(rows, ("before", "after"), cipher)

    def audit_rows(self, *, mapping: str | None = None, run: str | None = None, record: str | None = None,
                   field: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
                   limit: int | None = None, conflicts: bool = False, newest: bool = False) -> pd.DataFrame:
        """Ledger rows joined with their run, as stored (sealed PII stays sealed): see sfjira.state.audit."""
        with self._tx(write=False) as conn:
            return _audit.query(conn, mapping=mapping, run=run, record=record, field=field, since=since,
                                until=until, limit=limit, conflicts=conflicts, newest=newest)

    def prune_ledger(self, before: dt.datetime, *, mapping: str | None = None) -> int:
        """Delete ledger rows written before `before` (retention: sfjira.state.audit.prune)."""
        with self._tx(write=True) as conn:
            return _audit.delete_older(conn, before, mapping)

    # -- rejects ------------------------------------------------------------------------------------

    def upsert_rejects(self, df: pd.DataFrame, *, run_id: str | None = None, mapping: str | None = None) -> int:
        """Columns side, record_id, code (+ mapping, run_id unless given here; + field, message, fix,
        payload). A repeat of (mapping, side, record_id, code) adds to `attempts` and re-opens it."""
        with self._tx(write=True) as conn:
            return _rejects.save(conn, df, run_id=run_id, mapping=mapping, pii=self._pii)

    def rejects(self, mapping: str, *, side: str | None = None, include_resolved: bool = False,
                cipher: PiiCipher | None = None) -> pd.DataFrame:
        """Open (or all) rejects; sealed PII payloads and messages come back opened with `cipher`."""
        with self._tx(write=False) as conn:
            rows = _rejects.read(conn, mapping, side=side, include_resolved=include_resolved)
        return sealing.open_columns(rows, ("payload", "message"), cipher)

    def rotate_pii(self, cipher: PiiCipher) -> int:
        """Re-seal every sealed value (ledger images, rejects) under `cipher`'s first key, in one
        transaction; returns the values re-sealed. Run it after putting a new key first, before
        removing an old one."""
        with self._tx(write=True) as conn:
            return sealing.rotate(conn, cipher)

    def resolve_rejects(self, mapping: str, side: str, record_ids: Iterable[str], *, code: str | None = None) -> int:
        with self._tx(write=True) as conn:
            return _rejects.resolve(conn, mapping, side, record_ids, code=code)

    def close_rejects(self, mapping: str, reject_ids: Iterable[int]) -> int:
        """Close open rejects by their row `id` (a reject's record went through: sfjira.sync.settle)."""
        with self._tx(write=True) as conn:
            return _rejects.resolve_rows(conn, mapping, reject_ids)

    # -- write-ahead intents ------------------------------------------------------------------------

    def begin_intent(self, mapping: str, run_id: str, side: str, op: str, chunk: int,
                     record_ids: Sequence[str]) -> Intent:
        """Announce a chunk before writing it. If this (run, side, op, chunk) was announced before, the
        existing intent is returned with `resumed=True`: status "completed" means skip the chunk, "pending"
        means its records may already exist on `side` (look them up before writing)."""
        with self._tx(write=True) as conn:
            return _intents.begin(conn, mapping, run_id, side, op, chunk, record_ids)

    def complete_intent(self, intent_id: int, *, links: pd.DataFrame | None = None,
                        state: pd.DataFrame | None = None, ledger: pd.DataFrame | None = None,
                        rejects: pd.DataFrame | None = None, result: Mapping[str, Any] | None = None,
                        run_id: str | None = None) -> Intent:
        """Close a pending intent and save the chunk's results in ONE transaction: links (as upsert_links),
        synced state (as save_synced_state), ledger (as append_ledger) and rejects (as upsert_rejects),
        attributed to `run_id` (default: the intent's run). On any error nothing is saved and the intent
        stays pending."""
        with self._tx(write=True) as conn:
            intent = _intents.close(conn, intent_id, "completed", result)
            run = run_id or intent.run_id
            _save_chunk(conn, intent.mapping, run, links=links, state=state, ledger_rows=ledger,
                        reject_rows=rejects, pii=self._pii, known_run=intent.run_id)
            return intent

    def note_intent(self, intent_id: int, result: Mapping[str, Any]) -> Intent:
        """Keep facts about a pending intent's write while it runs (a Bulk API job id) in its `result`,
        committed at once: a retry of the chunk reads them back (`Intent.result`). Closing replaces them."""
        with self._tx(write=True) as conn:
            return _intents.note(conn, intent_id, result)

    def abandon_intent(self, intent_id: int, *, reason: str) -> Intent:
        """Close a pending intent whose records turned out not to be written (found by the look-up)."""
        with self._tx(write=True) as conn:
            return _intents.close(conn, intent_id, "abandoned", {"reason": reason})

    def pending_intents(self, mapping: str, side: str | None = None, *, run_id: str | None = None) -> pd.DataFrame:
        """Pending intents of every run (or of `run_id`): intent_id, run_id, side, op, chunk, record_ids,
        status, result, created_at, completed_at."""
        return self.intents(mapping, side=side, run_id=run_id, status="pending")

    def intents(self, mapping: str, *, side: str | None = None, run_id: str | None = None,
                status: str | None = None) -> pd.DataFrame:
        with self._tx(write=False) as conn:
            return _intents.listing(conn, mapping, side=side, run_id=run_id, status=status)

    # -- comment links ------------------------------------------------------------------------------

    def comment_links(self, mapping: str, *, jira_key: str | None = None,
                      sf_parent_id: str | None = None) -> pd.DataFrame:
        """sf_comment_id, jira_comment_id, sf_parent_id, jira_key, hash, origin, created_run, updated_run,
        created_at, updated_at."""
        with self._tx(write=False) as conn:
            return _comments.read(conn, mapping, jira_key=jira_key, sf_parent_id=sf_parent_id)

    def comment_links_of(self, mapping: str, *, sf_parent_ids: Iterable[str] = (),
                         jira_keys: Iterable[str] = ()) -> pd.DataFrame:
        """The comment links of these parent records or issues: `comment_links` for one plan bucket."""
        with self._tx(write=False) as conn:
            return read_frame_in(conn, _schema.comment_links, _comments.COMMENT_COLUMNS, mapping,
                                 {"sf_parent_id": sf_parent_ids, "jira_key": jira_keys}, key=("sf_comment_id",),
                                 order_by=("sf_comment_id",), datetimes=("created_at", "updated_at"))

    def upsert_comment_links(self, mapping: str, df: pd.DataFrame, run_id: str | None) -> int:
        """Columns sf_comment_id, jira_comment_id, sf_parent_id, jira_key, origin (+ optional hash)."""
        with self._tx(write=True) as conn:
            return _comments.save(conn, mapping, df, run_id)

    # -- drift --------------------------------------------------------------------------------------

    def record_drift(self, mapping: str, run_id: str, counts: Mapping[str, int] | pd.DataFrame, *,
                     at: dt.datetime | None = None) -> int:
        """Counts per category ({category: count} or a frame with category, count) for one run."""
        with self._tx(write=True) as conn:
            return _drift.record(conn, mapping, run_id, counts, at=at)

    def drift_history(self, mapping: str, *, category: str | None = None,
                      since: dt.datetime | None = None) -> pd.DataFrame:
        """Oldest first: run_id, category, count, at."""
        with self._tx(write=False) as conn:
            return _drift.history(conn, mapping, category=category, since=since)

    # -- writer leases (one writer per mapping: sfjira.state.lease) ---------------------------------------

    def acquire_lease(self, mapping: str, holder: str, ttl: float, *, task: str | None = None) -> _lease.Lease:
        """Take `mapping`'s lease for `ttl` seconds when it is free, expired or already `holder`'s; returns the
        row as it stands afterwards (ours when `lease.held_by(holder)`)."""
        with self._tx(write=True) as conn:
            return _lease.acquire(conn, mapping, holder, ttl, task=task)

    def renew_lease(self, mapping: str, holder: str, ttl: float) -> bool:
        """Extend `holder`'s lease to `ttl` seconds from now; False when it is not (or no longer) theirs."""
        with self._tx(write=True) as conn:
            return _lease.renew(conn, mapping, holder, ttl)

    def take_over_lease(self, mapping: str, finished: str, holder: str, ttl: float, *,
                        task: str | None = None) -> bool:
        """Take the lease from `finished`, a holder known to be done, for `ttl` seconds; False when it no
        longer holds it."""
        with self._tx(write=True) as conn:
            return _lease.take_over(conn, mapping, finished, holder, ttl, task=task)

    def release_lease(self, mapping: str, holder: str) -> bool:
        """Release `holder`'s lease; False, and the lease left alone, when it is someone else's."""
        with self._tx(write=True) as conn:
            return _lease.release(conn, mapping, holder)

    def lease(self, mapping: str) -> _lease.Lease | None:
        """The mapping's lease row (expired or not), None when nobody holds one."""
        with self._tx(write=False) as conn:
            return _lease.current(conn, mapping)

    # -- webhook deliveries -------------------------------------------------------------------------

    def claim_deliveries(self, source: str, mapping: str, deliveries: Sequence[str]) -> list[str]:
        """Record webhook delivery ids; the ones not seen before (sfjira.state.deliveries)."""
        with self._tx(write=True) as conn:
            return _deliveries.claim(conn, source, mapping, deliveries, utcnow())

    def release_deliveries(self, source: str, deliveries: Sequence[str]) -> int:
        """Forget claimed delivery ids (their event could not be recorded: the sender's retry is new)."""
        with self._tx(write=True) as conn:
            return _deliveries.release(conn, source, deliveries)

    # -- Jira deletions reported by webhook ---------------------------------------------------------

    def note_jira_delete(self, mapping: str, *, jira_id: str | None, jira_key: str | None,
                         delivery: str | None = None) -> str | None:
        """Keep a reported Jira deletion pending for the record linked to the issue; that record's id, or
        None when no active link of the mapping has the issue (sfjira.state.jira_deletes)."""
        with self._tx(write=True) as conn:
            return _jira_deletes.note(conn, mapping, jira_id=jira_id, jira_key=jira_key, delivery=delivery,
                                      now=utcnow())

    def pending_jira_deletes(self, mapping: str) -> pd.DataFrame:
        """The reported deletions no run has settled yet: sf_id, jira_key, jira_id, delivery, received_at."""
        with self._tx(write=False) as conn:
            return _jira_deletes.pending(conn, mapping)

    def settle_jira_deletes(self, mapping: str, taken: pd.DataFrame, outcome: str, *,
                            run_id: str | None = None) -> int:
        """Settle the pending rows a run took (`taken`: sf_id, received_at) unless reported again since."""
        if not len(taken):
            return 0
        with self._tx(write=True) as conn:
            return _jira_deletes.settle(conn, mapping, taken, outcome, run_id=run_id, now=utcnow())

    def jira_delete_history(self, mapping: str) -> pd.DataFrame:
        """Every reported deletion of the mapping, pending and settled, newest first."""
        with self._tx(write=False) as conn:
            return _jira_deletes.history(conn, mapping)

    # -- overview -----------------------------------------------------------------------------------

    def mappings(self) -> list[str]:
        """The mappings that have runs in this store, by name."""
        with self._tx(write=False) as conn:
            return overview.mappings(conn)

    def status(self, mapping: str) -> dict[str, Any]:
        """Counts for a CLI or dashboard: runs, links by state, synced records, pending intents, open rejects."""
        with self._tx(write=False) as conn:
            return overview.status(conn, mapping)


def _save_chunk(conn: sa.Connection, mapping: str, run_id: str, *, links: pd.DataFrame | None,
                state: pd.DataFrame | None, ledger_rows: pd.DataFrame | None,
                reject_rows: pd.DataFrame | None, pii: sealing.Guards, known_run: str | None = None) -> None:
    """`known_run`: a run id just read in this transaction (the closed intent's; its foreign key holds it)."""
    if links is not None:
        _links.save(conn, mapping, links, run_id)
    if state is not None:
        _synced.save(conn, mapping, state, run_id)
    if ledger_rows is not None:
        _ledger.append(conn, ledger_rows, run_id=run_id, mapping=mapping, pii=pii,
                       known_runs=() if known_run is None else (known_run,))
    if reject_rows is not None:
        _rejects.save(conn, reject_rows, run_id=run_id, mapping=mapping, pii=pii)
