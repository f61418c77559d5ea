"""Rules across values: one test per message, each with the path it names and the fix it gives."""

from __future__ import annotations

import pytest

from tests.sfjira.mapping.conftest import BASE, only


def field(*lines: str) -> str:
    """A second mapped field (fields[1]) made of YAML lines under the list item."""
    return "  - " + "\n    ".join(lines) + "\n"


CASES = [
    # (id, yaml to append to BASE, field path, message fragment, fix fragment)
    ("owner contradicts direction",
     field("salesforce: Origin", "jira: customfield_1", "owner: jira"),
     "fields[1].owner", "`owner: jira` contradicts `direction: sf_to_jira`", "remove owner, or set direction: both"),
    ("owner latest on one-way",
     field("salesforce: Origin", "jira: customfield_1", "direction: jira_to_sf", "owner: latest"),
     "fields[1].owner", "contradicts `direction: jira_to_sf`", "remove owner"),
    ("irreversible value map",
     field("salesforce: Priority", "jira: priority", "type: picklist", "direction: both", "owner: jira",
           "value_map: {High: High, Urgent: High, Low: Low}"),
     "fields[1].value_map", "Jira `High` comes from `High` and `Urgent`", "add reverse_map: {High: High}"),
    ("reverse map to an unknown value",
     field("salesforce: Priority", "jira: priority", "type: picklist", "direction: both", "owner: jira",
           "value_map: {High: High}", "reverse_map: {Highest: Hihg}"),
     "fields[1].reverse_map.Highest", "sends Jira `Highest` to `Hihg`, which value_map does not list",
     "use one of High"),
    ("reverse map on a one-way field",
     field("salesforce: Priority", "jira: priority", "type: picklist", "value_map: {High: High}",
           "reverse_map: {Highest: High}"),
     "fields[1].reverse_map", "only used when Jira writes to Salesforce", "set direction: both"),
    ("value map on a number",
     field("salesforce: Amount", "jira: customfield_1", "type: number", "value_map: {'1': one}"),
     "fields[1].value_map", "value maps do not apply to type number", "use type: one of"),
    ("unmapped default without default",
     field("salesforce: Origin", "jira: customfield_1", "type: picklist", "value_map: {Web: W}",
           "unmapped: default"),
     "fields[1].default", "`unmapped: default` needs a `default`", "add default"),
    ("unmapped without value map",
     field("salesforce: Origin", "jira: customfield_1", "unmapped: pass"),
     "fields[1].unmapped", "only matters with a value_map", "add a value_map or remove unmapped"),
    ("default of the wrong type",
     field("salesforce: CloseDate", "jira: customfield_1", "type: date", "default: 31/12/2026"),
     "fields[1].default", "default `31/12/2026` is not a valid date (INVALID_DATE)", "yyyy-mm-dd"),
    ("default outside the value map",
     field("salesforce: Origin", "jira: customfield_1", "type: picklist", "value_map: {Web: W}",
           "unmapped: default", "default: Fax"),
     "fields[1].default", "default `Fax` is not a key of value_map", "use one of Web"),
    ("max_length on a number",
     field("salesforce: Amount", "jira: customfield_1", "type: number", "max_length: 5"),
     "fields[1].max_length", "max_length does not apply to type number", "remove max_length"),
    ("max_length with a value map",
     field("salesforce: Origin", "jira: customfield_1", "value_map: {Web: W}", "max_length: 5"),
     "fields[1].max_length", "cannot be combined with a value_map", "remove max_length"),
    ("on_overflow without max_length",
     field("salesforce: Origin", "jira: customfield_1", "on_overflow: truncate"),
     "fields[1].max_length", "`on_overflow` needs `max_length`", "add max_length"),
    ("truncating a list",
     field("salesforce: Tags__c", "jira: labels", "type: multi-picklist", "direction: jira_to_sf",
           "max_length: 255", "on_overflow: truncate"),
     "fields[1].on_overflow", "cannot be truncated without losing", "use on_overflow: reject"),
    ("max_length above Jira's limit",
     field("salesforce: Description", "jira: description", "type: text", "max_length: 40000"),
     "fields[1].max_length", "max_length 40000 exceeds the 32767 characters Jira `description` holds",
     "use max_length: 32767 or less"),
    ("template not first",
     field("salesforce: Name", "jira: customfield_1", "transforms: [strip, {template: '{Name}'}]"),
     "fields[1].transforms[1]", "must be the first transform", "move it to the top"),
    ("template on a two-way field",
     field("salesforce: Name", "jira: customfield_1", "direction: both", "owner: jira",
           "transforms: [{template: '{Name} ({Account.Name})'}]"),
     "fields[1].transforms[0]", "cannot be reversed", "use direction: sf_to_jira"),
    ("template making a number",
     field("salesforce: Name", "jira: customfield_1", "type: number", "transforms: [{template: '{Name}'}]"),
     "fields[1].transforms[0]", "a template makes text, not number", "set type: string or text"),
    ("template syntax",
     field("salesforce: Name", "jira: customfield_1", "transforms: [{template: '{Name:>10}'}]"),
     "fields[1].transforms[0]", "is not a plain field name", "only {FieldName} placeholders"),
    ("text step on a date",
     field("salesforce: CloseDate", "jira: customfield_1", "type: date", "transforms: [upper]"),
     "fields[1].transforms[0]", "`upper` works on text, not on type date", "remove it"),
    ("round on text",
     field("salesforce: Name", "jira: customfield_1", "transforms: [{round: 2}]"),
     "fields[1].transforms[0]", "`round` works on number and currency fields", "remove it"),
    ("separator on a single value",
     field("salesforce: Name", "jira: customfield_1", "separator: '; '"),
     "fields[1].separator", "separator applies to multi-picklist fields", "remove it"),
    ("separator inside a multi value",
     field("salesforce: Tags__c", "jira: labels", "type: multi-picklist", "value_map: {'a;b': ab}"),
     "fields[1].value_map", "`a;b` contains ';'", "rename the value"),
    ("type a Jira system field cannot hold",
     field("salesforce: CloseDate", "jira: duedate", "type: datetime"),
     "fields[1].type", "Jira `duedate` holds date values, not datetime", "set type: date"),
    ("status written as a field",
     field("salesforce: Status", "jira: status", "type: picklist"),
     "fields[1].jira", "status changes only through workflow transitions", "move this field to the `status:`"),
    ("read-only Jira field",
     field("salesforce: CreatedDate", "jira: created", "type: datetime"),
     "fields[1].direction", "Jira `created` is read-only", "use direction: jira_to_sf"),
    ("parent field written from Jira",
     field("salesforce: Account.Name", "jira: customfield_1", "direction: jira_to_sf"),
     "fields[1].direction", "belongs to a related record", "use direction: sf_to_jira"),
    ("read-only Salesforce field",
     field("salesforce: LastModifiedDate", "jira: updated", "type: datetime", "direction: jira_to_sf"),
     "fields[1].direction", "Salesforce `LastModifiedDate` is read-only", "use direction: sf_to_jira"),
    ("misspelled system field",
     field("salesforce: CloseDate", "jira: DueDate", "type: date"),
     "fields[1].jira", "`DueDate` is not a Jira field id", "write `duedate`"),
    ("bad Salesforce field name",
     field("salesforce: Close Date", "jira: duedate", "type: date"),
     "fields[1].salesforce", "`Close Date` is not a Salesforce field name", "use the API name"),
    ("two fields writing one Jira field",
     field("salesforce: Name", "jira: summary", "key: name2", "required: true", "max_length: 255"),
     "fields[1]", "Jira `summary` is also written by `fields[0]`", "keep one of them"),
    ("a field writing the Jira key field",
     field("salesforce: Jira_Key__c", "jira: key", "direction: jira_to_sf"),
     "fields[1]", "Salesforce `Jira_Key__c` is also written by `salesforce.jira_key_field`",
     "make one direction: sf_to_jira"),
    ("a field writing the Salesforce id field",
     field("salesforce: Id", "jira: customfield_10050"),
     "fields[1]", "Jira `customfield_10050` is also written by `jira.salesforce_id_field`", "keep one of them"),
    ("duplicate canonical key",
     field("salesforce: Subject", "jira: customfield_1"),
     "fields[1].key", "canonical key `Subject` is also used by `fields[0]`", "set key:"),
    ("pii entry that is not mapped",
     "pii: [Contact.Emial]\n",
     "pii[0]", "`Contact.Emial` is not a mapped field", "list mapped fields only"),
    ("where with the keyword",
     "", "salesforce.where", "holds the condition only", "remove the leading WHERE"),
]


