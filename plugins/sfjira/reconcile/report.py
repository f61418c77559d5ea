"""Write a reconciliation's drift: a JSON and a CSV of every row, and one self-contained HTML report,
under the run's object-storage folder (see sfjira.storage). PII is masked in all three.

    paths = write_report(result, mapping, run_folder, history=store.drift_history(mapping.name), run_id=...)
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pandas as pd
from airflow.sdk import ObjectStoragePath

from sfjira.mapping.model import PII_MASK, Mapping
from sfjira.reconcile.html import render_html
from sfjira.reconcile.result import CATEGORIES, DRIFT_COLUMNS, DriftResult
from sfjira.storage import write_text

JSON_NAME, CSV_NAME, HTML_NAME = "drift.json", "drift.csv", "drift_report.html"
DECISION, DECISION_REASON = "auto_heal", "auto_heal_reason"   # the columns with_decisions adds
# Spreadsheet formula injection: a cell starting like a formula is opened as text when prefixed with '.
_FORMULA = r"^(?=[=+@\t\r]|-[^0-9.])"


@dataclass(frozen=True)
class ReportPaths:
    json: str
    csv: str
    html: str


def masked_rows(result: DriftResult, mapping: Mapping) -> pd.DataFrame:
    """The drift rows with every PII field's values masked (compare masks them already; the report
    does not rely on it)."""
    rows = result.rows.reindex(columns=list(DRIFT_COLUMNS)).astype(object)
    rows = rows.where(rows.notna(), None)
    pii = rows["field"].isin(list(mapping.pii_columns)).to_numpy()
    for column in ("sf_value", "jira_value"):
        rows.loc[pii & rows[column].notna().to_numpy(), column] = PII_MASK
    return rows


def with_decisions(rows: pd.DataFrame, actions: pd.DataFrame | None) -> pd.DataFrame:
    """The rows with what auto_heal does about each (`heal_plan(...).actions`, indexed like the rows):
    `auto_heal` (the action, `none` if nothing) and `auto_heal_reason` (what it does, or why not)."""
    if actions is None:
        return rows
    picked = actions.reindex(rows.index)
    return rows.assign(**{DECISION: picked["action"].to_numpy(dtype=object),
                          DECISION_REASON: picked["reason"].to_numpy(dtype=object)})


def drift_json(result: DriftResult, rows: pd.DataFrame, *, run_id: str | None, generated_at: dt.datetime) -> str:
    head = json.dumps({"mapping": result.mapping, "run_id": run_id, "generated_at": generated_at.isoformat(),
                       "summary": result.summary()}, ensure_ascii=False)
    body = rows.to_json(orient="records", force_ascii=False) if len(rows) else "[]"
    return head[:-1] + ', "rows": ' + body + "}"


def drift_csv(rows: pd.DataFrame) -> str:
    safe = rows.copy()
    for column in ("sf_value", "jira_value"):
        text = safe[column].astype("str")
        safe[column] = text.str.replace(_FORMULA, "'", regex=True).where(safe[column].notna(), None)
    return safe.to_csv(index=False, lineterminator="\n")


def trend_frame(history: pd.DataFrame | None, result: DriftResult, run_id: str | None,
                generated_at: dt.datetime) -> pd.DataFrame:
    """One row per earlier reconciliation (StateStore.drift_history) plus this one if not recorded yet:
    label, at and a count column per category, oldest first."""
    columns = ["label", "at", *CATEGORIES]
    parts = []
    if history is not None and len(history):
        wide = history.pivot_table(index="run_id", columns="category", values="count", aggfunc="sum", fill_value=0)
        wide = wide.reindex(columns=list(CATEGORIES), fill_value=0)
        at = history.groupby("run_id")["at"].max()
        wide = wide.assign(at=at.reindex(wide.index)).sort_values("at")
        wide["at"] = pd.to_datetime(wide["at"], utc=True).dt.strftime("%Y-%m-%d %H:%M")
        parts.append(wide.rename_axis("label").reset_index()[columns])
    if run_id is None or history is None or not len(history) or run_id not in set(history["run_id"]):
        now = {"label": run_id or "this run", "at": generated_at.strftime("%Y-%m-%d %H:%M"), **result.counts()}
        parts.append(pd.DataFrame([now], columns=columns))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def write_report(result: DriftResult, mapping: Mapping, folder: ObjectStoragePath | str, *,
                 history: pd.DataFrame | None = None, run_id: str | None = None,
                 generated_at: dt.datetime | None = None, max_rows: int = 2000,
                 actions: pd.DataFrame | None = None) -> ReportPaths:
    """Write drift.json, drift.csv and drift_report.html into `folder`; returns their paths.

    :param history: StateStore.drift_history(mapping.name) for the trend (this run is added if absent).
    :param max_rows: rows shown in the HTML table (the CSV and JSON hold all).
    :param actions: heal_plan(result, mapping).actions: every row then says what auto_heal does about
        it, or why nothing (duplicates, issues without a record, orphans a delete policy leaves alone).
    """
    when = generated_at or dt.datetime.now(dt.UTC)
    rows = with_decisions(masked_rows(result, mapping), actions)
    html = render_html(result, mapping, rows, trend=trend_frame(history, result, run_id, when), run_id=run_id,
                       generated_at=when, max_rows=max_rows)
    return ReportPaths(
        json=write_text(folder, JSON_NAME, drift_json(result, rows, run_id=run_id, generated_at=when)),
        csv=write_text(folder, CSV_NAME, drift_csv(rows)),
        html=write_text(folder, HTML_NAME, html),
    )
