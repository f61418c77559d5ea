"""Issue 14 point 1: windows and loads above the thresholds go through Salesforce Bulk API 2.0.

With `[sfjira] bulk_query_threshold` and `bulk_write_threshold` set low: a window above the first is
read by a queryAll job (and a later full resync through REST finds nothing to write, so both paths
read the same values); a load above the second writes through an ingest job whose failed rows become
rejects with Salesforce's code while the rest land; and a task killed while its job runs is finished
by the re-run of its DAG run (which plans again, under a new state-store run) from the job id the
killed attempt's pending intent kept, without a second job.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.world import SQLITE_STATE_ONLY, World, kill_dag_test_while_held, make_opportunities

pytestmark = [SQLITE_STATE_ONLY]

MAPPING = "opportunity_to_epic"
THRESHOLD = 3
# The Jira-deleted policy flags the record with a stage Salesforce's restricted picklist refuses: that
# row of the ingest job fails, the others land.
REFUSED_FLAG = ("  jira_deleted: clear_key ",
                "  jira_deleted: {action: flag, field: StageName, value: Deleted in Jira} ")


@pytest.fixture
def low_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SFJIRA__BULK_QUERY_THRESHOLD", str(THRESHOLD))
    monkeypatch.setenv("AIRFLOW__SFJIRA__BULK_WRITE_THRESHOLD", str(THRESHOLD))


def _job_creates(world: World) -> Counter[str]:
    return Counter(r["path"].rsplit("/", 1)[1] for r in world.sf_emulator.requests()
                   if r["method"] == "POST" and r["path"].rstrip("/").endswith(("/jobs/query", "/jobs/ingest")))


def _keys(world: World) -> dict[str, str | None]:
    return {r["Id"]: r["Jira_Key__c"] for r in world.sf.query("SELECT Id, Jira_Key__c FROM Opportunity")}


def _epics(world: World) -> dict[str, str]:
    return {e["fields"]["customfield_10050"]: e["key"] for e in world.issues("project = DEL")}


@pytest.mark.usefixtures("low_thresholds")
def test_a_window_above_the_threshold_is_read_and_written_through_bulk_jobs(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    opps = make_opportunities(world.sf, 6)
    world.sf_emulator.admin("DELETE", "requests")

    run = world.run(MAPPING)

    extract = world.xcom(run, "extract_salesforce")
    assert (extract["read_path"], extract["window_count"], extract["changed"]) == ("bulk", 6, 6)
    assert world.xcom(run, "load_salesforce")["write_path"] == "bulk"
    assert _job_creates(world) == {"query": 1, "ingest": 1}
    epics = _epics(world)
    assert set(epics) == set(opps) and _keys(world) == epics, "one epic per opportunity, keys written back"
    calls = world.xcom(run, "report")["api_calls"]
    # The emulator completes a job on its first status read: the calls are the protocol minimum, each step's
    # token and the API budget's /limits read counted in it, as on the REST path.
    sf = calls["salesforce"]
    assert calls["used"]["salesforce"] == calls["minimum"]["salesforce"], sf
    jobs = "/services/data/v62.0/jobs"
    assert {e: n for e, n in sf.items() if "/jobs/" in e or e.endswith("/describe")} == {
        f"POST {jobs}/query": 1, f"GET {jobs}/query/{{id}}": 1, f"GET {jobs}/query/{{id}}/results": 1,
        # The CSV is typed back by the describes of Opportunity and of Account (the Account.Name field).
        "GET /services/data/v62.0/sobjects/Opportunity/describe": 1,
        "GET /services/data/v62.0/sobjects/Account/describe": 1,
        f"POST {jobs}/ingest": 1, f"PUT {jobs}/ingest/{{id}}/batches": 1, f"PATCH {jobs}/ingest/{{id}}": 1,
        f"GET {jobs}/ingest/{{id}}": 1, f"GET {jobs}/ingest/{{id}}/successfulResults": 1,
        f"GET {jobs}/ingest/{{id}}/failedResults": 1}
    assert calls["salesforce"]["GET /services/data/v62.0/queryAll"] == 1, "the COUNT(), no REST page"
    intents = world.store.intents(MAPPING, side="salesforce")
    assert list(intents["status"]) == ["completed"]

    # Through REST the same window reads the same values: a full resync finds nothing to write.
    monkeypatch.setenv("AIRFLOW__SFJIRA__BULK_QUERY_THRESHOLD", "10000")
    world.clear_calls()
    again = world.run(MAPPING, full=True)
    assert world.xcom(again, "extract_salesforce")["read_path"] == "rest"
    assert world.writes() == {"salesforce": {}, "jira": {}}


@pytest.mark.usefixtures("low_thresholds")
def test_a_query_job_is_read_in_result_sets_of_a_part(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # A result set is held whole while it is typed: the extract asks for sets of `[sfjira] part_records`
    # records, so its memory is a part's, and the report's minimum counts one results read per set.
    monkeypatch.setenv("AIRFLOW__SFJIRA__PART_RECORDS", "4")
    make_opportunities(world.sf, 6)
    world.sf_emulator.admin("DELETE", "requests")

    run = world.run(MAPPING)

    extract = world.xcom(run, "extract_salesforce")
    assert (extract["read_path"], extract["bulk_page"], extract["changed"], extract["parts"]) == ("bulk", 4, 6, 2)
    calls = world.xcom(run, "report")["api_calls"]
    assert calls["salesforce"]["GET /services/data/v62.0/jobs/query/{id}/results"] == 2
    assert calls["used"]["salesforce"] == calls["minimum"]["salesforce"], calls["salesforce"]


@pytest.mark.usefixtures("low_thresholds")
def test_a_refused_row_of_an_ingest_job_becomes_a_reject_and_the_rest_land(world: World) -> None:
    world.variant(MAPPING, MAPPING, [REFUSED_FLAG])
    opps = make_opportunities(world.sf, 5)
    world.run(MAPPING)
    epics = _epics(world)
    gone, moved = opps[0], opps[1:]
    world.jira.ok("DELETE", f"/issue/{epics[gone]}")
    world.sf.update("Opportunity", gone, Name="Renamed after its epic went")
    for sf_id in moved:
        world.transition(epics[sf_id], "In Progress")
    world.sf_emulator.admin("DELETE", "requests")

    run = world.run(MAPPING)

    load = world.xcom(run, "load_salesforce")
    assert (load["write_path"], load["sf_updated"], load["sf_rejected"]) == ("bulk", 4, 1)
    assert _job_creates(world)["ingest"] == 1
    stages = {r["Id"]: r for r in world.sf.query("SELECT Id, StageName, Jira_Status__c FROM Opportunity")}
    assert {stages[i]["Jira_Status__c"] for i in moved} == {"In Progress"}
    assert stages[gone]["StageName"] != "Deleted in Jira"
    rejects = world.store.rejects(MAPPING).set_index("record_id")
    assert list(rejects.index) == [gone]
    assert rejects.loc[gone, "side"] == "salesforce" and "PICKLIST" in rejects.loc[gone, "code"]
    assert rejects.loc[gone, "field"] == "StageName"
    assert run.summary["status"] == "partial"


@pytest.mark.usefixtures("low_thresholds")
def test_a_killed_load_is_finished_from_its_ingest_job_without_a_second_one(world: World, tmp_path: Path) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    from sfjira.dag_factory import covering_logical_date

    opps = make_opportunities(world.sf, 5)
    world.sf_emulator.admin("DELETE", "requests")
    logical = covering_logical_date(world.mapping(MAPPING).schedule, dt.datetime.now(dt.UTC))
    dag_id = f"sfjira_sync__{MAPPING}"
    # Killed once the job is closed (UploadComplete: Salesforce processes it) and its answer held back.
    kill_dag_test_while_held(world.sf_emulator, {"path": r"/jobs/ingest/[^/]+/?$", "method": "PATCH"}, dag_id,
                             logical, tmp_path / "killed.log")
    with create_session() as session:
        (killed,) = [r.run_id for r in session.query(DagRun).filter(DagRun.dag_id == dag_id,
                                                                   DagRun.logical_date == logical)]
    pending = world.store.pending_intents(MAPPING, "salesforce")
    assert list(pending["op"]) == ["update"]
    (job,) = [r["bulk_job"] for r in pending["result"]]
    assert job and _job_creates(world)["ingest"] == 1

    rerun = world.run(MAPPING, run_after=dt.datetime.fromisoformat(str(killed).removeprefix("manual__")))

    assert rerun.dag_run.run_id == killed
    assert _job_creates(world)["ingest"] == 1, "the re-run collected the killed attempt's job"
    assert any(r["method"] == "GET" and r["path"].endswith(f"/jobs/ingest/{job}") for r in world.sf_emulator.requests())
    epics = _epics(world)
    assert set(epics) == set(opps) and _keys(world) == epics
    assert world.store.pending_intents(MAPPING).empty
    assert world.store.rejects(MAPPING).empty
