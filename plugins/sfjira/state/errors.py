"""Database errors as StateStoreError: which rule was broken or what failed, and what to do."""

from __future__ import annotations

import sqlalchemy as sa

from sfjira.exceptions import StateStoreError

# Constraint (PostgreSQL name / SQLite wording) -> (code, message, fix).
_CONSTRAINTS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("uq_sfjira_links_mapping_jira_key", "sfjira_links.jira_key"): (
        "STATE_LINK_CONFLICT", "a Jira issue key is already linked to another Salesforce record",
        "a Jira issue can be linked to one Salesforce record per mapping: find the duplicate Salesforce id "
        "on the Jira issue, or remove the stale link with `sfjira unlink`"),
    ("uq_sfjira_links_mapping_jira_id", "sfjira_links.jira_id"): (
        "STATE_LINK_CONFLICT", "a Jira issue id is already linked to another Salesforce record",
        "a Jira issue can be linked to one Salesforce record per mapping: remove the stale link with "
        "`sfjira unlink`"),
    ("uq_sfjira_comment_links_mapping_jira_comment_id", "sfjira_comment_links.jira_comment_id"): (
        "STATE_LINK_CONFLICT", "a Jira comment is already linked to another Salesforce comment",
        "a Jira comment mirrors one Salesforce comment per mapping: check the comment loader's idempotency key"),
    ("violates foreign key constraint", "FOREIGN KEY constraint failed"): (
        "STATE_RUN_UNKNOWN", "a row refers to a run that the store does not know",
        "call StateStore.begin_run(...) before writing ledger, intents or drift for the run"),
}
# Words of an OperationalError that mean "cannot reach or lock the database right now".
_UNAVAILABLE = ("database is locked", "unable to open database", "could not connect", "connection refused",
                "server closed the connection", "timeout expired", "disk i/o error", "no route to host")


def db_error(err: sa.exc.DBAPIError, where: str) -> StateStoreError:
    detail = str(err.orig).strip()
    if isinstance(err, sa.exc.IntegrityError):
        for (pg_hint, sqlite_hint), (code, message, fix) in _CONSTRAINTS.items():
            if pg_hint in detail or sqlite_hint in detail:
                return StateStoreError(f"{message}: {detail}", code=code, fix=fix)
        return StateStoreError(f"state store constraint violated: {detail}", code="STATE_CONSTRAINT",
                               fix="the caller's input breaks a rule of the store; report it with this message")
    if err.connection_invalidated or any(word in detail.lower() for word in _UNAVAILABLE):
        return StateStoreError(
            f"state store at {where} is unavailable: {detail}", code="STATE_UNAVAILABLE", transient=True,
            fix="check that the database of the `sfjira_state` connection is up and not locked by a stuck "
                "process; the task can simply be retried")
    return StateStoreError(
        f"state store at {where} failed: {detail}", code="STATE_SQL_FAILED",
        fix="run `sfjira migrate`; if it persists, report it with this message")
