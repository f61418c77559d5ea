"""The two shipped mappings validate; broken copies fail with the expected message; the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sfjira.mapping import load_all, load_mapping
from tests.sfjira.mapping.conftest import REPO, SHIPPED, only


def test_both_shipped_mappings_validate() -> None:
    mappings = {m.name: m for m in load_all(SHIPPED)}
    assert set(mappings) == {"opportunity_to_epic", "case_to_bug"}


def test_opportunity_to_epic_as_the_catalog_describes() -> None:
    m = load_mapping(SHIPPED / "opportunity_to_epic.yaml")
    assert (m.salesforce.object, m.jira.project, m.jira.issue_type) == ("Opportunity", "DEL", "Epic")
    assert (m.salesforce.jira_key_field, m.salesforce.jira_url_field) == ("Jira_Key__c", "Jira_Url__c")
    assert (m.jira.salesforce_id_field, m.jira.salesforce_id_property) == ("customfield_10050", "sfjira")
    writes = {f.salesforce: f.jira for f in m.fields_for("sf_to_jira")}
    assert writes == {"Name": "summary", "Description": "description", "Amount": "customfield_10052",
                      "CloseDate": "customfield_10053", "Account.Name": "customfield_10051",
                      "StageName": "customfield_10055"}
    assert {f.salesforce: f.jira for f in m.fields_for("jira_to_sf")} == {"Jira_Status__c": "status"}
    assert all(f.effective_owner == "salesforce" for f in m.fields_for("sf_to_jira"))
    assert m.overlap_delta.total_seconds() == 600


def test_case_to_bug_as_the_catalog_describes() -> None:
    m = load_mapping(SHIPPED / "case_to_bug.yaml")
    assert (m.salesforce.object, m.jira.project, m.jira.issue_type) == ("Case", "SUP", "Bug")
    priority = m.field("Priority")
    assert priority.direction == "both"
    assert priority.reverse_value_map() == {"High": "High", "Medium": "Medium", "Low": "Low", "Highest": "High",
                                            "Lowest": "Low"}
    status = m.field("Status")
    assert status.jira == "status"
    assert status.value_map == {"New": "To Do", "Working": "In Progress", "Escalated": "In Review", "Closed": "Done"}
    assert m.field("Fix_Version__c").sf_separator == "; "
    assert {"Contact.Email", "customfield_10054"} <= m.pii_columns
    assert m.comments is not None and m.comments.salesforce.object == "CaseComment"
    assert m.comments.flows("sf_to_jira") and m.comments.flows("jira_to_sf")
    assert m.deletes.salesforce_deleted.action == "transition" and m.deletes.salesforce_deleted.status == "Done"


def _broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (SHIPPED / name).read_text(encoding="utf-8")
    assert old in text, f"{old!r} is no longer in {name}: update this test"
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_broken_case_to_bug_names_line_field_and_fix(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "case_to_bug.yaml", "    owner: latest                 # whoever", "    # whoever")
    with pytest.raises(Exception) as caught:
        load_mapping(path)
    err = only(caught.value.errors, "fields[0].owner")
    assert str(err) == (f"{path}:{_line_of(path, 'direction: both')}: field `fields[0].owner`: [MAPPING_INVALID] "
                        "`direction: both` needs `owner` -- fix: add owner: one of salesforce, jira, latest")


def test_broken_opportunity_to_epic_names_line_field_and_fix(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "opportunity_to_epic.yaml", "    max_length: 255               # Opportunity.Name",
                        "    # Opportunity.Name")
    with pytest.raises(Exception) as caught:
        load_mapping(path)
    got = sorted((e.line, e.message) for e in caught.value.errors if e.field == "fields[0].max_length")
    assert got == [
        (_line_of(path, "jira: summary"), "Jira summary holds at most 255 characters, and nothing limits what "
                                          "Salesforce sends"),
        (_line_of(path, "on_overflow: truncate"), "`on_overflow` needs `max_length`"),
    ]


def test_broken_irreversible_status_map(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "case_to_bug.yaml", "    Escalated: In Review", "    Escalated: In Progress")
    with pytest.raises(Exception) as caught:
        load_mapping(path)
    err = only(caught.value.errors, "status.value_map")
    assert "Jira `In Progress` comes from `Working` and `Escalated`" in err.message
    assert err.line == _line_of(path, "value_map:                      # Salesforce Status")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # The installed console script, without PYTHONPATH: the README's command as a user runs it.
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(Path(sys.executable).parent / "sfjira"), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**clean, **(env or {})})


def test_cli_validates_the_shipped_mappings() -> None:
    done = _cli("validate", *sorted(str(p) for p in SHIPPED.glob("*.yaml")))
    assert done.returncode == 0, done.stderr
    assert [line.split()[:2] for line in done.stdout.splitlines()] == [
        ["OK", str(SHIPPED / "case_to_bug.yaml")], ["OK", str(SHIPPED / "opportunity_to_epic.yaml")]]


def test_cli_fails_with_every_message(tmp_path: Path) -> None:
    bad = _broken_copy(tmp_path, "case_to_bug.yaml", "    owner: latest                 # whoever", "    # whoever")
    done = _cli("validate", str(SHIPPED / "opportunity_to_epic.yaml"), str(bad))
    assert done.returncode == 1
    assert done.stdout.startswith("OK ")
    assert f"{bad}:" in done.stderr and "`direction: both` needs `owner`" in done.stderr
    assert f"FAILED {bad}: 1 problem" in done.stderr


def test_cli_live_without_reachable_connections_says_so(tmp_path: Path) -> None:
    done = _cli("validate", "--live", str(SHIPPED / "case_to_bug.yaml"),
                env={"SFJIRA_SALESFORCE_CONN_ID": "sfjira_missing_sf", "SFJIRA_JIRA_CONN_ID": "sfjira_missing_jira",
                     "AIRFLOW_HOME": str(tmp_path)})
    assert done.returncode == 2
    assert "[LIVE_CHECK_UNAVAILABLE]" in done.stderr
    assert "sfjira_missing_sf" in done.stderr or "sfjira.hooks" in done.stderr
