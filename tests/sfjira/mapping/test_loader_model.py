"""Loading a directory (what the DAG factory calls) and the Mapping's derived views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from sfjira.exceptions import MappingError
from sfjira.mapping import MappingProblems, iter_mappings, load_all, load_mapping
from sfjira.mapping.yamlsrc import format_path, load_yaml
from tests.sfjira.mapping.conftest import BASE, SHIPPED


def test_load_all_lists_every_problem_of_every_file(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(BASE)
    (tmp_path / "bad_one.yaml").write_text(BASE.replace("name: demo", "name: one") + "    type: money\n")
    (tmp_path / "bad_two.yml").write_text(BASE.replace("name: demo", "name: two").replace("project: SUP", "project: x"))
    with pytest.raises(MappingProblems) as caught:
        load_all(tmp_path)
    text = str(caught.value)
    assert f"{tmp_path / 'bad_one.yaml'}:15: field `fields[0].type`" in text
    assert f"{tmp_path / 'bad_two.yml'}:6: field `jira.project`" in text
    assert len(caught.value.errors) == 2
    assert isinstance(caught.value, MappingError)  # one except clause catches every mapping problem


def test_iter_mappings_keeps_good_files_and_reports_bad_ones(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BASE)
    (tmp_path / "b.yaml").write_text(BASE.replace("project: SUP", "project: x"))
    (tmp_path / "c.yaml").write_text(BASE)  # same name as a.yaml
    results = {path.name: result for path, result in iter_mappings(tmp_path)}
    assert results["a.yaml"].name == "demo"
    assert isinstance(results["b.yaml"], MappingError)
    assert isinstance(results["c.yaml"], MappingError)
    assert "mapping name `demo` is already used by" in str(results["c.yaml"])
    assert str(results["c.yaml"]).startswith(f"{tmp_path / 'c.yaml'}:1: field `name`:")


def test_yaml_lines_per_key_and_item() -> None:
    data, lines, issues = load_yaml("a: 1\nb:\n  - x: 1\n    y: 2\n  - x: 3\n")
    assert data == {"a": 1, "b": [{"x": 1, "y": 2}, {"x": 3}]}
    assert lines.line_of(("b", 0, "y")) == 4
    assert lines.line_of(("b", 1)) == 5
    assert lines.line_of(("b", 1, "missing")) == 5  # falls back to the nearest ancestor
    assert issues == []
    assert format_path(("fields", 2, "owner")) == "fields[2].owner"


def test_derived_views_of_the_case_mapping() -> None:
    m = load_mapping(SHIPPED / "case_to_bug.yaml")
    assert m.salesforce_columns() == ["Id", "SystemModstamp", "Jira_Key__c", "Jira_Url__c", "Subject", "Description",
                                      "Priority", "Contact.Email", "Fix_Version__c", "Status"]
    assert m.jira_columns() == ["id", "key", "updated", "customfield_10050", "summary", "description", "priority",
                                "customfield_10054", "fixVersions", "status"]
    assert m.jira_property_column() == "sfid"
    assert [f.canonical_key for f in m.fields_for("sf_to_jira")] == ["Subject", "Description", "Priority",
                                                                      "Contact.Email", "Status"]
    assert [f.canonical_key for f in m.fields_for("jira_to_sf")] == ["Subject", "Description", "Priority",
                                                                      "Fix_Version__c", "Status"]
    assert {f.canonical_key: f.effective_owner for f in m.synced_fields} == {
        "Subject": "latest", "Description": "latest", "Priority": "jira", "Contact.Email": "salesforce",
        "Fix_Version__c": "jira", "Status": "jira"}
    assert m.overlap_delta == timedelta(minutes=10)
    assert m.source_file.endswith("case_to_bug.yaml") and m.line_of(("status", "value_map")) is not None


def test_start_date_as_utc_datetime(valid) -> None:
    assert valid(BASE + "start_date: 2026-03-01\n").start_datetime == datetime(2026, 3, 1, tzinfo=UTC)
    aware = valid(BASE + "start_date: 2026-03-01T08:00:00+01:00\n").start_datetime
    assert aware == datetime(2026, 3, 1, 7, tzinfo=UTC)
    assert valid(BASE).start_datetime is None


def test_template_placeholders_are_selected_too(valid) -> None:
    m = valid(BASE + "  - salesforce: Name\n    jira: customfield_1\n"
                     "    transforms: [{template: '{Name} ({Account.Name})'}]\n")
    assert m.salesforce_columns()[-2:] == ["Name", "Account.Name"]


def test_mask_pii_replaces_values_only() -> None:
    m = load_mapping(SHIPPED / "case_to_bug.yaml")
    frame = pd.DataFrame({"Contact.Email": ["ada@example.com", None], "customfield_10054": ["x", "y"],
                          "Subject": ["kept", "kept"]})
    masked = m.mask_pii(frame)
    assert masked["Contact.Email"].tolist()[0] == "***" and pd.isna(masked["Contact.Email"].tolist()[1])
    assert masked["customfield_10054"].tolist() == ["***", "***"]
    assert masked["Subject"].tolist() == ["kept", "kept"]
    assert frame["Contact.Email"].tolist()[0] == "ada@example.com"  # the input is untouched


def test_field_level_pii_flag(valid) -> None:
    m = valid(BASE + "  - salesforce: SuppliedEmail\n    jira: customfield_1\n    pii: true\n")
    assert m.pii_columns == {"SuppliedEmail", "customfield_1"}
