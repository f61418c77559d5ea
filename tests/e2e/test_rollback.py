"""Issue 12, must show 4: the rollback of a run, end to end (real DAG runs against the emulators, on the
SQLite and the PostgreSQL state store).

A mapping edit maps the wrong fields: Jira's `summary` is fed from Salesforce `Origin` (keeping the
field's key, so the sync takes it for the same field) and Salesforce `Description` from an empty Jira
field. A full resync with it corrupts every record on both sides: every issue's summary becomes "Web",
every case's Description is cleared. The good mapping is put back and the run is rolled back:

- the dry run writes nothing and leaves a readable diff naming the restores and the fields changed since;
- the rollback restores every field the run wrote to the value it replaced, in chunks (one search and
  one PUT per issue per 50 issues, one SOQL and one collection PATCH per 200 records), and ledgers each
  write (cause `rollback`, before = the corrupted value, after = the restored one);
- a summary and a Description a person edited after the bad run are left alone and reported (restore
  counts, a `skip` ledger row each, the diff);
- the next sync carries the two person edits across -- and only them: the rollback leaves the agreed
  state at the values it restored, so nothing else is written -- and a reconciliation then finds zero
  drift (before that sync the two edits are legitimately drift: each side holds another value);
- rolling the rollback back returns both sides to the corrupted snapshot exactly, but for the two
  person-edited fields and the two fields the sync carried them to, which neither rollback wrote;
- a rollback SIGKILLed while the emulator holds back a PUT's answer (the write landed, the task never
  heard of it) is finished by running the same DAG run again: every field restored, each issue PUT
  and each record PATCHed exactly once across both attempts, one ledger row per restored field.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from sfjira.dag_factory import rollback_dag
from sfjira.rollback.restore import CHANGED_SINCE, UPDATE_CHUNK
from sfjira.state import audit as trail
from tests.e2e.world import SHIPPED_MAPPINGS, World, kill_dag_test_while_held, make_cases
from tests.e2e_reconcile.recon import Recon

MAPPING = "case_to_bug"
N = 300
SF_FIELDS = ("Subject", "Description", "Priority", "Status", "Origin", "Jira_Key__c")
JIRA_FIELDS = ("summary", "description", "priority", "status", "customfield_10050", "customfield_10054",
               "customfield_10057")
PERSON_SUMMARY = "Edited in Jira by a person after the bad run"
PERSON_DESCRIPTION = "Edited in Salesforce by a person after the bad run"
SEARCH, PUT = "GET /rest/api/3/search/jql", "PUT /rest/api/3/issue/{issueIdOrKey}"
SOQL, PATCH = "GET /services/data/{version}/query", "PATCH /services/data/{version}/composite/sobjects"
JIRA_READ, SF_READ = 100, 200  # issues per search, records per SOQL and per collection PATCH

Snapshot = dict[str, dict[str, dict[str, Any]]]


def _bad_mapping() -> str:
    good = (SHIPPED_MAPPINGS / f"{MAPPING}.yaml").read_text()
    bad = good.replace("  - salesforce: Subject\n    jira: summary\n",
                       "  - salesforce: Origin\n    key: Subject\n    jira: summary\n") \
        .replace("  - salesforce: Description\n    jira: description\n",
                 "  - salesforce: Description\n    jira: customfield_10057\n")
    assert bad.count("customfield_10057") == 1 and "key: Subject" in bad
    return bad


def _snapshot(world: World) -> Snapshot:
    """Every case and every SUP issue, as each API returns them (the fields the mappings touch)."""
    cases = world.sf.query(f"SELECT Id, {', '.join(SF_FIELDS)} FROM Case")
    issues = world.issues("project = SUP", ",".join(JIRA_FIELDS))
    return {"salesforce": {c["Id"]: {f: c.get(f) for f in SF_FIELDS} for c in cases},
            "jira": {i["key"]: {f: i["fields"].get(f) for f in JIRA_FIELDS} for i in issues}}


def _corrupt(world: World, n: int) -> tuple[list[str], Snapshot, Snapshot, str]:
    """n cases synced, then the bad mapping's full resync: (ids, snapshot before, snapshot after, its run id)."""
    ids = make_cases(world.sf, n)
    world.run(MAPPING)
    good = _snapshot(world)
    assert len(good["salesforce"]) == len(good["jira"]) == n
    world.add_mapping(MAPPING, _bad_mapping())
    bad_run = world.run(MAPPING, full=True)
    corrupted = _snapshot(world)
    world.add_mapping(MAPPING, (SHIPPED_MAPPINGS / f"{MAPPING}.yaml").read_text())
    # Every record corrupted on both sides, and nothing else changed.
    assert all(corrupted["jira"][k]["summary"] == "Web" != good["jira"][k]["summary"] for k in good["jira"])
    assert all(not corrupted["salesforce"][i]["Description"] and good["salesforce"][i]["Description"]
               for i in ids)
    assert _differences(good, corrupted) == {("jira", k, "summary") for k in good["jira"]} | \
        {("salesforce", i, "Description") for i in ids}
    return ids, good, corrupted, bad_run.dag_run.run_id


