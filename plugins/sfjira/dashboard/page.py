"""The dashboard's HTML: one self-contained page per mapping (inline CSS, inline SVG charts, one small
inline script for the action buttons), so it works offline and inside the Airflow UI's plugin frame.

Every value shown is escaped; links into Airflow's UI open in the whole window (`target=_top`), not in
the frame.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from sfjira.dashboard import charts

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:16px 20px;color:#1a1a1a;
background:#fafafa;font-size:14px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#666}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:20px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(420px,100%),1fr));gap:16px}
.panel{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 12px;overflow-x:auto;min-width:0}
@media (max-width:600px){body{padding:12px 10px}.card{min-width:0;flex:1 1 40%}h2{margin-top:20px}}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eee;
vertical-align:top}th{background:#f3f3f3;position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.st-success{color:#087f23}.st-failed{color:#b00020}.st-partial,.st-up_for_retry{color:#a05a00}.st-running,.st-queued{color:#0057a3}
button{background:#0072B2;color:#fff;border:0;border-radius:4px;padding:6px 12px;cursor:pointer;font-size:13px}
button:disabled{background:#999}input,select{padding:4px 6px;font-size:13px}
.actions form{display:inline-flex;flex-wrap:wrap;gap:6px;align-items:center;margin:0 16px 8px 0}
#result{white-space:pre-wrap;overflow-wrap:anywhere;font-family:monospace;font-size:12px;margin-top:6px}
a{color:#0057a3;overflow-wrap:anywhere}code{font-size:12px;overflow-wrap:anywhere}
"""

# The action buttons: POST the form's fields as JSON with the login cookie, show Airflow's answer.
SCRIPT = """
document.querySelectorAll('form[data-action]').forEach(function (form) {
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var body = {};
    new FormData(form).forEach(function (value, key) { if (value !== '') body[key] = value; });
    var out = document.getElementById('result');
    out.textContent = 'triggering...';
    fetch(form.dataset.action, {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
      .then(function (r) { return r.text().then(function (t) { out.textContent = r.status + ' ' + t; }); })
      .catch(function (e) { out.textContent = 'failed: ' + e; });
  });
});
"""

DRIFT_SHOWN = ("field_mismatch", "conflict_pending", "missing_in_jira", "missing_in_salesforce", "orphan_link",
               "duplicate")


_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def _text(value: Any) -> str:
    if value is None or value == "":
        return '<span class="muted">-</span>'
    if isinstance(value, str) and _STAMP.match(value):  # ISO timestamps to the second, in UTC as stored
        return escape(value[:19].replace("T", " "))
    if isinstance(value, dict | list):
        return f"<code>{escape(json.dumps(value, default=str)[:300])}</code>"
    return escape(str(value))


def _status(value: Any) -> str:
    return f'<span class="st-{escape(str(value))}">{_text(value)}</span>'


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]], *, empty: str,
          numeric: Iterable[str] = (), status: Iterable[str] = ()) -> str:
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    nums, states = set(numeric), set(status)
    head = "".join(f"<th>{escape(title)}</th>" for _, title in columns)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="n">{_text(row.get(key))}</td>' if key in nums
            else f"<td>{_status(row.get(key)) if key in states else _text(row.get(key))}</td>"
            for key, _ in columns) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def document(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{escape(title)}</title><style>{CSS}</style>'
            f"</head><body>{body}<script>{SCRIPT}</script></body></html>")


def _short(stamp: Any) -> str:
    return str(stamp or "")[:16].replace("T", " ")


def _dag_link(dag: Mapping[str, Any] | None, kind: str) -> str:
    if not dag:
        return f'<span class="muted">no {kind} DAG</span>'
    paused = " (paused)" if dag.get("is_paused") else ""
    return f'<a target="_top" href="/dags/{quote(dag["dag_id"])}">{escape(dag["dag_id"])}</a>{paused}'


