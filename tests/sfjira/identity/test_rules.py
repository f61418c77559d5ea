"""The identity rules, pure: which keys and ids taken from data the sync refuses, and why."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sfjira.identity import rules
from sfjira.identity.keys import IdentityError, is_jira_key, is_sfid, issue_segment, segment, sfid_checksum
from sfjira.mapping import Mapping, load_mapping

SHIPPED = Path(__file__).resolve().parents[3] / "include" / "mappings"
CASE = "500Kj0000000001"
CASE18 = CASE + sfid_checksum(CASE)
OTHER_CASE = "500Kj0000000002" + sfid_checksum("500Kj0000000002")
ACCOUNT = "001Kj0000000003" + sfid_checksum("001Kj0000000003")


@pytest.fixture(scope="module")
def mapping() -> Mapping:
    return load_mapping(SHIPPED / "case_to_bug.yaml")


def _records(*pairs: tuple[str, object]) -> pd.DataFrame:
    return pd.DataFrame({"Id": [p[0] for p in pairs], "Jira_Key__c": [p[1] for p in pairs]})


def _issues(*rows: tuple[str, object, object]) -> pd.DataFrame:
    return pd.DataFrame({"key": [r[0] for r in rows], "customfield_10050": [r[1] for r in rows],
                         "sfid": [r[2] for r in rows]})


def _links(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame({"sf_id": [r[0] for r in rows], "jira_key": [r[1] for r in rows],
                         "state": [r[2] for r in rows]})


@pytest.mark.parametrize(("value", "ok"), [("SUP-1", True), ("AB_2-10", True), ("SUP-1/../DEL-2", False),
                                           ("sup-1", False), ("SUP-01", False), ("SUP-0", False), (" SUP-1", False),
                                           ("SUP-1\n", False), ("SUP", False), (None, False)])
def test_jira_key_shape(value: object, ok: bool) -> None:
    assert is_jira_key(value) is ok


def test_sfid_shape_and_checksum() -> None:
    assert is_sfid(CASE) and is_sfid(CASE18)
    assert not is_sfid(CASE + "AAA")  # 18 characters with a wrong checksum
    assert not is_sfid(CASE[:14]) and not is_sfid("500Kj000000000/")


def test_path_segments_are_quoted_whole() -> None:
    assert segment("SUP-1/../DEL-2") == "SUP-1%2F..%2FDEL-2"
    assert segment("a?b#c d") == "a%3Fb%23c%20d"
    assert issue_segment("SUP-12") == "SUP-12" and issue_segment("10042") == "10042"
    with pytest.raises(IdentityError) as refused:
        issue_segment("SUP-1/../DEL-2")
    assert refused.value.code == "IDENTITY_KEY_MALFORMED"


def test_only_claims_no_link_backs_are_judged(mapping: Mapping) -> None:
    records = _records((CASE18, "SUP-1"), (OTHER_CASE, "SUP-2"), ("500Kj00000000099", None))
    issues = _issues(("SUP-1", CASE18, CASE18), ("SUP-3", ACCOUNT, None), ("SUP-4", None, None))
    claims = rules.claims(mapping, records, issues, _links((OTHER_CASE, "SUP-2", "active")))
    assert claims.keys.to_dict("records") == [{"sf_id": CASE18, "jira_key": "SUP-1"}]
    # SUP-1 carries CASE18 in both places: one claim; SUP-3's Account id is a claim too.
    assert sorted(map(tuple, claims.sfids[["jira_key", "sf_id"]].to_numpy())) == [("SUP-1", CASE18),
                                                                                 ("SUP-3", ACCOUNT)]


def test_keys_refused_without_asking_jira(mapping: Mapping) -> None:
    keys = pd.DataFrame({"sf_id": ["a", "b", "c", "d", "e", "f"],
                         "jira_key": ["SUP-1/../DEL-2", "DEL-1", "SUP-7", "SUP-9", "SUP-9", "SUP-5"]})
    refused, left = rules.screen_keys(mapping, keys, _links(("z", "SUP-7", "deleted_sf")))
    codes = dict(zip(refused["record_id"], refused["code"], strict=True))
    assert codes == {"a": rules.KEY_MALFORMED, "b": rules.KEY_OTHER_PROJECT, "c": rules.KEY_LINKED_ELSEWHERE,
                     "d": rules.KEY_CLAIMED_TWICE, "e": rules.KEY_CLAIMED_TWICE}
    assert left.to_dict("records") == [{"sf_id": "f", "jira_key": "SUP-5"}]
    row = refused.set_index("record_id")
    assert row.loc["b", "message"] == ("Jira_Key__c holds 'DEL-1', an issue of project DEL; mapping `case_to_bug` "
                                       "syncs project SUP only")
    assert row.loc["b", "fix"].startswith("clear Jira_Key__c on the record")
    assert "Salesforce record z" in row.loc["c", "message"] and "Salesforce record e" in row.loc["d", "message"]
    assert set(refused["side"]) == {"salesforce"} and set(refused["field"]) == {"Jira_Key__c"}


def _issue(key: str, project: str, kind: str, field: object = None, prop: object = None) -> dict:
    return {"key": key, "fields": {"project": {"key": project}, "issuetype": {"name": kind},
                                   "customfield_10050": field},
            "properties": {"sfjira": {"sfid": prop}} if prop else {}}


def test_keys_refused_on_what_jira_answers(mapping: Mapping) -> None:
    keys = pd.DataFrame({"sf_id": [CASE18] * 6 + [CASE],
                         "jira_key": ["SUP-1", "SUP-2", "SUP-3", "SUP-4", "SUP-5", "SUP-6", "SUP-7"]})
    found = {"SUP-1": None, "SUP-2": _issue("DEL-9", "DEL", "Epic"), "SUP-3": _issue("SUP-3", "SUP", "Task"),
             "SUP-4": _issue("SUP-4", "SUP", "Bug", prop=OTHER_CASE), "SUP-5": _issue("SUP-5", "SUP", "bug"),
             "SUP-6": _issue("SUP-6", "SUP", "Bug", field=CASE, prop=CASE18),
             "SUP-7": _issue("SUP-7", "SUP", "Bug", field=CASE18)}
    refused = rules.judge_looked_up(mapping, keys, found)
    codes = dict(zip(refused["jira_key"], refused["code"], strict=True))
    assert codes == {"SUP-1": rules.KEY_NOT_FOUND, "SUP-2": rules.KEY_OTHER_PROJECT,
                     "SUP-3": rules.KEY_OTHER_ISSUE_TYPE, "SUP-4": rules.KEY_CARRIES_OTHER_RECORD}
    assert OTHER_CASE in refused.set_index("jira_key").loc["SUP-4", "message"]


def test_ids_refused_for_shape_and_object(mapping: Mapping) -> None:
    sfids = pd.DataFrame({"jira_key": ["SUP-1", "SUP-2", "SUP-3"], "sf_id": ["not-an-id", ACCOUNT, CASE18],
                          "place": "customfield_10050"})
    malformed, well_formed = rules.screen_sfids(mapping, sfids)
    assert list(malformed["record_id"]) == ["SUP-1"] and list(malformed["code"]) == [rules.SFID_MALFORMED]
    other = rules.judge_prefix(mapping, well_formed, "500")
    assert list(other["record_id"]) == ["SUP-2"] and list(other["code"]) == [rules.SFID_OTHER_OBJECT]
    assert other["side"].tolist() == ["jira"] and other["field"].tolist() == ["customfield_10050"]
    assert "key prefix 001, Case is 500" in other["message"].iloc[0]


def test_leave_out_drops_both_sides(mapping: Mapping) -> None:
    refused = pd.DataFrame({"side": ["salesforce", "jira"], "record_id": [CASE18, "SUP-2"]})
    sf, jira = rules.leave_out(refused, _records((CASE18, "DEL-1"), (OTHER_CASE, None)),
                               _issues(("SUP-2", ACCOUNT, None), ("SUP-3", None, None)))
    assert list(sf["Id"]) == [OTHER_CASE] and list(jira["key"]) == ["SUP-3"]
