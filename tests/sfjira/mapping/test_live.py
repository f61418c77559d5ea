"""Live checks against Salesforce describe, Jira /field and createmeta, fed with captured metadata."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sfjira.exceptions import MappingError
from sfjira.mapping import check_live, load_mapping, normalise_createmeta, resolve_jira_field_names
from sfjira.mapping.model import Mapping
from tests.sfjira.mapping import metadata
from tests.sfjira.mapping.conftest import BASE, SHIPPED, only


def live_errors(mapping: Mapping, *, describe: dict | None = None, fields: list | None = None,
                createmeta: dict | None = None) -> list[MappingError]:
    try:
        check_live(mapping, describe=describe, jira_fields=fields, createmeta=createmeta)
    except MappingError as err:
        return err.errors
    return []


@pytest.fixture(params=["case_to_bug", "opportunity_to_epic"])
def shipped(request: pytest.FixtureRequest) -> Mapping:
    return load_mapping(SHIPPED / f"{request.param}.yaml")


def test_shipped_mappings_pass_against_the_test_world(shipped: Mapping) -> None:
    meta = metadata.createmeta(shipped.jira.project, shipped.jira.issue_type)
    assert live_errors(shipped, describe=metadata.describe(), fields=metadata.jira_fields(), createmeta=meta) == []


def test_describe_may_be_a_callable(shipped: Mapping) -> None:
    data = metadata.describe()
    check_live(shipped, describe=lambda name: data[name])


def case() -> Mapping:
    return load_mapping(SHIPPED / "case_to_bug.yaml")


def edited(edit: Callable[[dict], None]) -> dict:
    data = metadata.describe()
    edit(data)
    return data


@pytest.mark.parametrize(("edit", "path", "message", "fix"), [
    (lambda d: metadata.sf_field(d, "Case", "Subject").update(name="Subject__c"), "fields[0].salesforce",
     "Salesforce Case has no field `Subject`", "API name"),
    (lambda d: metadata.sf_field(d, "Case", "Description").update(type="double"), "fields[1].type",
     "Salesforce `Description` is a double field, which does not fit type text", "set type: one of"),
    (lambda d: metadata.sf_field(d, "Case", "Subject").update(updateable=False), "fields[0].direction",
     "is not updateable by the sync user", "use direction: sf_to_jira"),
    (lambda d: metadata.sf_field(d, "Case", "Subject").update(length=80), "fields[0].max_length",
     "Salesforce `Subject` holds at most 80 characters", "add max_length: 80"),
    (lambda d: metadata.sf_field(d, "Case", "Priority")["picklistValues"].pop(), "fields[2].reverse_map",
     "`Low` would be written to restricted picklist `Priority`, which refuses them", "High, Medium"),
    (lambda d: metadata.sf_field(d, "Case", "Priority")["picklistValues"].append(
        {"value": "Critical", "active": True}), "fields[2].value_map",
     "Salesforce `Priority` values `Critical` have no entry in value_map", "add them to value_map"),
    (lambda d: metadata.sf_field(d, "Case", "Jira_Key__c").update(externalId=False), "salesforce.jira_key_field",
     "`Jira_Key__c` is not an External ID", "mark it External ID and Unique"),
    (lambda d: d["Case"]["fields"].remove(metadata.sf_field(d, "Case", "Jira_Url__c")),
     "salesforce.jira_url_field", "Salesforce Case has no field `Jira_Url__c`", "URL field"),
    (lambda d: metadata.sf_field(d, "Contact", "Email").update(name="EmailAddress"), "fields[3].salesforce",
     "Salesforce Contact has no field `Email`", "API name"),
    (lambda d: metadata.sf_field(d, "Case", "ContactId").update(relationshipName="Person"), "fields[3].salesforce",
     "has no relationship `Contact`", "API name"),
    (lambda d: metadata.sf_field(d, "CaseComment", "CommentBody").update(length=1000),
     "comments.salesforce.max_length", "CaseComment.CommentBody holds at most 1000 characters",
     "add max_length: 1000"),
    (lambda d: d.pop("CaseComment"), "comments.salesforce.object", "no object `CaseComment`", "CaseComment or Task"),
    (lambda d: d["Case"]["fields"].remove(metadata.sf_field(d, "Case", "Jira_Status__c")),
     "deletes.jira_deleted.field", "no field `Jira_Status__c`", "name a field of the synced object"),
])
def test_salesforce_mismatches(edit, path: str, message: str, fix: str) -> None:
    err = only(live_errors(case(), describe=edited(edit)), path)
    assert err.code == "MAPPING_LIVE_MISMATCH"
    assert message in err.message, str(err)
    assert fix in err.fix, str(err)
    assert err.line is not None and err.file.endswith("case_to_bug.yaml")


def test_missing_object() -> None:
    err = only(live_errors(case(), describe=edited(lambda d: d.pop("Case"))), "salesforce.object")
    assert "no object `Case`" in err.message


def test_pass_through_to_a_restricted_picklist(valid) -> None:
    mapping = valid(BASE + "  - salesforce: Origin\n    jira: customfield_10055\n    type: picklist\n"
                           "    direction: jira_to_sf\n    value_map: {Web: Web}\n    unmapped: pass\n")
    data = edited(lambda d: metadata.sf_field(d, "Case", "Origin").update(restrictedPicklist=True))
    err = only(live_errors(mapping, describe=data), "fields[1].unmapped")
    assert "`unmapped: pass` can send values the restricted picklist `Origin` refuses" in err.message


def test_value_map_keys_that_are_not_picklist_values() -> None:
    opp = load_mapping(SHIPPED / "opportunity_to_epic.yaml")
    data = edited(lambda d: metadata.sf_field(d, "Opportunity", "StageName")["picklistValues"].pop(0))
    err = only(live_errors(opp, describe=data), "fields[5].value_map")
    assert "value_map lists `Prospecting`, not values of Salesforce `StageName`" in err.message


def jira_edited(edit: Callable[[list], None]) -> list:
    data = metadata.jira_fields()
    edit(data)
    return data


def _jira_field(fields: list, fid: str) -> dict:
    return next(f for f in fields if f["id"] == fid)


def test_jira_field_missing_with_suggestion() -> None:
    opp = load_mapping(SHIPPED / "opportunity_to_epic.yaml")
    fields = jira_edited(lambda fs: fs.remove(_jira_field(fs, "customfield_10052")))
    err = only(live_errors(opp, fields=fields), "fields[2].jira")
    assert err.message == "Jira has no field `customfield_10052`"
    assert err.fix.startswith("did you mean `customfield_1005")


def test_jira_type_mismatch() -> None:
    opp = load_mapping(SHIPPED / "opportunity_to_epic.yaml")
    fields = jira_edited(lambda fs: _jira_field(fs, "customfield_10052")["schema"].update(type="string"))
    err = only(live_errors(opp, fields=fields), "fields[2].type")
    assert "Jira `customfield_10052` is a string field, which does not fit type currency" in err.message


def test_salesforce_id_field_must_be_text() -> None:
    fields = jira_edited(lambda fs: _jira_field(fs, "customfield_10050")["schema"].update(type="number"))
    err = only(live_errors(case(), fields=fields), "jira.salesforce_id_field")
    assert "is not a text field" in err.message


def test_field_names_resolve_and_ambiguity_is_reported(valid) -> None:
    mapping = valid(BASE + "  - salesforce: Amount\n    jira: Deal Amount\n    type: currency\n")
    assert live_errors(mapping, fields=metadata.jira_fields()) == []
    resolved = resolve_jira_field_names(mapping, metadata.jira_fields())
    assert resolved.fields[1].jira == "customfield_10052"
    assert resolved.source_file == mapping.source_file and resolved.line_of(("fields", 1)) == 15
    twice = metadata.jira_fields() + [{"id": "customfield_20000", "name": "Deal Amount", "schema": {"type": "number"}}]
    err = only(live_errors(mapping, fields=twice), "fields[1].jira")
    assert "several Jira fields are named `Deal Amount` (customfield_10052, customfield_20000)" in err.message
    assert err.fix == "use the id instead, e.g. jira: customfield_10052"
    with pytest.raises(MappingError, match="several Jira fields"):
        resolve_jira_field_names(mapping, twice)


def test_createmeta_problems() -> None:
    meta = metadata.createmeta("SUP", "Bug")
    meta["fields"] = [f for f in meta["fields"] if f["fieldId"] != "customfield_10054"]
    meta["fields"].append({"fieldId": "customfield_10099", "name": "Severity", "required": True,
                           "hasDefaultValue": False, "schema": {"type": "option"}})
    next(f for f in meta["fields"] if f["fieldId"] == "priority")["allowedValues"].pop(1)  # no "High"
    errors = live_errors(case(), fields=metadata.jira_fields(), createmeta=meta)
    assert "is not on the create screen of SUP/Bug" in only(errors, "fields[3].jira").message
    assert "does not offer `High`" in only(errors, "fields[2].value_map").message
    assert "Jira requires `Severity` (customfield_10099)" in only(errors, "fields").message


def test_createmeta_in_the_older_shape() -> None:
    old = {"projects": [{"key": "SUP", "issuetypes": [{"name": "Bug", "fields": {
        "summary": {"required": True, "name": "Summary"}, "priority": {"required": False}}}]}]}
    assert set(normalise_createmeta(old)) == {"summary", "priority"}
    assert normalise_createmeta(metadata.createmeta("SUP", "Bug"))["priority"]["allowedValues"][0]["name"] == "Highest"


def test_pass_through_picklist_must_be_offered_by_jira(valid) -> None:
    mapping = valid(BASE + "  - salesforce: Origin\n    jira: customfield_10055\n    type: picklist\n")
    meta = metadata.createmeta("DEL", "Epic")
    errors = live_errors(mapping, describe=metadata.describe(), createmeta=meta)
    err = only(errors, "fields[1].value_map")
    assert "Salesforce values `Phone`, `Email`, `Web` are not options of Jira `customfield_10055`" in err.message