def _differences(a: Snapshot, b: Snapshot) -> set[tuple[str, str, str]]:
    assert {s: set(a[s]) for s in a} == {s: set(b[s]) for s in b}, "the same records on both sides"
    return {(side, record, f) for side in a for record in a[side] for f in a[side][record]
            if a[side][record][f] != b[side][record][f]}


def _rollback(world: World, target: str, *, dry_run: bool = False, run_after: dt.datetime | None = None) -> Any:
    return world.run(MAPPING, dag=rollback_dag(world.mapping(MAPPING)), dry_run=dry_run, run_after=run_after,
                     conf={"run": target})


def _rollback_rows(world: World, run_id: str) -> pd.DataFrame:
    rows = trail.audit(world.store, mapping=MAPPING, run=run_id)
    assert set(rows["cause"]) <= {"rollback"}, set(rows["cause"])
    return rows


def _calls(world: World) -> dict[str, Counter[str]]:
    return {"jira": Counter(world.jira_emulator.calls()["by_endpoint"]),
            "salesforce": Counter(world.sf_emulator.calls()["by_endpoint"])}


def test_a_bad_mapping_edit_is_rolled_back_on_both_sides(world: World) -> None:
    ids, good, corrupted, bad = _corrupt(world, N)
    keys = sorted(good["jira"])
    edited_issue, edited_case = keys[0], ids[1]
    edited_issue_case = corrupted["jira"][edited_issue]["customfield_10050"]
    edited_case_key = corrupted["salesforce"][edited_case]["Jira_Key__c"]
    assert edited_issue_case != edited_case
    world.jira.ok("PUT", f"/issue/{edited_issue}", json={"fields": {"summary": PERSON_SUMMARY}})
    world.sf.update("Case", edited_case, Description=PERSON_DESCRIPTION)
    person = {("jira", edited_issue, "summary"): PERSON_SUMMARY,
              ("salesforce", edited_case, "Description"): PERSON_DESCRIPTION}

    # The dry run: nothing written, a readable diff.
    world.clear_calls()
    dry = _rollback(world, bad, dry_run=True)
    assert world.writes() == {"salesforce": {}, "jira": {}}
    assert world.xcom(dry, "plan")["fields"] == {"restore": 2 * N - 2, "changed_since": 2}
    assert _snapshot(world) == _with(corrupted, person)
    diff = Path(world.xcom(dry, "plan")["diff"].removeprefix("file://")).read_text()
    assert diff.startswith(f"# Rollback of {MAPPING}/{bad} (dry run: nothing written)")
    assert f"## Restored to the before-image ({2 * N - 2})" in diff
    changed = diff.split("## Changed since, left alone (2)\n")[1].split("\n## ")[0]
    assert f"| jira | {edited_issue} | summary | {PERSON_SUMMARY} | Web | " \
           f"{good['jira'][edited_issue]['summary']} |" in changed
    assert f"| salesforce | {edited_case} | Description | {PERSON_DESCRIPTION} |  | " in changed
    restored_lines = diff.split("## Restored to the before-image")[1].split("\n## ")[0]
    assert sum(line.startswith("| jira | ") for line in restored_lines.splitlines()) == N - 1
    assert sum(line.startswith("| salesforce | ") for line in restored_lines.splitlines()) == N - 1

    # The rollback: every field back but the two a person changed since, which are reported.
    world.clear_calls()
    done = _rollback(world, bad)
    calls, wrote = _calls(world), world.writes()  # before this test's own reads add to them
    restored = world.xcom(done, "restore")
    for side in ("jira", "salesforce"):
        assert restored[side] == {**dict.fromkeys(restored[side], 0), "restored": N - 1, "changed_since": 1}, side
    after = _snapshot(world)
    assert after == _with(good, person), sorted(_differences(_with(good, person), after))[:10]
    # plan: one search per 100 issues, one SOQL per 200 records; restore: the same per chunk (50 issues,
    # 200 records) just before writing, one PUT per restored issue, one PATCH per chunk of records.
    assert calls["jira"][SEARCH] == math.ceil(N / JIRA_READ) + math.ceil(N / UPDATE_CHUNK)
    assert calls["jira"][PUT] == N - 1
    assert calls["salesforce"][SOQL] == 2 * math.ceil(N / SF_READ)
    assert calls["salesforce"][PATCH] == math.ceil(N / SF_READ)
    assert wrote == {"jira": {PUT: N - 1}, "salesforce": {PATCH: math.ceil(N / SF_READ)}}

    rows = _rollback_rows(world, done.dag_run.run_id)
    writes = rows[rows["action"] == "update"]
    assert Counter(zip(writes["side"], writes["field"], strict=True)) == {("jira", "summary"): N - 1,
                                                                          ("salesforce", "Description"): N - 1}
    assert not writes.duplicated(["side", "sf_id", "field"]).any()
    images = {(w.side, w.jira_key if w.side == "jira" else w.sf_id, w.field): (_none(w.before), w.after)
              for w in writes.itertuples()}
    assert images == {(side, record, f): (corrupted[side][record][f], good[side][record][f])
                      for side, record, f in _differences(good, corrupted) if (side, record, f) not in person}
    skips = rows[rows["action"] == "skip"]
    assert sorted(zip(skips["side"], skips["field"], skips["before"], strict=True)) == [
        ("jira", "summary", PERSON_SUMMARY), ("salesforce", "Description", PERSON_DESCRIPTION)]
    assert {(r.side, r.jira_key if r.side == "jira" else r.sf_id) for r in skips.itertuples()} == {
        ("jira", edited_issue), ("salesforce", edited_case)}
    assert all(CHANGED_SINCE in r for r in skips["reason"])
    assert set(rows["action"]) == {"update", "skip"}

    # The next sync carries the two person edits across, and writes nothing else.
    world.clear_calls()
    world.run(MAPPING)
    assert world.writes() == {"jira": {PUT: 1}, "salesforce": {PATCH: 1}}
    carried = {("salesforce", edited_issue_case, "Subject"): PERSON_SUMMARY}
    synced = _snapshot(world)
    assert synced["salesforce"][edited_issue_case]["Subject"] == PERSON_SUMMARY
    assert PERSON_DESCRIPTION in json.dumps(synced["jira"][edited_case_key]["description"])
    carried[("jira", edited_case_key, "description")] = synced["jira"][edited_case_key]["description"]
    assert synced == _with(good, {**person, **carried})
    recon = Recon(world.sf_emulator, world.jira_emulator, world.mappings_dir, world.storage_dir)
    recon.__dict__["store"] = world.store
    report = recon.reconcile(MAPPING)
    assert report.counts == dict.fromkeys(report.counts, 0), report.rows.head(10).to_dict("records")
    assert report.report["summary"]["pairs"] == N

    # Rolling the rollback back: the corrupted state again, bar what neither rollback wrote.
    again = _rollback(world, done.dag_run.run_id)
    assert world.xcom(again, "restore")["jira"]["restored"] == N - 1
    assert _snapshot(world) == _with(corrupted, {**person, **carried})


