"""Alerts: a mapping's `alerts:` section turned into mail, through Airflow's notifier interface.

    alerts:
      to: [data-team@example.com]
      smtp_conn_id: smtp_default     # the Airflow connection of the mail server (its secrets stay there)
      failed_intervals: 3            # the sync has not succeeded for 3 intervals of its schedule
      rejects_above: 25              # a sync run rejected more than 25 records
      drift_above: 100               # a reconciliation found more than 100 drift rows

`MappingAlerts` is a BaseNotifier set as the sync and reconciliation DAGs' success and failure callbacks
(sfjira.dag_factory). When a DAG run ends it reads the state store -- the runs of the mapping and this
run's summary -- checks the thresholds, and sends one mail naming every rule broken, through the SMTP
provider's SmtpNotifier. The checks are pure functions of those figures (`broken_rules`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from airflow.sdk import BaseNotifier

from sfjira.mapping import Mapping, load_mapping

log = logging.getLogger(__name__)

KINDS = ("sync", "reconcile")


@dataclass(frozen=True)
class Figures:
    """What the rules look at, read from the state store when a DAG run ends."""

    now: dt.datetime
    last_success: dt.datetime | None
    """When the mapping's last successful (or partial: it wrote what it could) sync run finished."""
    first_run: dt.datetime | None
    """When its first sync run started (the clock of a mapping that never succeeded)."""
    rejected: int | None = None
    """This sync run's rejects (both directions and the transform)."""
    drift: int | None = None
    """This reconciliation's drift rows."""


def interval_of(schedule: str, now: dt.datetime) -> dt.timedelta:
    """The length of the schedule's interval that holds `now`."""
    from croniter import croniter

    it = croniter(schedule, now)
    end = it.get_next(dt.datetime)
    return end - croniter(schedule, end).get_prev(dt.datetime)


def broken_rules(mapping: Mapping, kind: str, figures: Figures) -> list[str]:
    """One sentence per alert rule the figures break (none without an `alerts:` section)."""
    rules = mapping.alerts
    if rules is None:
        return []
    out = []
    if kind == "sync" and rules.failed_intervals:
        since = figures.last_success or figures.first_run
        allowed = interval_of(mapping.schedule, figures.now) * rules.failed_intervals
        if since is not None and figures.now - since >= allowed:
            what = f"since {since.isoformat(timespec='seconds')}" if figures.last_success else "ever"
            out.append(f"the sync has not succeeded {what}: {rules.failed_intervals} interval(s) of "
                       f"`{mapping.schedule}` or more")
    if kind == "sync" and rules.rejects_above is not None and (figures.rejected or 0) > rules.rejects_above:
        out.append(f"the run rejected {figures.rejected} record(s), more than {rules.rejects_above} "
                   f"(`sfjira rejects --mapping {mapping.name}` lists them with their fix)")
    if kind == "reconcile" and rules.drift_above is not None and (figures.drift or 0) > rules.drift_above:
        out.append(f"the reconciliation found {figures.drift} drift row(s), more than {rules.drift_above} "
                   "(see the run's drift_report.html)")
    return out


def read_figures(mapping: Mapping, kind: str, airflow_run_id: str, state_conn_id: str,
                 now: dt.datetime | None = None) -> Figures:
    from sfjira.state import StateStore  # local import: the notifier is built at DAG parse time

    store = StateStore.from_airflow(state_conn_id)
    try:
        runs = store.runs(mapping.name, limit=None)
    finally:
        store.close()
    syncs = runs[(runs["kind"] == "sync") & ~runs["dry_run"].astype(bool)] if len(runs) else runs
    done = syncs[syncs["status"].isin(["success", "partial"])] if len(syncs) else syncs
    mine = runs[runs["airflow_run_id"].astype(str).str.split("#").str[0] == airflow_run_id] if len(runs) else runs
    summary = mine.iloc[0]["summary"] if len(mine) else {}
    return Figures(now=now or dt.datetime.now(dt.UTC),
                   last_success=_latest(done["finished_at"]) if len(done) else None,
                   first_run=_earliest(syncs["started_at"]) if len(syncs) else None,
                   rejected=_rejected(summary) if kind == "sync" else None,
                   drift=_drift(summary) if kind == "reconcile" else None)


def _latest(values: pd.Series) -> dt.datetime | None:
    value = pd.to_datetime(values, utc=True).max()
    return None if pd.isna(value) else value.to_pydatetime()


def _earliest(values: pd.Series) -> dt.datetime | None:
    value = pd.to_datetime(values, utc=True).min()
    return None if pd.isna(value) else value.to_pydatetime()


def _rejected(summary: dict[str, Any] | None) -> int:
    s = summary or {}
    return (int((s.get("sf_to_jira") or {}).get("rejected", 0)) + int((s.get("jira_to_sf") or {}).get("rejected", 0))
            + int(s.get("transform_rejects", 0)))


def _drift(summary: dict[str, Any] | None) -> int:
    """The reconciliation's drift rows (its compare step keeps them in the run summary's `drift.total`)."""
    return int(((summary or {}).get("drift") or {}).get("total", 0))


class MappingAlerts(BaseNotifier):
    """A DAG callback checking a mapping's alert rules when a run ends, and mailing what it finds.

    :param mapping_file: the mapping YAML (its `alerts:` section holds the rules and recipients)
    :param kind: "sync" or "reconcile" -- which rules apply
    """

    template_fields: Sequence[str] = ()

    def __init__(self, mapping_file: str, kind: str, *, state_conn_id: str = "sfjira_state") -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        self.mapping_file, self.kind, self.state_conn_id = mapping_file, kind, state_conn_id

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing to render: the rules and recipients come from the mapping. (Skipping it also spares
        `dag.test()`, whose DAG callbacks get a SerializedDAG without a template environment in 3.3.2.)"""

    def notify(self, context: Any) -> None:
        mapping = load_mapping(Path(self.mapping_file))
        if mapping.alerts is None:
            return
        run_id = str(context.get("run_id") or "")
        broken = broken_rules(mapping, self.kind, read_figures(mapping, self.kind, run_id, self.state_conn_id))
        if not broken:
            return
        dag_id = getattr(context.get("dag"), "dag_id", f"sfjira_{self.kind}__{mapping.name}")
        log.warning("sfjira alert for %s (%s): %s", mapping.name, run_id, "; ".join(broken))
        self.mailer(mapping, dag_id, run_id, broken).notify(context)

    @staticmethod
    def mailer(mapping: Mapping, dag_id: str, run_id: str, broken: list[str]) -> BaseNotifier:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        rules = mapping.alerts
        assert rules is not None
        items = "".join(f"<li>{_html(b)}</li>" for b in broken)
        return SmtpNotifier(to=list(rules.to), from_email=rules.from_email, smtp_conn_id=rules.smtp_conn_id,
                            subject=f"[sfjira] {mapping.name}: {len(broken)} alert(s) after {dag_id} {run_id}",
                            html_content=f"<p>sfjira mapping <b>{_html(mapping.name)}</b>, DAG run "
                                         f"<code>{_html(dag_id)} / {_html(run_id)}</code>:</p><ul>{items}</ul>")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
