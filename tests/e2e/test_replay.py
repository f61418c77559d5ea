"""Must-show 3 of issue 11: a dead-letter queue with a life cycle. Unmapped picklist values are
rejected; the mapping gains one of them; a run with the `replay_rejects` Param reads the rejected
records by id (they are outside its window) and lands the fixed one, whose reject closes; a record
that still fails keeps one row with its latest reason and attempt count; one that now fails for
another reason closes the old reject and opens the new one. A later ordinary run closes the reject of
a record whose data was fixed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pandas as pd

from sfjira.cli.rejects import trigger_command
from tests.e2e.world import SQLITE_STATE_ONLY, Run, World, make_opportunities

pytestmark = [SQLITE_STATE_ONLY]

UNMAPPED = ["Closed Lost", "Closed Won", "Negotiation/Review"]
LONG_AGO = "2025-01-01T00:00:00Z"


def _value_map_without(stages: list[str]) -> list[tuple[str, str]]:
    return [(f"      {s}: {s}\n", "") for s in stages]


def _replay(world: World, name: str) -> Run:
    return world.run(name, conf={"replay_rejects": True})


def _by_code(world: World, name: str) -> pd.DataFrame:
    return world.store.rejects(name, include_resolved=True).set_index(["record_id", "code"]).sort_index()


def test_replay_lands_fixed_records_and_keeps_the_failing_ones(world: World) -> None:
    world.variant("opportunity_to_epic", "replay_check", _value_map_without(UNMAPPED))
    lost, won, nego, fine = make_opportunities(world.sf, 4, stages=[*UNMAPPED, "Prospecting"])

    first = world.run("replay_check")
    rejects = world.store.rejects("replay_check").set_index("record_id")
    assert sorted(rejects.index) == sorted([lost, won, nego])
    assert set(rejects["code"]) == {"VALUE_UNMAPPED"} and set(rejects["attempts"]) == {1}
    assert first.summary["status"] == "partial"
    # The rejected records were last changed long ago: no window reads them again, only a replay.
    for record in (lost, won, nego):
        world.sf_emulator.admin("POST", "backdate", {"id": record, "SystemModstamp": LONG_AGO})
    # The mapping learns Closed Lost, maps Closed Won to a value the Jira select refuses, still lacks the third.
    world.variant("opportunity_to_epic", "replay_check", [*_value_map_without(["Negotiation/Review"]),
                                                          ("Closed Won: Closed Won", "Closed Won: Won")])

    world.run("replay_check")  # an ordinary run: the rejected records are not in its window
    untouched = world.store.rejects("replay_check")
    assert sorted(untouched["record_id"]) == sorted([lost, won, nego]) and set(untouched["attempts"]) == {1}

    replay = _replay(world, "replay_check")
    written = world.store.ledger(run_id=replay.summary["run_id"])
    assert len(written) and set(written["cause"]) == {"replay"}  # the audit trail says why

    epics = {e["fields"]["customfield_10050"]: e for e in world.issues("project = DEL", "customfield_10050,"
                                                                        "customfield_10055")}
    assert set(epics) == {fine, lost}
    assert epics[lost]["fields"]["customfield_10055"]["value"] == "Closed Lost"
    assert world.sf.get("Opportunity", lost)["Jira_Key__c"] == epics[lost]["key"]
    rows = _by_code(world, "replay_check")
    closed = rows.loc[(lost, "VALUE_UNMAPPED")]
    assert bool(closed["resolved"]) and pd.notna(closed["resolved_at"])
    still = rows.loc[(nego, "VALUE_UNMAPPED")]
    assert not bool(still["resolved"]) and still["attempts"] == 2
    assert still["first_run"] == first.summary["run_id"] and still["last_run"] == replay.summary["run_id"]
    assert still["last_seen"] > still["first_seen"]
    assert still["message"].startswith("Salesforce StageName has no entry in the value map of `StageName`")
    # Closed Won got past the value map and now fails in Jira: that is its open reject, the old one closed.
    assert bool(rows.loc[(won, "VALUE_UNMAPPED"), "resolved"])
    refused = rows.loc[(won, "400")]
    assert not bool(refused["resolved"]) and refused["attempts"] == 1 and refused["side"] == "jira"
    assert refused["message"] == "Option value 'Won' is not valid"
    assert sorted(world.store.rejects("replay_check")["record_id"]) == sorted([won, nego])

    # The data is fixed in Salesforce: the next ordinary run syncs the record and closes its reject.
    world.sf.update("Opportunity", nego, StageName="Qualification")
    world.run("replay_check")
    assert list(world.store.rejects("replay_check")["record_id"]) == [won]
    assert bool(_by_code(world, "replay_check").loc[(nego, "VALUE_UNMAPPED"), "resolved"])
    assert nego in {e["fields"]["customfield_10050"] for e in world.issues("project = DEL", "customfield_10050")}


def test_cli_lists_rejects_and_replay_triggers_the_sync_dag(world: World) -> None:
    world.variant("opportunity_to_epic", "replay_cli", _value_map_without(["Closed Lost"]))
    (lost,) = make_opportunities(world.sf, 1, stages=["Closed Lost"])
    world.run("replay_cli")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    sfjira = Path(trigger_command("x")[0]).parent / "sfjira"

    listed = subprocess.run([str(sfjira), "rejects", "--mapping", "replay_cli", "--format", "csv"], env=env,
                            capture_output=True, text=True, timeout=120, cwd=Path.home())
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.strip().splitlines()
    assert header == "side,record_id,code,field,message,fix,attempts,first_seen,last_seen"
    assert row.startswith(f"salesforce,{lost},VALUE_UNMAPPED,StageName,") and ",1," in row

    triggered = subprocess.run([str(sfjira), "replay", "--mapping", "replay_cli"], env=env, capture_output=True,
                               text=True, timeout=300, cwd=Path.home())
    assert triggered.returncode == 0, triggered.stderr
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id == "sfjira_sync__replay_cli").all()
        assert any((r.conf or {}).get("replay_rejects") is True for r in runs), [r.conf for r in runs]
