"""The end-to-end world of tests/e2e (both emulators, mappings, state store, sync DAG runs) plus real
reconciliation DAG runs (`dag.test()`) and readers for what they leave behind: the drift rows, the
report files and the run's summary in the state store."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tests.e2e.world import World


@dataclass
class ReconRun:
    """One finished reconciliation DAG run."""

    dag_run: Any
    task_states: dict[str, str]
    folder: Path
    summary: dict[str, Any]   # the state store's run summary (drift, report, heal)
    status: str               # the state store's run status (success, partial, failed)

    @property
    def state(self) -> str:
        return str(self.dag_run.state)

    @property
    def report(self) -> dict[str, Any]:
        return dict(json.loads((self.folder / "drift.json").read_text(encoding="utf-8")))

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.report["summary"]["counts"])

    @property
    def rows(self) -> pd.DataFrame:
        return pd.DataFrame(self.report["rows"])

    def found(self, *columns: str) -> set[tuple[Any, ...]]:
        """The drift rows as tuples of `columns` (default category, sf_id, jira_key, field)."""
        picked = list(columns or ("category", "sf_id", "jira_key", "field"))
        rows = self.rows
        if not len(rows):
            return set()
        rows = rows[picked].astype(object).where(rows[picked].notna(), None)
        return {tuple(r) for r in rows.itertuples(index=False)}

    @property
    def html(self) -> Path:
        return self.folder / "drift_report.html"


class Recon(World):
    def reconcile_dag(self, name: str) -> Any:
        from sfjira.dag_factory import reconcile_dag

        return reconcile_dag(self.mapping(name))

    def reconcile(self, name: str, *, auto_heal: bool = False, scope: str = "all", limit: int | None = None,
                  expect: str = "success") -> ReconRun:
        """One reconciliation DAG run (dag.test) with the given params."""
        from sfjira.dag_factory import RECONCILE_SCHEDULE, covering_logical_date
        from sfjira.storage import run_path

        dag = self.reconcile_dag(name)
        logical = covering_logical_date(RECONCILE_SCHEDULE, dt.datetime.now(dt.UTC))
        dag_run = dag.test(logical_date=logical, run_conf={"auto_heal": auto_heal, "scope": scope,
                                                           "fail_on_drift_above": limit})
        states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
        assert str(dag_run.state) == expect, f"reconciliation {dag_run.run_id} ended {dag_run.state}: {states}"
        found = self.store.get_run(self.store.run_key(name, dag_run.run_id)) or {}
        folder = Path(str(run_path(dag.dag_id, dag_run.run_id)).removeprefix("file://"))
        return ReconRun(dag_run, states, folder, dict(found.get("summary") or {}), str(found.get("status")))
