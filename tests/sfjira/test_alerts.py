"""The alert rules as pure functions of the figures a run leaves (the mail itself: tests/e2e/test_alerts.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from sfjira.alerts import Figures, MappingAlerts, broken_rules, interval_of
from sfjira.mapping import Mapping, parse_mapping
from tests.sfjira.mapping.conftest import SHIPPED

NOW = dt.datetime(2026, 11, 29, 12, 5, tzinfo=dt.UTC)


def _mapping(alerts: str) -> Mapping:
    text = (SHIPPED / "opportunity_to_epic.yaml").read_text()  # schedule */15, no PII
    return parse_mapping(text + alerts, "opportunity_to_epic.yaml")


RULES = _mapping("\nalerts:\n  to: [ops@example.org]\n  failed_intervals: 3\n  rejects_above: 5\n  drift_above: 10\n")


def test_the_interval_is_the_schedules() -> None:
    assert interval_of("*/15 * * * *", NOW) == dt.timedelta(minutes=15)
    assert interval_of("0 3 * * *", NOW) == dt.timedelta(days=1)


@pytest.mark.parametrize(("minutes", "broken"), [(44, False), (45, True)])
def test_a_sync_without_success_for_n_intervals(minutes: int, broken: bool) -> None:
    figures = Figures(now=NOW, last_success=NOW - dt.timedelta(minutes=minutes), first_run=NOW - dt.timedelta(days=9))
    found = broken_rules(RULES, "sync", figures)
    assert bool(found) is broken
    if broken:
        assert "has not succeeded since 2026-11-29T11:20:00+00:00" in found[0]


def test_a_mapping_that_never_succeeded_counts_from_its_first_run() -> None:
    figures = Figures(now=NOW, last_success=None, first_run=NOW - dt.timedelta(hours=1))
    assert broken_rules(RULES, "sync", figures) == [
        "the sync has not succeeded ever: 3 interval(s) of `*/15 * * * *` or more"]
    assert broken_rules(RULES, "sync", Figures(now=NOW, last_success=None, first_run=None)) == []


def test_rejects_and_drift_above_their_thresholds_and_only_for_their_kind() -> None:
    fine = dict(now=NOW, last_success=NOW, first_run=NOW)
    assert broken_rules(RULES, "sync", Figures(**fine, rejected=5)) == []
    assert "rejected 6 record(s), more than 5" in broken_rules(RULES, "sync", Figures(**fine, rejected=6))[0]
    assert broken_rules(RULES, "reconcile", Figures(**fine, rejected=60, drift=10)) == []
    assert "found 11 drift row(s)" in broken_rules(RULES, "reconcile", Figures(**fine, drift=11))[0]


def test_no_alerts_section_no_rules_and_bad_rules_name_their_field() -> None:
    plain = parse_mapping((SHIPPED / "opportunity_to_epic.yaml").read_text(), "x.yaml")
    assert broken_rules(plain, "sync", Figures(now=NOW, last_success=None, first_run=NOW - dt.timedelta(days=9),
                                               rejected=99)) == []
    with pytest.raises(Exception, match=r"alerts.to.0.*pattern"):
        _mapping("\nalerts:\n  to: [not-an-address]\n")
    with pytest.raises(ValueError, match="sync, reconcile"):
        MappingAlerts("x.yaml", "rollback")
