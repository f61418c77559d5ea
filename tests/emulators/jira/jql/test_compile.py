"""JQL semantics against a real SQLite store (no server): operators, empties, dates in the user's zone,
custom fields, entity properties, ordering and Jira's value errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulators.jira import adf
from emulators.jira.jql import CompileContext, JqlError, compile_query, parse
from emulators.jira.store import Issue, Store
from emulators.jira.timefmt import parse_ms, zone
from emulators.jira.users import Directory, api_user

BERLIN = zone("Europe/Berlin")
NOW = parse_ms("2026-11-28T15:30:00.000Z")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(Path(tmp_path_factory.mktemp("jql")) / "jira.sqlite3")
    rows = [  # key, type, status, updated (UTC), custom fields, labels
        ("SUP-1", "10003", "10000", "2026-11-28T15:04:30.000Z", {"customfield_10050": "500AAA", "customfield_10052": 10.0}, ["a"]),
        ("SUP-2", "10003", "3", "2026-11-28T15:05:00.000Z", {"customfield_10050": "500BBB", "customfield_10055": "10108",
                                                             "description": adf.from_plain("Office in Kraków")}, []),
        ("SUP-3", "10002", "10002", "2026-11-27T23:00:00.000Z", {"customfield_10052": 250.5}, ["a", "b"]),
        ("DEL-1", "10000", "10000", "2026-11-28T15:03:59.999Z", {"customfield_10053": "2027-01-31"}, []),
    ]
    issues = []
    for n, (key, type_id, status, updated, custom, labels) in enumerate(rows):
        project, num = key.split("-")
        stamp = parse_ms(updated)
        issues.append(Issue(10000 + n, key, project, int(num), type_id, status, "3", None, stamp - 3_600_000, stamp,
                            {"summary": f"Summary of {key} über", "labels": labels, **custom}))
    with store.tx():
        store.insert_issues(issues)
        store.set_property(10000, "sfjira", {"sfid": "500AAA", "mapping": "case_to_bug"})
        store.set_property(10001, "sfjira", {"sfid": "500BBB", "mapping": "case_to_bug"})
    return store


def keys(store: Store, jql: str, tz: str = "Europe/Berlin") -> list[str]:
    def find(ref: str) -> tuple[int, str] | None:
        issue = store.find_issue(ref)
        return (issue.id, issue.key) if issue else None

    me = api_user("sync-bot@example.com", tz)
    ctx = CompileContext(zone(tz), NOW, me.account_id, True, Directory(me), find)
    query = compile_query(parse(jql), ctx)
    ids = store.search_ids(query.where, query.params, query.order, 100, 0)
    return [i.key for i in store.issues_by_ids(ids)]


@pytest.mark.parametrize(("jql", "expected"), [
    ("project = SUP ORDER BY key", ["SUP-1", "SUP-2", "SUP-3"]),
    ("project != SUP", ["DEL-1"]),
    ("issuetype in (Bug, Epic) ORDER BY key DESC", ["SUP-2", "SUP-1", "DEL-1"]),
    ('status not in ("To Do", Done)', ["SUP-2"]),
    ("key in (SUP-1, sup-3) ORDER BY key", ["SUP-1", "SUP-3"]),
    ("NOT project = SUP", ["DEL-1"]),
    ("project = SUP AND (status = Done OR cf[10050] = 500AAA) ORDER BY key", ["SUP-1", "SUP-3"]),
    # `!=` never matches an empty field; IS EMPTY does.
    ("cf[10050] != 500AAA", ["SUP-2"]),
    ("cf[10050] is EMPTY ORDER BY key", ["DEL-1", "SUP-3"]),
    ('"salesforce id" ~ "bb"', ["SUP-2"]),
    ('"Salesforce Stage" = "Closed Won"', ["SUP-2"]),
    ("cf[10052] > 100", ["SUP-3"]),
    ('cf[10053] <= "2027/01/31"', ["DEL-1"]),
    ('issue.property[sfjira].sfid = "500BBB"', ["SUP-2"]),
    ('issue.property[sfjira].sfid in ("500AAA", "500BBB") ORDER BY key', ["SUP-1", "SUP-2"]),
    ('issue.property[sfjira].mapping != "case_to_bug"', []),
    ("labels = b", ["SUP-3"]),
    ("labels is EMPTY ORDER BY key", ["DEL-1", "SUP-2"]),
    ('summary ~ "SUP-3 ÜBER"', ["SUP-3"]),
    ('summary ~ "of SUP-3"', ["SUP-3"]),
    ('description ~ "kraków"', ["SUP-2"]),
    ('description ~ "paragraph"', []),  # the document's text, not its JSON markup
    ("project in (SUP, DEL) ORDER BY cf[10052] DESC, key ASC", ["SUP-3", "SUP-1", "DEL-1", "SUP-2"]),
])
def test_operators_and_ordering(store: Store, jql: str, expected: list[str]) -> None:
    assert keys(store, jql) == expected


@pytest.mark.parametrize(("jql", "expected"), [
    # SUP-1 was updated at 15:04:30 UTC = 16:04:30 Berlin: it lies *in* the minute "16:04".
    ('updated >= "2026-11-28 16:04"', ["SUP-1", "SUP-2"]),
    ('updated <= "2026-11-28 16:04"', ["DEL-1", "SUP-1", "SUP-3"]),
    ('updated = "2026/11/28 16:04"', ["SUP-1"]),
    ('updated > "2026-11-28 16:04"', ["SUP-2"]),
    ('updated < "2026-11-28 16:04"', ["DEL-1", "SUP-3"]),
    # A date alone is midnight in the user's zone: SUP-3 (23:00 UTC on the 27th) is the 28th in Berlin.
    ('updated >= "2026-11-28"', ["DEL-1", "SUP-1", "SUP-2", "SUP-3"]),
    ('updated < "2026-11-28"', []),
    ('updated >= "-30m"', ["DEL-1", "SUP-1", "SUP-2"]),
    ("updated <= now() AND updated > -1d", ["DEL-1", "SUP-1", "SUP-2", "SUP-3"]),
])
def test_dates_are_minutes_in_the_users_zone(store: Store, jql: str, expected: list[str]) -> None:
    assert sorted(keys(store, jql)) == expected


def test_the_same_literal_means_another_instant_for_a_user_in_utc(store: Store) -> None:
    assert sorted(keys(store, 'updated >= "2026-11-28 15:04"', tz="UTC")) == ["SUP-1", "SUP-2"]
    assert sorted(keys(store, 'updated >= "2026-11-28 15:04"')) == ["DEL-1", "SUP-1", "SUP-2"]
    assert sorted(keys(store, 'updated = "2026-11-28 15:04"', tz="UTC")) == ["SUP-1"]
    assert sorted(keys(store, 'updated < "2026-11-28"', tz="UTC")) == ["SUP-3"]


@pytest.mark.parametrize(("jql", "message"), [
    ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
    ("status = Blocked", "The value 'Blocked' does not exist for the field 'status'."),
    ("key = SUP-99", "An issue with key 'SUP-99' does not exist for field 'key'."),
    ("key = 'not a key'", "The issue key 'not a key' for field 'key'."[:-1] + " is invalid."),
    ("flavour = vanilla", "Field 'flavour' does not exist or you do not have permission to view it."),
    ("project ~ SUP", "The operator '~' is not supported by the 'project' field."),
    ('updated > "yesterday"', "Date value 'yesterday' for field 'updated' is invalid. Valid formats include: "
                              "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
                              "format e.g. '-5d', '4w 2d'."),
    ("project = SUP ORDER BY labels", "Not able to sort using field 'labels'."),
    ("cf[10052] = lots", "The value 'lots' is not a valid number for the field 'cf[10052]'."),
    ('"Salesforce Stage" = Won', "The value 'Won' does not exist for the field 'Salesforce Stage'."),
    ("assignee = whoever()", "Unable to find JQL function 'whoever()'."),
])
def test_value_errors_use_jiras_messages(store: Store, jql: str, message: str) -> None:
    with pytest.raises(JqlError) as caught:
        keys(store, jql)
    assert str(caught.value) == message


def test_unbounded_queries_are_flagged_and_default_to_newest_key_first(store: Store) -> None:
    query = compile_query(parse("ORDER BY key"), _ctx())
    assert not query.bounded
    assert keys(store, "project in (SUP, DEL)") == ["SUP-3", "SUP-2", "SUP-1", "DEL-1"]


def _ctx() -> Any:
    me = api_user("sync-bot@example.com", "UTC")
    return CompileContext(zone("UTC"), NOW, me.account_id, True, Directory(me), lambda ref: None)