def index_page(rows: Sequence[Mapping[str, Any]], *, user: str, base: str) -> str:
    items = [{"mapping": f'<a href="{base}/mappings/{quote(r["mapping"])}">{escape(r["mapping"])}</a>',
              "sync": _dag_link(r["dags"].get("sync"), "sync"),
              "last": (r["last_sync"] or {}).get("status"), "when": _short((r["last_sync"] or {}).get("started_at")),
              "rejects": r["overview"]["open_rejects"], "links": sum((r["overview"]["links"] or {}).values())}
             for r in rows]
    body = "".join(
        f'<tr><td>{i["mapping"]}</td><td>{i["sync"]}</td><td>{_status(i["last"])}</td><td>{_text(i["when"])}</td>'
        f'<td class="n">{i["rejects"]}</td><td class="n">{i["links"]}</td></tr>' for i in items)
    listing = (f"<table><thead><tr><th>mapping</th><th>sync DAG</th><th>last sync</th><th>started</th>"
               f"<th>open rejects</th><th>links</th></tr></thead><tbody>{body}</tbody></table>" if items
               else '<p class="muted">No mappings yet: no sfjira DAG in Airflow and no run in the state store.</p>')
    return document("sfjira", f'<h1>sfjira</h1><p class="muted">Salesforce &harr; Jira sync, per mapping. '
                              f'Signed in as {escape(user)}. JSON: <a href="{base}/api/v1/mappings">'
                              f"{escape(base)}/api/v1/mappings</a></p>{listing}")


def _cards(figures: Mapping[str, Any]) -> str:
    over = figures["overview"]
    # A dry run's state-store run stays open (it commits nothing), so the card shows the newest real sync.
    last = next((r for r in figures["runs"] if r["kind"] == "sync" and not r["dry_run"]), None)
    marks = over.get("watermarks") or {}
    cards = [("last sync", _status((last or {}).get("status")), _short((last or {}).get("started_at"))),
             ("open rejects", _text(over["open_rejects"]), ""),
             ("linked records", _text(sum((over.get("links") or {}).values())), ""),
             ("pending intents", _text(over["pending_intents"]), ""),
             ("cursor", _text(_short(min(marks.values())) if marks else None), "both sides synced to")]
    return '<div class="cards">' + "".join(
        f'<div class="card"><span class="muted">{escape(t)}</span><b>{v}</b><span class="muted">{escape(n)}</span></div>'
        for t, v, n in cards) + "</div>"


def _actions(figures: Mapping[str, Any], base: str) -> str:
    mapping = quote(figures["mapping"])
    api = f"{base}/api/v1/mappings/{mapping}/actions"
    runs = [r for r in figures["runs"] if r["kind"] == "sync" and not r["dry_run"]]
    options = "".join(f'<option value="{escape(r["airflow_run_id"])}">{escape(r["airflow_run_id"])} '
                      f'({escape(str(r["status"]))})</option>' for r in runs)
    rollback = (f'<form data-action="{api}/rollback-dry-run"><select name="run" aria-label="run to roll back">'
                f'{options}</select><button>Dry-run rollback</button></form>' if options else "")
    return (f'<div class="actions panel"><form data-action="{api}/replay-rejects"><button>Replay rejects '
            f'({figures["overview"]["open_rejects"]} open)</button></form>'
            f'<form data-action="{api}/reconcile-dry-run"><input name="scope" value="all" size="10" '
            f'aria-label="scope"><button>Dry-run reconciliation</button></form>{rollback}'
            f'<div class="muted">Each action triggers the DAG run in Airflow (needs the DAG-run permission); '
            f'follow it in the DAG\'s grid.</div><div id="result"></div></div>')


