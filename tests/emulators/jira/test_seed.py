"""Deterministic seeding: same parameters, same world; 1,000+ issues in one call; admin actions."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import JiraRest

BASE = "2026-11-28T12:00:00.000Z"


def snapshot(rest: JiraRest) -> list[dict[str, Any]]:
    body = rest.ok("POST", "/search/jql", json={"jql": "project in (SUP, DEL) ORDER BY key", "maxResults": 100,
                                                "fields": ["summary", "description", "comment", "status", "parent",
                                                           "created", "updated", "customfield_10055"]})
    return [{k: v for k, v in i.items() if k != "self"} for i in body["issues"]]


def test_the_same_seed_gives_the_same_world(jira: EmulatorProcess, rest: JiraRest) -> None:
    first = jira.seed(seed=11, issues_per_project=20, base_time=BASE)
    world = snapshot(rest)
    assert jira.seed(seed=11, issues_per_project=20, base_time=BASE, reset=True) == first
    assert snapshot(rest) == world
    jira.seed(seed=12, issues_per_project=20, base_time=BASE, reset=True)
    assert snapshot(rest) != world


def test_seeded_issues_look_like_the_catalog(jira: EmulatorProcess, rest: JiraRest, rest2: JiraRest) -> None:
    summary = jira.seed(seed=5, issues_per_project=40, comments_per_issue=3, sfid_fraction=0.5, base_time=BASE)
    assert summary["projects"]["SUP"] == {"count": 40, "first": "SUP-1", "last": "SUP-40"}
    epics = rest.search_keys("project = DEL AND issuetype = Epic")
    assert epics and all(rest.issue(k, fields="customfield_10055")["fields"]["customfield_10055"] for k in epics)
    assert rest.search_keys(f"parent in ({', '.join(epics)})")
    assert set(rest.search_keys("issuetype = Bug")) < set(rest.search_keys("project = SUP"))
    linked = rest.search_keys("cf[10050] is not EMPTY")
    assert linked and rest.search_keys(
        f'issue.property[sfjira].sfid = "{rest.issue(linked[0], fields="customfield_10050")["fields"]["customfield_10050"]}"'
    ) == [linked[0]]
    assert rest.search_keys('updated > "2026-11-28 13:00"') == []  # nothing after base_time (14:00 Berlin)
    texts = [c["body"] for k in rest2.search_keys("project = SUP")[:10]
             for c in rest2.ok("GET", f"/issue/{k}/comment")["comments"]]
    assert texts and any(not t.isascii() for t in texts)
    description = rest.issue("SUP-1", fields="description")["fields"]["description"]
    assert description["type"] == "doc" and {"type": "hardBreak"} in description["content"][0]["content"]


def test_seeding_over_a_thousand_issues_in_one_call(jira: EmulatorProcess, rest: JiraRest) -> None:
    started = time.perf_counter()
    summary = jira.seed(seed=1, issues_per_project=600)
    elapsed = time.perf_counter() - started
    print(f"\nseeded {summary['created']} issues and {summary['comments']} comments in {elapsed:.2f}s")
    assert summary["created"] == 1200
    assert jira.admin("POST", "state", {})["issues"] == {"SUP": 600, "DEL": 600}
    assert len(rest.search_keys("project in (SUP, DEL)")) == 1200


def test_admin_actions_reject_bad_input(jira: EmulatorProcess) -> None:
    for action, body in (("seed", {"issues": 5}), ("seed", {"projects": ["XYZ"]}),
                         ("set_updated", {"key": "SUP-404", "updated": BASE})):
        with pytest.raises(requests.HTTPError) as caught:
            jira.admin("POST", action, body)
        assert caught.value.response.status_code == 400
