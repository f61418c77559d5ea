"""The mappings folder (SFJIRA_MAPPINGS_DIR) as Airflow sees it: a sync and a reconciliation DAG per
mapping file, and an invalid file shows up as an import error carrying the mapping's own message
(file:line, field, what is allowed) -- never as a silently missing DAG, and never taking the other
mappings' DAGs down with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.world import REPO, copy_shipped_mappings


def _dagbag(mappings: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN202 - airflow DagBag
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("SFJIRA_MAPPINGS_DIR", str(mappings))
    return DagBag(dag_folder=str(REPO / "dags"))


def test_each_mapping_file_yields_its_sync_dag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bag = _dagbag(copy_shipped_mappings(tmp_path / "mappings"), monkeypatch)
    assert bag.import_errors == {}
    assert {"sfjira_sync__case_to_bug", "sfjira_sync__opportunity_to_epic"} <= set(bag.dag_ids)
    tasks = bag.dags["sfjira_sync__case_to_bug"].task_ids
    assert sorted(tasks) == sorted(["extract_salesforce", "extract_jira", "transform", "plan", "load_jira",
                                    "load_salesforce", "report"])


def test_invalid_mapping_is_an_import_error_with_the_mapping_message(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    mappings = copy_shipped_mappings(tmp_path / "mappings")
    bad = mappings / "case_to_bug.yaml"
    lines = bad.read_text().splitlines(keepends=True)
    line = next(n for n, text in enumerate(lines, start=1) if "owner: jira                   # triage" in text)
    lines[line - 1] = "    owner: nobody\n"
    bad.write_text("".join(lines))

    bag = _dagbag(mappings, monkeypatch)

    errors = {Path(path).name: message for path, message in bag.import_errors.items()}
    assert set(errors) == {"sfjira_mapping_errors.py"}
    message = errors["sfjira_mapping_errors.py"]
    assert f"{bad}:{line}: field `fields[2].owner`" in message
    assert "[MAPPING_INVALID] `nobody` is not allowed here" in message
    assert "fix: use one of: salesforce, jira, latest" in message
    assert "sfjira_sync__case_to_bug" not in bag.dag_ids
    # The good mapping keeps both its DAGs, from a file without an import error.
    assert {"sfjira_sync__opportunity_to_epic", "sfjira_reconcile__opportunity_to_epic"} <= set(bag.dag_ids)


def test_every_broken_mapping_is_listed_and_good_ones_keep_their_dags(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    mappings = copy_shipped_mappings(tmp_path / "mappings")
    (mappings / "broken_a.yaml").write_text("name: broken_a\nsalesforce: {object: Case}\n")
    (mappings / "broken_b.yaml").write_text("name: [not, a, name]\n")

    bag = _dagbag(mappings, monkeypatch)

    errors = {Path(path).name: message for path, message in bag.import_errors.items()}
    assert set(errors) == {"sfjira_mapping_errors.py"}
    assert str(mappings / "broken_a.yaml") in errors["sfjira_mapping_errors.py"]
    assert str(mappings / "broken_b.yaml") in errors["sfjira_mapping_errors.py"]
    assert {f"sfjira_{kind}__{name}" for kind in ("sync", "reconcile")
            for name in ("case_to_bug", "opportunity_to_epic")} <= set(bag.dag_ids)
