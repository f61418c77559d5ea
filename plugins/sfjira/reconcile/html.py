"""The drift report as ONE self-contained HTML file: inline CSS and SVG, no scripts, fonts or links.

A Content-Security-Policy forbids every fetch, so even a value that looks like markup or a URL
cannot make the page reach the network; and every value is HTML-escaped (values come from users'
CRMs). The per-record table is capped; the CSV next to it holds every row.
"""

from __future__ import annotations

import datetime as dt
from html import escape

import pandas as pd

from sfjira.mapping.model import Mapping
from sfjira.reconcile.result import CATEGORIES, DriftResult
from sfjira.rows import each_row
from sfjira.values.missing import is_missing

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_VALUE_CHARS = 300
_TREND_RUNS = 30

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2330}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.meta{color:#5c6370}table{border-collapse:collapse;margin:4px 0}
th,td{border:1px solid #d6dae1;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.zero{color:#9aa1ad}.hot{color:#b3261e;font-weight:600}
.bar{display:inline-block;height:10px;background:#d9534f;vertical-align:middle}
.v{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-word;max-width:360px}
.null{color:#9aa1ad;font-style:italic}.note{background:#fff8e1;border:1px solid #f0d98c;padding:6px 10px}
svg{background:#fafbfc;border:1px solid #d6dae1}
"""


def render_html(result: DriftResult, mapping: Mapping, rows: pd.DataFrame, *, trend: pd.DataFrame,
                run_id: str | None = None, generated_at: dt.datetime | None = None, max_rows: int = 2000) -> str:
    """`rows`: the (PII-masked) drift rows; `trend`: one row per reconciliation, a column per category."""
    when = (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M:%S UTC")
    summary = result.summary()
    body = [
        f"<h1>Drift report: {escape(mapping.name)}</h1>",
        f"<p class=meta>{escape(mapping.salesforce.object)} &harr; {escape(mapping.jira.project)}/"
        f"{escape(mapping.jira.issue_type)} &middot; run {escape(run_id or '-')} &middot; {escape(when)}<br>"
        f"{summary['sf_records']:,} Salesforce records, {summary['jira_issues']:,} Jira issues, "
        f"{summary['pairs']:,} pairs, {len(result.fields)} fields compared, "
        f"{summary['rejected_records']:,} records rejected by the transform</p>",
        "<h2>Drift by category</h2>", _counts(result.counts()),
        "<h2>Fields that drift most</h2>", _fields(result.by_field(), mapping),
        "<h2>Trend</h2>", _trend(trend),
        "<h2>Drift rows</h2>", _rows(rows, mapping, max_rows),
    ]
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f"<title>Drift report: {escape(mapping.name)}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _counts(counts: dict[str, int]) -> str:
    cells = "".join(f"<tr><td>{escape(c)}</td><td class='n {'hot' if n else 'zero'}'>{n:,}</td></tr>"
                    for c, n in counts.items())
    total = sum(counts.values())
    return (f"<table id=counts><tr><th>category</th><th>rows</th></tr>{cells}"
            f"<tr><th>total</th><td class=n><b>{total:,}</b></td></tr></table>")


def field_label(mapping: Mapping, key: object) -> str:
    """"Subject ↔ summary" for a mapped field, the name itself for the identity fields."""
    if not isinstance(key, str):  # a record-level row: no field (None, NaN)
        return ""
    try:
        f = mapping.field(str(key))
    except KeyError:
        return str(key)
    return f"{f.salesforce} \u2194 {f.jira}" if f.salesforce == f.canonical_key else f"{key} ({f.salesforce} \u2194 {f.jira})"


def _fields(by_field: pd.Series, mapping: Mapping, top: int = 15) -> str:
    if not len(by_field):
        return "<p class=zero>No field drifts.</p>"
    most = int(by_field.iloc[0])
    lines = "".join(
        f"<tr><td>{escape(field_label(mapping, key))}</td><td class=n>{int(n):,}</td>"
        f"<td><span class=bar style='width:{max(2, round(160 * int(n) / most))}px'></span></td></tr>"
        for key, n in by_field.head(top).items())
    more = f"<p class=meta>{len(by_field) - top} more fields drift.</p>" if len(by_field) > top else ""
    return f"<table id=fields><tr><th>field</th><th>cells</th><th></th></tr>{lines}</table>{more}"


def _trend(trend: pd.DataFrame) -> str:
    """A sparkline of total drift per reconciliation and the last runs' counts per category."""
    if not len(trend):
        return "<p class=zero>No earlier reconciliations.</p>"
    recent = trend.tail(_TREND_RUNS)
    totals = recent[list(CATEGORIES)].sum(axis=1).to_numpy()
    width, height, pad = 360, 64, 6
    top = max(int(totals.max()), 1)
    step = (width - 2 * pad) / max(len(totals) - 1, 1)
    points = " ".join(f"{pad + k * step:.1f},{height - pad - (height - 2 * pad) * v / top:.1f}"
                      for k, v in enumerate(totals))
    dots = "".join(f"<circle cx='{pad + k * step:.1f}' cy='{height - pad - (height - 2 * pad) * v / top:.1f}' r='2.5'>"
                   f"<title>{int(v):,}</title></circle>" for k, v in enumerate(totals))
    svg = (f"<svg id=sparkline width={width} height={height} viewBox='0 0 {width} {height}' role=img "
           f"aria-label='total drift per reconciliation'><polyline fill='none' stroke='#d9534f' stroke-width='2' "
           f"points='{points}'/><g fill='#d9534f'>{dots}</g></svg>")
    head = "".join(f"<th>{escape(c)}</th>" for c in CATEGORIES)
    lines = "".join(
        f"<tr><td>{escape(str(r.label))}</td><td>{escape(str(r.at))}</td>"
        + "".join(f"<td class=n>{int(getattr(r, c)):,}</td>" for c in CATEGORIES)
        + f"<td class=n><b>{int(sum(getattr(r, c) for c in CATEGORIES)):,}</b></td></tr>"
        for r in each_row(recent.tail(10).iloc[::-1], index=False))
    return (f"{svg}<p class=meta>Total drift of the last {len(recent)} reconciliations (oldest left).</p>"
            f"<table id=trend><tr><th>run</th><th>at</th>{head}<th>total</th></tr>{lines}</table>")


def _value(value: object) -> str:
    if is_missing(value):
        return "<span class=null>(empty)</span>"
    text = str(value)
    if len(text) > _VALUE_CHARS:
        text = text[:_VALUE_CHARS] + f"\u2026 (+{len(text) - _VALUE_CHARS:,} characters)"
    return escape(text)


def _values(field: object, sf_value: object, jira_value: object) -> str:
    """Both values of a field row; record-level rows (no field) have none to show."""
    if is_missing(field):
        return "<td class=v></td><td class=v></td>"
    return f"<td class=v>{_value(sf_value)}</td><td class=v>{_value(jira_value)}</td>"


def _decision(action: object, reason: object) -> str:
    """What auto_heal does about a row (bold), and how or why not."""
    if is_missing(action):
        return "<td></td>"
    return f"<td><b>{escape(str(action))}</b>: {escape(str(reason or ''))}</td>"


def _rows(rows: pd.DataFrame, mapping: Mapping, max_rows: int) -> str:
    if not len(rows):
        return "<p class=zero>No drift: both sides agree on every record and field compared.</p>"
    shown = rows.head(max_rows)
    note = (f"<p class=note>Showing the first {len(shown):,} of {len(rows):,} drift rows; the CSV and JSON next "
            "to this report hold every row.</p>") if len(rows) > len(shown) else ""
    legend = ("<p class=meta>Values are shown in canonical form, as compared: the Salesforce vocabulary for "
              "mapped values, UTC date-times, exact decimals, sorted multi-values.</p>")
    healing = "auto_heal" in shown.columns
    header = ("<tr><th>category</th><th>Salesforce id</th><th>Jira key</th><th>field</th><th>Salesforce value</th>"
              "<th>Jira value</th><th>owner</th><th>wins</th><th>detail</th>"
              + ("<th>auto_heal</th>" if healing else "") + "</tr>")
    lines = "".join(
        f"<tr><td>{escape(str(r.category))}</td><td>{_value(r.sf_id)}</td><td>{_value(r.jira_key)}</td>"
        f"<td>{escape(field_label(mapping, r.field))}</td>{_values(r.field, r.sf_value, r.jira_value)}"
        f"<td>{escape(str(r.owner or ''))}</td>"
        f"<td>{escape(str(r.winner or ''))}</td><td>{escape(str(r.detail or ''))}</td>"
        + (_decision(r.auto_heal, r.auto_heal_reason) if healing else "") + "</tr>"
        for r in each_row(shown, index=False))
    return f"{legend}{note}<table id=drift>{header}{lines}</table>"
