"""JQL dates mean minutes in the API user's time zone (myself.timeZone), as in Jira."""

from __future__ import annotations

from typing import Any

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import JiraRest


def pin(jira: EmulatorProcess, key: str, updated: str) -> dict[str, Any]:
    return jira.admin("POST", "set_updated", {"key": key, "updated": updated})


def test_a_berlin_user_finds_an_issue_updated_within_the_bound_minute(jira: EmulatorProcess,
                                                                     rest: JiraRest) -> None:
    assert rest.ok("GET", "/myself")["timeZone"] == "Europe/Berlin"
    rest.create("SUP", "Bug", "In the minute")
    rest.create("SUP", "Bug", "A minute later")
    assert pin(jira, "SUP-1", "2026-11-28T15:04:30.000Z")["updated"] == "2026-11-28T16:04:30.000+0100"
    pin(jira, "SUP-2", "2026-11-28T15:05:00.000Z")
    assert rest.search_keys('updated >= "2026-11-28 16:04"') == ["SUP-2", "SUP-1"]
    assert rest.search_keys('updated <= "2026-11-28 16:04"') == ["SUP-1"]  # same minute: included
    assert rest.search_keys('updated = "2026/11/28 16:04"') == ["SUP-1"]
    assert rest.search_keys('updated > "2026-11-28 16:04"') == ["SUP-2"]
    # Read as UTC, "16:04" would be an hour after both issues.
    assert rest.search_keys('updated >= "2026-11-28 17:04"') == []
    assert rest.issue("SUP-1", fields="updated")["fields"]["updated"] == "2026-11-28T16:04:30.000+0100"


def test_changing_the_users_zone_moves_the_literal(jira: EmulatorProcess, rest: JiraRest) -> None:
    rest.create("SUP", "Bug", "Zoned")
    pin(jira, "SUP-1", "2026-11-28T15:04:30.000Z")
    jira.configure(time_zone="UTC")
    assert rest.ok("GET", "/myself")["timeZone"] == "UTC"
    assert rest.search_keys('updated = "2026-11-28 15:04"') == ["SUP-1"]
    assert rest.search_keys('updated = "2026-11-28 16:04"') == []
    assert rest.issue("SUP-1", fields="updated")["fields"]["updated"] == "2026-11-28T15:04:30.000+0000"
    jira.configure(timeZone="America/New_York")
    assert rest.search_keys('updated = "2026-11-28 10:04"') == ["SUP-1"]
    # Date-only means midnight where the user is: 15:04 UTC on the 28th is still the 28th in New York.
    assert rest.search_keys('updated >= "2026-11-28" AND updated < "2026-11-29"') == ["SUP-1"]


def test_summer_time_is_applied_to_the_literal(jira: EmulatorProcess, rest: JiraRest) -> None:
    rest.create("SUP", "Bug", "Summer")
    pin(jira, "SUP-1", "2026-07-01T10:00:59.999Z")
    assert rest.search_keys('updated = "2026-07-01 12:00"') == ["SUP-1"]  # CEST is UTC+2
    assert rest.issue("SUP-1", fields="updated")["fields"]["updated"] == "2026-07-01T12:00:59.999+0200"


def test_the_server_clock_offset_moves_new_timestamps(jira: EmulatorProcess, rest: JiraRest) -> None:
    jira.configure(now="2026-11-28T15:04:30.000Z")
    rest.create("SUP", "Bug", "From the past")
    updated = rest.issue("SUP-1", fields="updated")["fields"]["updated"]
    assert updated.startswith("2026-11-28T16:04:3") and updated.endswith("+0100")
    assert rest.search_keys('updated >= "-1m"') == ["SUP-1"]
    assert rest.search_keys('updated = "2026-11-28 16:04"') == ["SUP-1"]