def _runs(figures: Mapping[str, Any]) -> str:
    syncs = list(reversed([r for r in figures["runs"] if r["kind"] == "sync"]))
    labels = [_short(r["started_at"]) for r in syncs]

    def series(direction: str) -> dict[str, list[float | None]]:
        names = ("created", "updated", "skipped", "conflicts", "rejected")
        return {n: [(r[direction] or {}).get(n) for r in syncs] for n in names
                if any((r[direction] or {}).get(n) for r in syncs)}

    health = {h["run_id"]: h for h in figures.get("task_health", [])}
    rows = []
    for run in figures["runs"]:
        h = health.get(run["airflow_run_id"] or "", {})
        a, b = run["sf_to_jira"] or {}, run["jira_to_sf"] or {}
        rows.append({**run, "started": _short(run["started_at"]), "airflow_state": h.get("state"),
                     "failed_tries": h.get("failed_tries"), "retried": ", ".join(
                         f"{t} x{n}" for t, n in (h.get("retried") or {}).items()) or None,
                     "sf_to_jira": f"+{a.get('created') or 0} ~{a.get('updated') or 0} ={a.get('skipped') or 0} "
                                   f"!{a.get('conflicts') or 0} x{a.get('rejected') or 0}" if a else None,
                     "jira_to_sf": f"~{b.get('updated') or 0} ={b.get('skipped') or 0} x{b.get('rejected') or 0}"
                                   if b else None,
                     # Records the mapping refused before any write (counted apart from the loads' rejects).
                     "transform_rejects": run.get("transform_rejects")})
    listing = table(rows, [("started", "started"), ("kind", "kind"), ("airflow_run_id", "Airflow run"),
                           ("status", "sfjira"), ("airflow_state", "Airflow"), ("dry_run", "dry run"),
                           ("sf_to_jira", "SF→Jira"), ("jira_to_sf", "Jira→SF"),
                           ("transform_rejects", "mapping rejects"), ("failed_tries", "failed tries"),
                           ("retried", "retried tasks"), ("attempts", "attempts")],
                    empty="No runs yet.", numeric=("transform_rejects", "failed_tries", "attempts"),
                    status=("status", "airflow_state"))
    return (f'<h2>Recent runs</h2><div class="grid"><div class="panel"><b>Salesforce → Jira</b>'
            f'{charts.bars(labels, series("sf_to_jira"), label="records per run, Salesforce to Jira")}</div>'
            f'<div class="panel"><b>Jira → Salesforce</b>'
            f'{charts.bars(labels, series("jira_to_sf"), label="records per run, Jira to Salesforce")}</div></div>'
            f'<p class="muted">SF→Jira: +created ~updated =skipped !conflicts xrejected by the API; mapping rejects: '
            f'records the mapping refused before any write. Airflow state, failed tries '
            f'(every failed try, retried or not) and retried tasks come from Airflow\'s metadata.</p>'
            f'<div class="panel">{listing}</div>')


def _api(figures: Mapping[str, Any]) -> str:
    usage = figures["api_usage"]
    points = usage["runs"]
    labels = [_short(p["started_at"]) for p in points]
    series = {f"{system} {what}": [((p.get(what) or {}).get(system)) for p in points]
              for system in ("salesforce", "jira") for what in ("used", "minimum")}
    daily = usage.get("salesforce_daily") or {}
    jira = usage.get("jira_rate_limits") or {}
    latency = figures["latency"]
    items = [(f'{e["system"]}: {e["endpoint"]}', float(e["mean_ms"] or 0)) for e in latency["endpoints"][:15]]
    return (f'<h2>API calls and latency</h2><div class="grid"><div class="panel"><b>Calls per sync run against the '
            f'protocol minimum</b>{charts.bars(labels, series, label="API calls used and minimum", stacked=False)}'
            f'</div><div class="panel"><b>Salesforce daily API usage</b>'
            f'{charts.meter(daily.get("used"), daily.get("max"), label="Salesforce daily usage", budget_share=daily.get("budget_share"))}'
            f'<p class="muted">As of run {_text(usage.get("as_of_run"))}. Jira rate limiting: retries '
            f'{_text(jira.get("retries"))}, waited {_text(jira.get("waited_s"))} s, last remaining '
            f'{_text(jira.get("remaining"))} of {_text(jira.get("limit"))}.</p>'
            f'<b>Mean latency per endpoint</b> <span class="muted">(run {_text(latency.get("run_id"))})</span>'
            f'{charts.hbars(items, label="mean latency per endpoint", unit="ms")}</div></div>')


def _drift(figures: Mapping[str, Any], base: str) -> str:
    drift = figures["drift"]
    trend = drift["trend"]
    labels = [_short(p["at"]) for p in trend]
    series: dict[str, list[float | None]] = {"total": [p["total"] for p in trend]}
    series.update({c: [p["counts"].get(c, 0) for p in trend] for c in DRIFT_SHOWN
                   if any(p["counts"].get(c) for p in trend)})
    latest = drift.get("latest")
    if latest:
        summary = latest["summary"] or {}
        report = (f'<a href="{base}/api/v1/mappings/{quote(figures["mapping"])}/drift/report">HTML report</a>'
                  if (latest.get("report") or {}).get("html") else "no report file")
        about = (f'<p>Newest reconciliation <code>{escape(str(latest["airflow_run_id"]))}</code> '
                 f'({_status(latest["status"])}, {escape(_short(latest["finished_at"] or latest["started_at"]))}): '
                 f'{_text(summary.get("total"))} drift rows over {_text(summary.get("pairs"))} pairs; {report}.</p>'
                 + table([{"category": c, "count": n} for c, n in (summary.get("counts") or {}).items()],
                         [("category", "category"), ("count", "rows")], empty="", numeric=("count",)))
    else:
        about = '<p class="muted">No reconciliation has run yet.</p>'
    return (f'<h2>Drift</h2><div class="grid"><div class="panel"><b>Drift per reconciliation</b>'
            f'{charts.lines(labels, series, label="drift trend")}</div><div class="panel">{about}</div></div>')


