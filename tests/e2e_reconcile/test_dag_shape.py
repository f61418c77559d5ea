"""No servers: the reconciliation DAG's shape and params, the run's input checks and the queries it sends
(what the emulators answer to them is covered by the end-to-end tests next to this file)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sfjira.dag_factory import RECONCILE_SCHEDULE, drift_asset, reconcile_dag
from sfjira.mapping import Mapping, load_mapping, parse_mapping
from sfjira.reconcile.extract import reconcile_jql, reconcile_soql
from sfjira.reconcile.run import ReconcileRun, parse_limit, parse_scope

MAPPINGS = Path(__file__).resolve().parents[2] / "include" / "mappings"


@pytest.fixture(scope="module")
def cases() -> Mapping:
    return load_mapping(MAPPINGS / "case_to_bug.yaml")


def test_one_daily_dag_per_mapping_with_manual_params(cases: Mapping) -> None:
    dag = reconcile_dag(cases)
    assert dag.dag_id == "sfjira_reconcile__case_to_bug"
    assert dag.timetable.expression == RECONCILE_SCHEDULE == "0 3 * * *"
    assert {k: dag.params[k] for k in dag.params} == {"scope": "all", "auto_heal": False, "fail_on_drift_above": None}
    order = {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks}
    # heal reads both extracts and the compare (its inputs), and waits for the drift limit.
    assert order == {"extract_salesforce": ["compare", "heal"], "extract_jira": ["compare", "heal"],
                     "compare": ["check_drift_limit", "heal"], "check_drift_limit": ["heal"], "heal": []}
    assert dag.get_task("compare").outlets == [drift_asset(cases)]
    assert dag.get_task("check_drift_limit").retries == 0


@pytest.mark.parametrize("bad", ["yesterday", "2026-02-30", "2026/11/01", ""])
def test_scope_is_all_or_a_real_date(bad: str) -> None:
    with pytest.raises(ValueError, match=r'"all" or a date YYYY-MM-DD'):
        parse_scope(bad)
    assert parse_scope("ALL") is None
    assert parse_scope("2026-03-29") == dt.datetime(2026, 3, 29, tzinfo=dt.UTC)


@pytest.mark.parametrize("bad", [-1, "x", 1.5, True])
def test_limit_is_off_or_a_whole_number(bad: object) -> None:
    with pytest.raises(ValueError, match="whole number >= 0"):
        parse_limit(bad)
    assert (parse_limit(None), parse_limit(0), parse_limit("12")) == (None, 0, 12)


def test_a_run_checks_its_params_when_built(cases: Mapping) -> None:
    common = {"mapping_file": cases.source_file, "dag_id": "d", "airflow_run_id": "manual__1"}
    with pytest.raises(ValueError, match="auto_heal must be true or false"):
        ReconcileRun.create(**common, auto_heal="yes")
    run = ReconcileRun.create(**common, scope="2026-10-25", fail_on_drift_above="5")
    assert (run.since, run.fail_on_drift_above, run.window.full) == (dt.datetime(2026, 10, 25, tzinfo=dt.UTC), 5, True)


def test_salesforce_query_is_the_filter_or_a_key(cases: Mapping) -> None:
    assert reconcile_soql(cases) == ("SELECT Id, SystemModstamp, Jira_Key__c, Jira_Url__c, Subject, Description, "
                                     "Priority, Contact.Email, Fix_Version__c, Status, Jira_Status__c FROM Case "
                                     "ORDER BY Id")  # Jira_Status__c: the jira_deleted flag (delete_unapplied)
    text = Path(cases.source_file).read_text(encoding="utf-8").replace(
        "  jira_key_field:", "  where: \"Origin = 'Web'\"\n  jira_key_field:", 1)
    web = parse_mapping(text, "web.yaml")
    since = dt.datetime(2026, 10, 25, tzinfo=dt.UTC)
    assert reconcile_soql(web, since).endswith(
        " FROM Case WHERE (SystemModstamp >= 2026-10-25T00:00:00Z) AND ((Origin = 'Web') OR Jira_Key__c != null) "
        "ORDER BY Id")


def test_jira_query_is_project_and_type_or_a_carried_id(cases: Mapping) -> None:
    assert reconcile_jql(cases) == ('(project = "SUP" AND issuetype = "Bug") OR cf[10050] IS NOT EMPTY OR '
                                    'issue.property[sfjira].sfid IS NOT EMPTY ORDER BY key ASC')
    text = Path(cases.source_file).read_text(encoding="utf-8").replace("  salesforce_id_field: customfield_10050\n", "")
    only_property = parse_mapping(text, "p.yaml")
    assert reconcile_jql(only_property, "2026/10/25 02:00") == (
        'updated >= "2026/10/25 02:00" AND ((project = "SUP" AND issuetype = "Bug") OR '
        'issue.property[sfjira].sfid IS NOT EMPTY) ORDER BY key ASC')
