"""Issue 12 point 3, the issues a run created and the CLI: `sfjira rollback` (the DAG's steps from a
shell) prints the dry run's diff and writes nothing; with --apply and `--created delete` the issues the
run created are deleted, the keys it wrote back onto the records removed and the links dropped; with
`label` they stay, linked, carrying the rollback label; an issue a person changed since is never deleted."""

from __future__ import annotations

import pytest

from sfjira.cli import main
from sfjira.rollback.plan import ROLLBACK_LABEL
from tests.e2e.world import SQLITE_STATE_ONLY, World, make_cases

pytestmark = [SQLITE_STATE_ONLY]

MAPPING = "case_to_bug"


def _rollback(world: World, run_id: str, *extra: str) -> int:
    return main(["rollback", "--mapping", str(world.mappings_dir / f"{MAPPING}.yaml"), "--run", run_id, *extra])


def _key(world: World, case_id: str) -> str | None:
    return world.sf.get("Case", case_id)["Jira_Key__c"]


def test_the_cli_dry_run_writes_nothing_and_delete_removes_the_issues_and_their_keys(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    ids = make_cases(world.sf, 3)
    created = world.run(MAPPING)
    keys = [_key(world, i) for i in ids]
    assert all(keys)
    world.jira.ok("PUT", f"/issue/{keys[2]}", json={"fields": {"summary": "Triaged by a person"}})
    capsys.readouterr()
    world.clear_calls()

    assert _rollback(world, created.dag_run.run_id, "--created", "delete") == 0
    diff = capsys.readouterr().out
    assert world.writes() == {"salesforce": {}, "jira": {}}, "a dry run writes nothing"
    assert "(dry run: nothing written)" in diff
    assert f"- {keys[0]} (Salesforce {ids[0]}): deleted, its key removed from the record" in diff
    assert f"- {keys[2]} (Salesforce {ids[2]}): changed since the run, left alone (policy delete)" in diff

    assert _rollback(world, created.dag_run.run_id, "--created", "delete", "--apply") == 0
    for case_id, key in zip(ids[:2], keys[:2], strict=True):
        assert world.jira("GET", f"/issue/{key}").status_code == 404
        assert _key(world, case_id) is None, "the key write-back is reverted"
        assert world.sf.get("Case", case_id)["Jira_Url__c"] is None
    # The issue a person changed stays, linked and carrying its key.
    assert world.issue(keys[2])["fields"]["summary"] == "Triaged by a person"
    assert _key(world, ids[2]) == keys[2]
    links = world.store.links(MAPPING)
    assert sorted(links["sf_id"]) == [ids[2]]


def test_label_keeps_the_created_issues_linked_and_marks_them(world: World) -> None:
    ids = make_cases(world.sf, 2)
    created = world.run(MAPPING)
    assert _rollback(world, created.dag_run.run_id, "--created", "label", "--apply") == 0
    for case_id in ids:
        key = _key(world, case_id)
        assert key, "a labelled issue keeps its key on the record"
        labels = world.jira.issue(key, fields="labels")["fields"]["labels"]
        assert ROLLBACK_LABEL in labels
    assert len(world.store.links(MAPPING, state="active")) == 2


def test_an_unknown_run_is_refused_with_its_code(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    make_cases(world.sf, 1)
    world.run(MAPPING)
    assert _rollback(world, "manual__no-such-run") == 2
    assert "[ROLLBACK_RUN_UNKNOWN]" in capsys.readouterr().err
