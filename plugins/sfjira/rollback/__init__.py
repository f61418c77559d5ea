"""Rollback of a run: every field it wrote, on both sides, back to its before-image (issue 12).

`plan` (pure: the ledger + what each side holds now -> what to write and what to leave alone),
`run` (the rollback's RollbackRun and the run it undoes), `steps` (the two steps of the
`sfjira_rollback__<name>` DAG and of `sfjira rollback`: plan, then restore)."""
