"""API budgets in real DAG runs: the sync stops before the org's daily Salesforce usage passes the share
sfjira may use, every summary shows the usage against the limit, and Jira's 429s are waited out for
their Retry-After.

The Salesforce emulator counts calls per day like the org does (`PUT /__emulator/usage` sets how much
other integrations spent); the Jira emulator logs each request with its time, so the wait after a 429 is
read from the server's clock, not from the test's.
"""

from __future__ import annotations

import pytest

from tests.e2e.world import SQLITE_STATE_ONLY, World, make_opportunities

pytestmark = [SQLITE_STATE_ONLY]

MAPPING = "opportunity_to_epic"
DAILY_MAX = 1000
THRESHOLD = 900  # the default share, 0.9, of DAILY_MAX


def _task(run: object, task_id: str) -> object:
    return next(ti for ti in run.dag_run.get_task_instances() if ti.task_id == task_id)  # type: ignore[attr-defined]


def _usage(world: World) -> dict[str, int]:
    return world.sf_emulator.admin("PUT", "usage", {})


def _set_usage(world: World, used: int) -> None:
    world.sf_emulator.admin("PUT", "usage", {"used": used})


def test_a_load_stops_before_it_writes_once_the_share_is_used(
        world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    opps = make_opportunities(world.sf, 3)
    world.sf_emulator.configure(api_daily_max=DAILY_MAX)
    # What the extract and the plan cost, measured by a dry run of the same interval (it writes nothing).
    _set_usage(world, 0)
    world.run(MAPPING, dry_run=True)
    before_loads = _usage(world)["used"]
    assert before_loads >= 2, "the extract's budget check and its query"
    # Other integrations have spent so much that the run's own reads bring the org to the share exactly
    # when load_jira asks before its first chunk: the extract still runs (under the share before and
    # after its reads), the load must not write.
    _set_usage(world, THRESHOLD - before_loads - 1)
    world.clear_calls()
    monkeypatch.setenv("SFJIRA_TASK_RETRIES", "2")

    run = world.run(MAPPING, expect="failed")

    assert run.task_states["extract_salesforce"] == "success" and run.task_states["plan"] == "success"
    load = _task(run, "load_jira")
    assert (str(load.state), load.try_number) == ("failed", 1), "terminal: failed without a retry"
    failed = [r.getMessage() for r in caplog.records if r.name == "sfjira.operators.failures"]
    assert len(failed) == 1
    assert failed[0].startswith("terminal error, the task fails without retrying: [SF_API_BUDGET_EXHAUSTED] "
                                f"Salesforce API budget spent: the org has used {THRESHOLD} of its {DAILY_MAX}")
    assert "stopped before jira create chunk 0" in failed[0]
    assert "fix: wait until the org's rolling 24-hour API usage drops below 90%" in failed[0]
    assert "salesforce_api_budget_share" in failed[0]
    assert _usage(world)["used"] == THRESHOLD, "the refused run made no call past the budget check"
    # Nothing was written on either side, as both APIs show it, and no chunk was left pending.
    assert world.writes() == {"salesforce": {}, "jira": {}}
    assert world.issues("project = DEL") == []
    assert all(r["Jira_Key__c"] is None for r in world.sf.query("SELECT Jira_Key__c FROM Opportunity"))
    assert world.store.intents(MAPPING).empty

    # A new day (the usage drops): the next run syncs everything, one epic per opportunity.
    _set_usage(world, 0)
    world.run(MAPPING)
    epics = world.issues("project = DEL", "customfield_10050")
    assert sorted(e["fields"]["customfield_10050"] for e in epics) == sorted(opps)


def test_a_run_that_would_read_past_the_share_stops_before_it_reads(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    make_opportunities(world.sf, 2)
    world.sf_emulator.configure(api_daily_max=DAILY_MAX)
    _set_usage(world, THRESHOLD)
    world.clear_calls()

    run = world.run(MAPPING, expect="failed")

    assert run.task_states["extract_salesforce"] == "failed"
    failed = [r.getMessage() for r in caplog.records if r.name == "sfjira.operators.failures"]
    assert any("[SF_API_BUDGET_EXHAUSTED]" in m and "stopped before extract_salesforce reads" in m for m in failed)
    sf_calls = world.sf_emulator.calls()["by_endpoint"]
    assert not [e for e in sf_calls if "/query" in e], "no query was sent"
    assert world.writes() == {"salesforce": {}, "jira": {}}


def test_an_extract_whose_reads_reach_the_share_stops_the_run_before_the_plan(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    make_opportunities(world.sf, 2)
    world.sf_emulator.configure(api_daily_max=DAILY_MAX)
    # The check's /limits makes it 898, the window's COUNT() 899, the extract's query 900.
    _set_usage(world, THRESHOLD - 3)
    world.clear_calls()

    run = world.run(MAPPING, expect="failed")

    assert run.task_states["extract_salesforce"] == "failed" and run.task_states["plan"] != "success"
    failed = [r.getMessage() for r in caplog.records if r.name == "sfjira.operators.failures"]
    assert any("[SF_API_BUDGET_EXHAUSTED]" in m and "reached by this extract's reads" in m for m in failed)
    assert _usage(world)["used"] == THRESHOLD
    assert world.writes() == {"salesforce": {}, "jira": {}}


def test_the_summary_shows_the_usage_against_the_limit(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    make_opportunities(world.sf, 4)
    _set_usage(world, 12_345)

    run = world.run(MAPPING)

    usage = _usage(world)
    report = world.xcom(run, "report")["api_usage"]
    assert report["salesforce"] == {"used": usage["used"], "max": usage["max"],
                                    "share": round(usage["used"] / usage["max"], 4), "budget_share": 0.9}
    assert usage["used"] > 12_345
    assert run.summary["summary"]["api_usage"] == report
    assert report["jira"]["retries"] == {} and report["jira"]["waited_s"] == 0.0
    assert f"Salesforce API usage {usage['used']}/{usage['max']}" in capsys.readouterr().out


def test_a_jira_429_is_waited_out_for_its_retry_after(world: World) -> None:
    opps = make_opportunities(world.sf, 3)
    world.jira_emulator.configure(fault_retry_after_s=2)
    world.jira_emulator.set_faults([{"fault": "429", "path": "/issue/bulk$", "method": "POST", "times": 1}])
    world.clear_calls()

    run = world.run(MAPPING)

    bulk = [r for r in world.jira_emulator.requests() if r["method"] == "POST" and r["path"].endswith("/issue/bulk")]
    assert [r["fault"] for r in bulk] == ["429", None], "refused once, then sent again and created"
    assert bulk[1]["t"] - bulk[0]["t"] >= 2.0, "the resend came no sooner than Retry-After said"
    assert _task(run, "load_jira").try_number == 1, "waited inside the hook, not by an Airflow retry"
    jira = world.xcom(run, "report")["api_usage"]["jira"]
    assert jira["retries"] == {"HTTP 429": 1} and jira["waited_s"] >= 2.0
    epics = world.issues("project = DEL", "customfield_10050")
    assert sorted(e["fields"]["customfield_10050"] for e in epics) == sorted(opps)
