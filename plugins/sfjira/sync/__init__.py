"""The sync's data path: extract -> plan -> load -> report (see DESIGN.md).

Each step is a plain function over a `SyncRun` (mapping, window, storage folder, hooks, state
store) so the operators stay thin and tests can drive the same code the DAG runs.
"""
