"""Structure errors: each names the file, the line, the field path and a fix."""

from __future__ import annotations

import pytest

from sfjira.exceptions import MappingError
from sfjira.mapping import load_mapping, parse_mapping
from tests.sfjira.mapping.conftest import BASE, only


def test_message_format_is_file_line_field_code_message_fix(problems, write) -> None:
    text = BASE.replace("  - salesforce: Subject\n", "  - salesforce: Subject\n    direction: both\n")
    err = only(problems(text), "fields[0].owner")
    path = str(write(text))
    assert str(err) == (f"{path}:11: field `fields[0].owner`: [MAPPING_INVALID] `direction: both` needs `owner` "
                        "-- fix: add owner: one of salesforce, jira, latest")


def test_missing_required_key_points_at_its_parent(problems) -> None:
    err = only(problems(BASE.replace("  jira_key_field: Jira_Key__c\n", "")), "salesforce.jira_key_field")
    assert err.line == 2
    assert "`jira_key_field` is required" in err.message
    assert "external-id field that stores the Jira key" in err.fix


def test_unknown_key_suggests_the_close_one(problems) -> None:
    err = only(problems(BASE + "    ownr: jira\n"), "fields[0].ownr")
    assert err.line == 15
    assert err.message == "unknown key `ownr`"
    assert err.fix.startswith("did you mean `owner`? allowed keys here: salesforce, jira, key, direction, owner")


def test_unknown_top_level_key(problems) -> None:
    err = only(problems(BASE + "schedual: '@daily'\n"), "schedual")
    assert "did you mean `schedule`?" in err.fix


def test_enum_value_lists_the_allowed_ones(problems) -> None:
    err = only(problems(BASE + "    type: money\n"), "fields[0].type")
    assert err.line == 15
    assert err.message == "`money` is not allowed here"
    assert err.fix == ("use one of: string, text, number, integer, currency, boolean, date, datetime, picklist, "
                       "multi-picklist, user")


def test_close_enum_value_gets_a_suggestion(problems) -> None:
    err = only(problems(BASE + "    direction: sf_to_jra\n"), "fields[0].direction")
    assert err.fix.startswith("did you mean `sf_to_jira`?")


def test_yaml_boolean_in_a_value_map_asks_for_quotes(problems) -> None:
    text = BASE + ("  - salesforce: Origin\n    jira: customfield_1\n    type: picklist\n"
                   "    value_map: {Phone: Yes, Web: 'No'}\n")
    err = only(problems(text), "fields[1].value_map.Phone")
    assert err.line == 18
    assert "boolean true" in err.message
    assert "quotes" in err.fix


def test_yaml_number_where_text_is_expected(problems) -> None:
    text = BASE + "  - salesforce: Fix_Version__c\n    jira: customfield_1\n    value_map: {One: 1.10}\n"
    err = only(problems(text), "fields[1].value_map.One")
    assert "number 1.1" in err.message
    assert "'1.10'" in err.fix


def test_name_must_be_snake_case(problems) -> None:
    err = only(problems(BASE.replace("name: demo", "name: Demo-Sync")), "name")
    assert err.line == 1
    assert "lower_snake_case" in err.fix


def test_project_key_form(problems) -> None:
    err = only(problems(BASE.replace("project: SUP", "project: sup")), "jira.project")
    assert err.line == 6
    assert "capitals" in err.fix


@pytest.mark.parametrize(("line", "field", "message", "fix"), [
    ('schedule: "every hour"', "schedule", "`every hour` is not a cron expression", "five fields"),
    ("overlap: 10 minutes", "overlap", "`10 minutes` is not a duration", '"10m"'),
    ("start_date: 2026-01-01T00:00:00", "start_date", "has no time zone", "2026-01-01T00:00:00Z"),
])
def test_scheduling_values(problems, line: str, field: str, message: str, fix: str) -> None:
    err = only(problems(BASE + line + "\n"), field)
    assert err.line == 15
    assert message in err.message
    assert fix in err.fix


@pytest.mark.parametrize(("step", "message"), [
    ("shout", "`shout` is not allowed here"),
    ("{template: 3}", "`template` needs the text"),
    ("{round: two}", "`round` needs the number of decimal places"),
    ("{round: 40}", "`round` needs the number of decimal places"),
    ("{strip: yes}", "`strip` takes no argument"),
])
def test_transform_steps(problems, step: str, message: str) -> None:
    err = only(problems(BASE + f"    transforms: [{step}]\n"), "fields[0].transforms[0]")
    assert err.line == 15
    assert message in err.message


def test_empty_field_list(problems) -> None:
    text = BASE[: BASE.index("fields:")] + "fields: []\n"
    err = only(problems(text), "fields")
    assert err.line == 9


def test_yaml_syntax_error_carries_the_line(write) -> None:
    path = write(BASE + "  - salesforce: [unclosed\n")
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert caught.value.code == "MAPPING_YAML"
    assert caught.value.line is not None and caught.value.line >= 15
    assert str(caught.value).startswith(f"{path}:")


def test_duplicate_keys_are_not_silently_merged(problems) -> None:
    errors = problems(BASE + "    required: false\n")
    err = only(errors, "fields[0].required")
    assert err.line == 15
    assert "duplicate key `required` (first on line 12)" in err.message


def test_file_that_is_not_a_mapping(write) -> None:
    with pytest.raises(MappingError, match="must hold one mapping"):
        load_mapping(write("- just\n- a list\n"))


def test_missing_file() -> None:
    with pytest.raises(MappingError) as caught:
        load_mapping("/nonexistent/mapping.yaml")
    assert caught.value.code == "MAPPING_NOT_FOUND"


def test_all_problems_are_listed_together(problems) -> None:
    text = BASE.replace("name: demo", "name: Bad!") + "    type: money\n    ownr: x\n"
    errors = problems(text)
    assert {e.field for e in errors} == {"name", "fields[0].type", "fields[0].ownr"}


def test_parse_mapping_names_the_given_file() -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping(BASE + "    type: money\n", "include/mappings/x.yaml")
    assert str(caught.value).startswith("include/mappings/x.yaml:15: field `fields[0].type`:")
