"""The closed vocabularies the state store accepts. Callers import these instead of spelling strings."""

from __future__ import annotations

SIDES = ("salesforce", "jira")
"""A system the sync reads from or writes to."""

DIRECTIONS = ("sf_to_jira", "jira_to_sf")
"""Which way a record's values flowed when the sync wrote them (synced state is kept per direction)."""

LINK_STATES = ("active", "deleted_sf", "deleted_jira")

ORIGINS = SIDES
"""Where a linked comment was first written by a person (the other side holds our copy)."""

LEDGER_ACTIONS = (
    "create", "update", "delete", "transition", "comment", "skip", "conflict", "reject", "heal", "link",
)
"""`link`: a key write-back (the Jira key / URL onto the Salesforce record)."""

LEDGER_CAUSES = ("change", "conflict", "heal", "replay", "rollback", "delete_policy")
"""Why a ledgered write happened: a change on the other side, a conflict decided by the field's owner
rule, a reconciliation's heal, a replay of rejects, a rollback, a delete policy."""

RUN_KINDS = ("sync", "reconcile", "replay", "rollback")
RUN_STATUSES = ("running", "success", "partial", "failed")
FINISHED_STATUSES = ("success", "partial", "failed")

INTENT_OPS = ("create", "update", "upsert", "delete", "transition", "comment")
INTENT_STATUSES = ("pending", "completed", "abandoned")

JIRA_DELETE_OUTCOMES = ("applied", "ignored", "exists", "settled", "out_of_scope")
"""How a Jira deletion reported by webhook ended (sfjira.state.jira_deletes): the policy was applied; the policy
is `ignore`; the issue still exists (the report was not proof); the link had already left "active" (a
Salesforce delete, or the policy applied by another path); the key is not one of the mapping's project."""