def _none(value: Any) -> Any:
    """The audit frame's missing value (NaN) as the API's (None)."""
    return None if isinstance(value, float) and math.isnan(value) else value


def _with(snapshot: Snapshot, values: dict[tuple[str, str, str], Any]) -> Snapshot:
    out = {side: {r: dict(v) for r, v in records.items()} for side, records in snapshot.items()}
    for (side, record, f), value in values.items():
        out[side][record][f] = value
    return out


def _kill_rollback_while_held(world: World, conf: dict[str, Any], skip: int, log_path: Path) -> str:
    """`airflow dags test` of the rollback DAG, SIGKILLed once the emulator handled the (skip+1)th issue PUT
    and holds its answer back. Returns the killed DAG run's id."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    from sfjira.dag_factory import covering_logical_date

    logical = covering_logical_date(world.mapping(MAPPING).schedule, dt.datetime.now(dt.UTC))
    dag_id = f"sfjira_rollback__{MAPPING}"
    kill_dag_test_while_held(world.jira_emulator, {"path": r"/issue/[^/]+$", "method": "PUT", "skip": skip},
                             dag_id, logical, log_path, conf)
    with create_session() as session:  # dag.test() replaces any run of the DAG at that logical date: one
        (run_id,) = [r.run_id for r in session.query(DagRun).filter(DagRun.dag_id == dag_id,
                                                                    DagRun.logical_date == logical)]
    return str(run_id)


def test_a_rollback_killed_mid_write_is_finished_by_its_rerun_without_a_duplicate_write(
        world: World, tmp_path: Path) -> None:
    n = 120  # three chunks of 50 issues; the kill comes in the second
    ids, good, corrupted, bad = _corrupt(world, n)
    world.clear_calls()

    killed = _kill_rollback_while_held(world, {"run": bad, "dry_run": False}, UPDATE_CHUNK + 10,
                                       tmp_path / "killed.log")

    now = _snapshot(world)
    landed = {k for k in good["jira"] if now["jira"][k]["summary"] == good["jira"][k]["summary"]}
    assert len(landed) == UPDATE_CHUNK + 11, "the first chunk and 11 issues of the second were restored"
    assert _differences(corrupted, now) == {("jira", k, "summary") for k in landed}, "Salesforce not yet"
    pending = world.store.pending_intents(MAPPING)
    assert list(zip(pending["side"], pending["chunk"], strict=True)) == [("jira", 1)]

    run_after = dt.datetime.fromisoformat(killed.removeprefix("manual__"))
    rerun = _rollback(world, bad, run_after=run_after)

    assert rerun.dag_run.run_id == killed
    assert _snapshot(world) == good
    assert world.store.pending_intents(MAPPING).empty
    puts = Counter(r["path"] for r in world.jira_emulator.requests() if r["method"] == "PUT")
    assert len(puts) == n and set(puts.values()) == {1}, "each issue PUT once across both attempts"
    patches = [r for r in world.sf_emulator.requests() if r["method"] == "PATCH"]
    assert len(patches) == math.ceil(n / SF_READ), "each record PATCHed once (one collection call per 200)"
    rows = _rollback_rows(world, killed)
    writes = rows[rows["action"] == "update"]
    assert Counter(zip(writes["side"], writes["field"], strict=True)) == {("jira", "summary"): n,
                                                                          ("salesforce", "Description"): n}
    assert not writes.duplicated(["side", "sf_id", "field"]).any(), "one ledger row per restored field"
    assert set(rows["action"]) == {"update"}
    assert all(w.before == "Web" for w in writes[writes["side"] == "jira"].itertuples())
