"""The sync's state store: runs, watermarks, the id map, last-synced hashes, ledger, rejects,
write-ahead intents, comment links and drift history, in SQLite or PostgreSQL (SQLAlchemy Core).

    from sfjira.state import StateStore
    store = StateStore.from_airflow()          # connection `sfjira_state`, else $AIRFLOW_HOME/sfjira/state.db
    run_id = store.begin_run("accounts", context["run_id"], window_start=..., window_end=...)
"""

from __future__ import annotations

from sfjira.exceptions import StateStoreError
from sfjira.state.engine import DEFAULT_CONN_ID, default_url
from sfjira.state.intents import Intent
from sfjira.state.migrations import SCHEMA_VERSION
from sfjira.state.runs import run_key
from sfjira.state.store import StateStore
from sfjira.state.vocab import (
    DIRECTIONS,
    FINISHED_STATUSES,
    INTENT_OPS,
    INTENT_STATUSES,
    LEDGER_ACTIONS,
    LINK_STATES,
    ORIGINS,
    RUN_KINDS,
    RUN_STATUSES,
    SIDES,
)

__all__ = [
    "DEFAULT_CONN_ID", "DIRECTIONS", "FINISHED_STATUSES", "INTENT_OPS", "INTENT_STATUSES", "LEDGER_ACTIONS",
    "LINK_STATES", "ORIGINS", "RUN_KINDS", "RUN_STATUSES", "SCHEMA_VERSION", "SIDES", "Intent", "StateStore",
    "StateStoreError", "default_url", "run_key",
]
