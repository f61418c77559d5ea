"""A `salesforce.where` that is not one SOQL condition stops its mapping's DAGs at parse time, with
the mapping error (file:line, field, WHERE_INVALID, fix) as the import error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.world import REPO, copy_shipped_mappings


def test_a_widening_where_is_an_import_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    mappings = copy_shipped_mappings(tmp_path / "mappings")
    bad = mappings / "case_to_bug.yaml"
    text = bad.read_text()
    assert text.count("  jira_key_field: Jira_Key__c\n") == 1
    bad.write_text(text.replace("  jira_key_field: Jira_Key__c\n",
                                "  where: \"Origin = 'Web') OR (Id != null\"\n  jira_key_field: Jira_Key__c\n"))
    line = next(n for n, row in enumerate(bad.read_text().splitlines(), start=1) if row.startswith("  where:"))
    monkeypatch.setenv("SFJIRA_MAPPINGS_DIR", str(mappings))

    bag = DagBag(dag_folder=str(REPO / "dags"))

    messages = "\n".join(bag.import_errors.values())
    assert f"{bad}:{line}: field `salesforce.where`: [WHERE_INVALID]" in messages
    assert "this `)` closes no `(` of the condition" in messages and "fix: write one SOQL condition" in messages
    assert "sfjira_sync__case_to_bug" not in bag.dag_ids
    assert "sfjira_sync__opportunity_to_epic" in bag.dag_ids
