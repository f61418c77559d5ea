"""The drift report: JSON and CSV of every row, one self-contained HTML file; PII never in any of them."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from airflow.sdk import ObjectStoragePath

from sfjira.mapping import Mapping
from sfjira.reconcile import DriftResult, compare, write_report
from sfjira.reconcile.report import ReportPaths
from sfjira.state import StateStore
from tests.sfjira.reconcile.seeded import MISMATCH_SUMMARY, PII_EDIT, World, key, seed_every_category

FORMULA = "=1+2"
AT = dt.datetime(2026, 3, 30, 6, 0, tzinfo=dt.UTC)


class _Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture
def drift(case_mapping: Mapping, store: StateStore) -> DriftResult:
    world = World.clean(case_mapping)
    world.save_sync(store)
    seed_every_category(world)
    world.issues[key(10)]["fields"]["summary"] = FORMULA
    name = case_mapping.name
    return compare(case_mapping, world.sf(), world.jira(), store.links(name), synced_state=store.synced_state(name))


@pytest.fixture
def history(case_mapping: Mapping, store: StateStore) -> pd.DataFrame:
    for day, counts in ((27, {"field_mismatch": 40, "orphan_link": 2}), (28, {"field_mismatch": 7})):
        run = store.begin_run(case_mapping.name, f"scheduled__2026-03-{day}", kind="reconcile")
        store.record_drift(case_mapping.name, run, counts, at=dt.datetime(2026, 3, day, 6, tzinfo=dt.UTC))
    return store.drift_history(case_mapping.name)


def _write(drift: DriftResult, mapping: Mapping, folder: Path, **kwargs: object) -> ReportPaths:
    return write_report(drift, mapping, ObjectStoragePath(f"file://{folder}"), run_id="case_to_bug/manual__1",
                        generated_at=AT, **kwargs)  # type: ignore[arg-type]


def _read(path: str) -> str:
    return Path(ObjectStoragePath(path).path).read_text(encoding="utf-8")


def test_json_and_csv_hold_every_row(drift: DriftResult, case_mapping: Mapping, tmp_path: Path) -> None:
    paths = _write(drift, case_mapping, tmp_path)
    assert [Path(ObjectStoragePath(p).path).name for p in (paths.json, paths.csv, paths.html)] == [
        "drift.json", "drift.csv", "drift_report.html"]
    doc = json.loads(_read(paths.json))
    assert len(doc["rows"]) == drift.total == 11
    assert doc["summary"]["counts"]["duplicate"] == 2 and doc["run_id"] == "case_to_bug/manual__1"
    assert {r["jira_value"] for r in doc["rows"]} >= {MISMATCH_SUMMARY, FORMULA}
    csv = pd.read_csv(io.StringIO(_read(paths.csv)), dtype=str, keep_default_na=False)
    assert len(csv) == 11 and list(csv.columns) == list(drift.rows.columns)
    assert MISMATCH_SUMMARY in set(csv["jira_value"])
    assert "'" + FORMULA in set(csv["jira_value"])  # opened as text, not as a formula, in a spreadsheet


def test_pii_is_masked_in_every_output(drift: DriftResult, case_mapping: Mapping, tmp_path: Path) -> None:
    paths = _write(drift, case_mapping, tmp_path)
    for path in (paths.json, paths.csv, paths.html):
        text = _read(path).lower()
        assert PII_EDIT not in text and "customer7@example.com" not in text
        assert "***" in text


def test_pii_is_masked_even_if_the_rows_were_not(drift: DriftResult, case_mapping: Mapping, tmp_path: Path) -> None:
    rows = drift.rows.copy()
    rows.loc[rows["field"] == "Contact.Email", ["sf_value", "jira_value"]] = ["customer7@example.com", PII_EDIT]
    leaky = DriftResult(drift.mapping, rows, drift.sf_records, drift.jira_issues, drift.pairs, drift.fields)
    paths = _write(leaky, case_mapping, tmp_path)
    for path in (paths.json, paths.csv, paths.html):
        assert PII_EDIT not in _read(path)


def test_html_is_one_offline_file_with_counts_values_and_trend(drift: DriftResult, case_mapping: Mapping,
                                                                history: pd.DataFrame, tmp_path: Path) -> None:
    html = _read(_write(drift, case_mapping, tmp_path, history=history).html)
    # counts by category, as rendered in the counts table
    for category, count in drift.counts().items():
        assert re.search(rf"<td>{category}</td><td class='n (hot|zero)'>{count}</td>", html), category
    assert "<b>11</b>" in html
    # the mismatched value, escaped -- never as markup
    assert "Printer &lt;b&gt;on fire&lt;/b&gt; &amp; &quot;smoking&quot;" in html
    assert "<b>on fire</b>" not in html
    # the fields that drift most, and the trend against the two earlier reconciliations plus this one
    assert "Subject \u2194 summary" in html and "Contact.Email \u2194 customfield_10054" in html
    assert "<svg id=sparkline" in html and "<polyline" in html
    trend = html[html.index("<table id=trend>"):]
    assert "case_to_bug/scheduled__2026-03-27" in trend and "case_to_bug/manual__1" in trend
    # offline: no external resources of any kind, and a policy that forbids fetching anything
    parser = _Tags()
    parser.feed(html)
    tags = {t for t, _ in parser.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "base", "form"}
    assert not any(a in attrs for _, attrs in parser.tags for a in ("src", "href", "srcset", "action"))
    assert "http://" not in html and "https://" not in html and "url(" not in html and "@import" not in html
    assert "default-src 'none'" in html


def test_html_table_is_capped_with_a_note(drift: DriftResult, case_mapping: Mapping, tmp_path: Path) -> None:
    html = _read(_write(drift, case_mapping, tmp_path, max_rows=3).html)
    table = html[html.index("<table id=drift>"):]
    assert table.count("<tr>") == 4  # header + 3 rows
    assert "Showing the first 3 of 11 drift rows" in html


def test_a_value_with_markup_or_a_url_stays_text(case_mapping: Mapping, store: StateStore, tmp_path: Path) -> None:
    world = World.clean(case_mapping)
    world.save_sync(store)
    world.issues[key(2)]["fields"]["summary"] = '<script src="https://evil.example/x.js"></script><img src=x>'
    name = case_mapping.name
    result = compare(case_mapping, world.sf(), world.jira(), store.links(name), synced_state=store.synced_state(name))
    html = _read(_write(result, case_mapping, tmp_path).html)
    parser = _Tags()
    parser.feed(html)
    assert not {t for t, _ in parser.tags} & {"script", "img"}
    assert "&lt;script src=&quot;https://evil.example/x.js&quot;&gt;" in html


def test_a_clean_run_says_so(case_mapping: Mapping, store: StateStore, tmp_path: Path) -> None:
    world = World.clean(case_mapping)
    result = compare(case_mapping, world.sf(), world.jira(), None)
    paths = _write(result, case_mapping, tmp_path)
    assert "No drift" in _read(paths.html) and json.loads(_read(paths.json))["rows"] == []
    assert _read(paths.csv).strip() == ",".join(result.rows.columns)