def _rejects_conflicts(figures: Mapping[str, Any]) -> str:
    rejects = table(figures["rejects"], [("code", "code"), ("side", "side"), ("record_id", "record"),
                                         ("field", "field"), ("message", "message"), ("fix", "fix"),
                                         ("attempts", "attempts"), ("last_seen", "last seen")],
                    empty="No open rejects.", numeric=("attempts",))
    conflicts = table(figures["conflicts"], [("at", "at"), ("sf_id", "Salesforce"), ("jira_key", "Jira"),
                                             ("field", "field"), ("winner", "won"), ("reason", "rule"),
                                             ("before", "before"), ("after", "after")],
                      empty="No conflicts recorded.")
    return (f'<h2>Open rejects</h2><div class="panel">{rejects}</div>'
            f'<h2>Recent conflicts</h2><div class="panel">{conflicts}</div>')


def _audit(search: Mapping[str, Any] | None, query: Mapping[str, str | None]) -> str:
    fields = "".join(f'<label>{name} <input name="{name}" value="{escape(query.get(name) or "")}"></label> '
                     for name in ("record", "run", "field"))
    form = f'<form method="get" action="#audit" class="actions">{fields}<button>Search</button></form>'
    if search is None:
        found = '<p class="muted">Search by Salesforce id or Jira key, run id, or field.</p>'
    else:
        more = " (newest shown; narrow the search for older rows)" if search["truncated"] else ""
        found = (f'<p class="muted">{len(search["rows"])} rows{more}</p>' + table(
            search["rows"], [("at", "at"), ("airflow_run_id", "run"), ("action", "action"), ("cause", "cause"),
                             ("side", "side"), ("sf_id", "Salesforce"), ("jira_key", "Jira"), ("field", "field"),
                             ("before", "before"), ("after", "after"), ("winner", "won")], empty="Nothing found."))
    return f'<h2 id="audit">Audit search</h2><div class="panel">{form}{found}</div>'


def mapping_page(figures: Mapping[str, Any], *, search: Mapping[str, Any] | None,
                 query: Mapping[str, str | None], user: str, base: str) -> str:
    dags = figures.get("dags") or {}
    head = (f'<p class="muted"><a href="{base}/">all mappings</a> &middot; signed in as {escape(user)} &middot; '
            + " &middot; ".join(_dag_link(dags.get(k), k) for k in ("sync", "reconcile", "rollback"))
            + f' &middot; JSON: <a href="{base}/api/v1/mappings/{quote(figures["mapping"])}">figures</a></p>')
    body = (f'<h1>{escape(figures["mapping"])}</h1>{head}{_cards(figures)}{_actions(figures, base)}{_runs(figures)}'
            f'{_api(figures)}{_drift(figures, base)}{_rejects_conflicts(figures)}{_audit(search, query)}')
    return document(f'sfjira {figures["mapping"]}', body)


def run_page(mapping: str, run_id: str, run: Mapping[str, Any] | None, trail: Mapping[str, Any], *,
             base: str) -> str:
    if run is None:
        about = (f'<p class="muted">The state store has no run <code>{escape(run_id)}</code> of {escape(mapping)} '
                 f"(it has not started its first step, or wrote nothing).</p>")
    else:
        about = table([{"figure": k, "value": v} for k, v in run.items()], [("figure", "figure"), ("value", "value")],
                      empty="")
    rows = table(trail["rows"], [("at", "at"), ("action", "action"), ("cause", "cause"), ("side", "side"),
                                 ("sf_id", "Salesforce"), ("jira_key", "Jira"), ("field", "field"),
                                 ("before", "before"), ("after", "after"), ("winner", "won")],
                 empty="This run wrote nothing to the ledger.")
    return document(f"sfjira {mapping} {run_id}",
                    f'<h1>{escape(mapping)}: run {escape(run_id)}</h1><p><a href="{base}/mappings/{quote(mapping)}">'
                    f'{escape(mapping)} dashboard</a></p><div class="panel">{about}</div><h2>What it wrote</h2>'
                    f'<div class="panel">{rows}</div>')


def not_sfjira(dag_id: str) -> str:
    return document("sfjira", f'<p class="muted">{escape(dag_id)} is not an sfjira DAG: nothing to show here.</p>')