@pytest.mark.parametrize(("extra", "path", "message", "fix"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule(problems, extra: str, path: str, message: str, fix: str) -> None:
    text = BASE + extra if not path.startswith("salesforce.where") else BASE.replace(
        "  object: Case\n", "  object: Case\n  where: WHERE IsClosed = false\n")
    err = only(problems(text), path)
    assert message in err.message, str(err)
    assert fix in err.fix, str(err)
    assert err.line is not None


def test_duplicate_salesforce_target(problems) -> None:
    text = BASE.replace("    required: true\n", "    required: true\n    direction: both\n    owner: latest\n") + field(
        "salesforce: Subject", "jira: customfield_1", "key: copy", "direction: jira_to_sf")
    err = only(problems(text), "fields[1]")
    assert "Salesforce `Subject` is also written by `fields[0]`" in err.message


def test_both_needs_owner_and_points_at_direction(problems) -> None:
    text = BASE.replace("    jira: summary\n", "    jira: summary\n    direction: both\n")
    err = only(problems(text), "fields[0].owner")
    assert err.line == 12  # the `direction: both` line, since owner is absent
    assert err.fix == "add owner: one of salesforce, jira, latest"


def test_summary_needs_max_length(problems) -> None:
    text = BASE.replace("    max_length: 255\n    on_overflow: truncate\n", "")
    err = only(problems(text), "fields[0].max_length")
    assert "Jira summary holds at most 255 characters" in err.message
    assert err.fix == "add max_length: 255 with on_overflow: truncate or reject"
    assert err.line == 11


def test_summary_needs_required_or_default(problems) -> None:
    err = only(problems(BASE.replace("    required: true\n", "")), "fields[0].required")
    assert "REQUIRED_MISSING" in err.fix


def test_some_field_must_fill_the_summary(problems) -> None:
    text = BASE.replace("    jira: summary\n    required: true\n    max_length: 255\n    on_overflow: truncate\n",
                        "    jira: customfield_1\n")
    err = only(problems(text), "fields")
    assert "no field fills the Jira summary" in err.message


def test_the_salesforce_id_must_be_kept_somewhere(problems) -> None:
    err = only(problems(BASE.replace("  salesforce_id_field: customfield_10050\n", "")), "jira.salesforce_id_field")
    assert "could create an issue twice" in err.message
    assert "salesforce_id_property: sfjira" in err.fix


@pytest.mark.parametrize(("jira_lines", "path", "message"), [
    ("  salesforce_id_field: summary\n", "jira.salesforce_id_field", "is a system field"),
    ("  salesforce_id_field: customfield_10050\n  salesforce_id_property: 'sf id!'\n",
     "jira.salesforce_id_property", "is not a usable entity property key"),
])
def test_identity_settings(problems, jira_lines: str, path: str, message: str) -> None:
    text = BASE.replace("  salesforce_id_field: customfield_10050\n", jira_lines)
    assert message in only(problems(text), path).message


@pytest.mark.parametrize(("deletes", "path", "message"), [
    ("  salesforce_deleted: transition\n", "deletes.salesforce_deleted.status", "needs the target `status`"),
    ("  salesforce_deleted: label\n", "deletes.salesforce_deleted.label", "needs the `label` to add"),
    ("  salesforce_deleted: {action: label, label: sf deleted}\n", "deletes.salesforce_deleted.label",
     "cannot contain spaces"),
    ("  salesforce_deleted: {action: delete, status: Done}\n", "deletes.salesforce_deleted.status",
     "only used with action: transition"),
    ("  salesforce_deleted: {action: ignore, label: x}\n", "deletes.salesforce_deleted.label",
     "only used with action: label"),
    ("  jira_deleted: flag\n", "deletes.jira_deleted.field", "needs `field` and `value`"),
    ("  jira_deleted: {action: flag, field: Jira_Status__c}\n", "deletes.jira_deleted.value", "needs `field`"),
    ("  jira_deleted: {action: clear_key, field: Jira_Status__c}\n", "deletes.jira_deleted.field",
     "only used with action: flag"),
    ("  jira_deleted: {action: shred}\n", "deletes.jira_deleted.action", "`shred` is not allowed here"),
])
def test_delete_policies(problems, deletes: str, path: str, message: str) -> None:
    assert message in only(problems(BASE + "deletes:\n" + deletes), path).message


@pytest.mark.parametrize(("comments", "path", "message"), [
    ("  jira: {kind: worklog}\n", "comments.salesforce.duration_field", "needs the time spent"),
    ("  marker: '  '\n", "comments.marker", "is blank"),
])
def test_comment_rules(problems, comments: str, path: str, message: str) -> None:
    assert message in only(problems(BASE + "comments:\n" + comments), path).message


def test_where_cannot_chain_statements(problems) -> None:
    text = BASE.replace("  object: Case\n", "  object: Case\n  where: \"IsClosed = false; DELETE\"\n")
    assert "cannot contain ';'" in only(problems(text), "salesforce.where").message


def test_status_section_rules(problems) -> None:
    text = BASE + ("status:\n  salesforce: Status\n  value_map: {New: To Do, Working: To Do}\n")
    errors = problems(text)
    assert "`direction: both` needs `owner`" in only(errors, "status.owner").message
    assert "Jira `To Do` comes from `New` and `Working`" in only(errors, "status.value_map").message


def test_a_valid_mapping_has_no_problems(valid) -> None:
    mapping = valid(BASE + field("salesforce: Priority", "jira: priority", "type: picklist", "direction: both",
                                 "owner: jira", "value_map: {High: High, Urgent: High}",
                                 "reverse_map: {High: High, Highest: Urgent}"))
    assert mapping.fields[1].reverse_value_map() == {"High": "High", "Highest": "Urgent"}
