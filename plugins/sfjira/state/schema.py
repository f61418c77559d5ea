"""The state store's tables (SQLAlchemy Core). Every table is keyed by mapping name first.

Changing a table here means adding a step to `migrations.STEPS` that brings existing databases to
the same shape: fresh databases are created from these definitions directly.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sfjira.state.types import Json, UtcDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _name() -> sa.String:
    return sa.String(255)


def _provenance() -> list[sa.Column[Any]]:
    """Which run created and last changed an id-map row, and when."""
    return [sa.Column("created_run", sa.String(512)), sa.Column("updated_run", sa.String(512)),
            sa.Column("created_at", UtcDateTime, nullable=False), sa.Column("updated_at", UtcDateTime, nullable=False)]


schema_version = sa.Table(
    "sfjira_schema_version", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("applied_at", UtcDateTime, nullable=False),
)

runs = sa.Table(
    "sfjira_runs", metadata,
    sa.Column("run_id", sa.String(512), primary_key=True),
    sa.Column("mapping", _name(), nullable=False),
    sa.Column("airflow_run_id", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("window_start", UtcDateTime),
    sa.Column("window_end", UtcDateTime),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("summary", Json()),
    sa.Index(None, "mapping", "started_at"),
)

watermarks = sa.Table(
    "sfjira_watermarks", metadata,
    sa.Column("mapping", _name(), primary_key=True),
    sa.Column("side", sa.String(16), primary_key=True),
    sa.Column("value", UtcDateTime, nullable=False),
    sa.Column("run_id", sa.String(512)),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

links = sa.Table(
    "sfjira_links", metadata,
    sa.Column("mapping", _name(), primary_key=True),
    sa.Column("sf_id", sa.String(64), primary_key=True),
    sa.Column("jira_id", sa.String(64)),
    sa.Column("jira_key", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    *_provenance(),
    sa.UniqueConstraint("mapping", "jira_key"),
    sa.UniqueConstraint("mapping", "jira_id"),
)

synced_state = sa.Table(
    "sfjira_synced_state", metadata,
    sa.Column("mapping", _name(), primary_key=True),
    sa.Column("sf_id", sa.String(64), primary_key=True),
    sa.Column("direction", sa.String(16), primary_key=True),
    sa.Column("hash", sa.String(128), nullable=False),
    sa.Column("field_hashes", Json()),
    sa.Column("run_id", sa.String(512)),
    sa.Column("synced_at", UtcDateTime, nullable=False),
)

ledger = sa.Table(
    "sfjira_ledger", metadata,
    # `seq` orders the ledger: a rollback walks a run's rows in reverse seq.
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(512), sa.ForeignKey("sfjira_runs.run_id"), nullable=False),
    sa.Column("mapping", _name(), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("side", sa.String(16), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("sf_id", sa.String(64)),
    sa.Column("jira_key", sa.String(64)),
    sa.Column("field", sa.String(255)),
    sa.Column("before", Json()),
    sa.Column("after", Json()),
    sa.Column("reason", sa.Text),
    # Added by migration 2 (ledger_audit_columns): older rows hold NULL in both.
    sa.Column("direction", sa.String(16)),
    sa.Column("cause", sa.String(16)),
    sa.Index(None, "run_id", "seq"),
    sa.Index(None, "mapping", "sf_id"),
    sa.Index(None, "mapping", "jira_key"),
    sa.Index(None, "mapping", "at"),
)

rejects = sa.Table(
    "sfjira_rejects", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("mapping", _name(), nullable=False),
    sa.Column("side", sa.String(16), nullable=False),
    sa.Column("record_id", sa.String(255), nullable=False),
    sa.Column("code", sa.String(128), nullable=False),
    sa.Column("field", sa.String(255)),
    sa.Column("message", sa.Text),
    sa.Column("fix", sa.Text),
    sa.Column("payload", Json()),
    sa.Column("first_run", sa.String(512)),
    sa.Column("last_run", sa.String(512)),
    sa.Column("first_seen", UtcDateTime, nullable=False),
    sa.Column("last_seen", UtcDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("resolved", sa.Boolean, nullable=False),
    sa.Column("resolved_at", UtcDateTime),
    sa.UniqueConstraint("mapping", "side", "record_id", "code"),
    sa.Index(None, "mapping", "resolved"),
)

intents = sa.Table(
    "sfjira_intents", metadata,
    sa.Column("intent_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("run_id", sa.String(512), sa.ForeignKey("sfjira_runs.run_id"), nullable=False),
    sa.Column("mapping", _name(), nullable=False),
    sa.Column("side", sa.String(16), nullable=False),
    sa.Column("op", sa.String(16), nullable=False),
    sa.Column("chunk", sa.Integer, nullable=False),
    sa.Column("record_ids", Json(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("result", Json()),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("completed_at", UtcDateTime),
    sa.UniqueConstraint("run_id", "side", "op", "chunk"),
    sa.Index(None, "mapping", "side", "status"),
)

comment_links = sa.Table(
    "sfjira_comment_links", metadata,
    sa.Column("mapping", _name(), primary_key=True),
    sa.Column("sf_comment_id", sa.String(64), primary_key=True),
    sa.Column("jira_comment_id", sa.String(64), nullable=False),
    sa.Column("sf_parent_id", sa.String(64), nullable=False),
    sa.Column("jira_key", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(128)),
    sa.Column("origin", sa.String(16), nullable=False),
    *_provenance(),
    sa.UniqueConstraint("mapping", "jira_comment_id"),
    sa.Index(None, "mapping", "jira_key"),
)

drift = sa.Table(
    "sfjira_drift", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(512), sa.ForeignKey("sfjira_runs.run_id"), nullable=False),
    sa.Column("mapping", _name(), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Index(None, "mapping", "at"),
)

# One row per mapping whose writes someone holds (sfjira.state.lease). `holder` names the process
# (task + host + pid): only it may renew or release the row; anyone may take it once `expires_at` passed.
leases = sa.Table(
    "sfjira_leases", metadata,
    sa.Column("mapping", _name(), primary_key=True),
    sa.Column("holder", sa.String(512), nullable=False),
    sa.Column("task", sa.String(512)),
    sa.Column("acquired_at", UtcDateTime, nullable=False),
    sa.Column("renewed_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

# One row per webhook delivery the receiver accepted (sfjira.webhooks): a retried or replayed delivery
# finds its row and records no second asset event. `delivery` is Jira's X-Atlassian-Webhook-Identifier or
# a Salesforce notification id; rows older than the retention are pruned as new ones arrive.
webhook_deliveries = sa.Table(
    "sfjira_webhook_deliveries", metadata,
    sa.Column("source", sa.String(16), primary_key=True),
    sa.Column("delivery", sa.String(255), primary_key=True),
    sa.Column("mapping", _name(), nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Index(None, "received_at"),
)

# One row per linked record whose Jira issue a verified `jira:issue_deleted` webhook reported gone
# (sfjira.state.jira_deletes). Pending while `settled_at` is NULL: the next sync run confirms the delete by
# reading the issue and applies the mapping's jira_deleted policy; `outcome` says how it ended. A newer report
# for the same record makes it pending again. Settled rows are pruned after the retention.
jira_deletes = sa.Table(
    "sfjira_jira_deletes", metadata,
    sa.Column("mapping", _name(), primary_key=True),
    sa.Column("sf_id", sa.String(64), primary_key=True),
    sa.Column("jira_key", sa.String(64), nullable=False),
    sa.Column("jira_id", sa.String(64)),
    sa.Column("delivery", sa.String(255)),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("settled_at", UtcDateTime),
    sa.Column("outcome", sa.String(16)),
    sa.Column("run_id", sa.String(512)),
    sa.Index(None, "mapping", "settled_at"),
)
