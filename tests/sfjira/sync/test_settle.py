"""Which open rejects a run settles: per direction, only for records whose source side it read."""

from __future__ import annotations

import pandas as pd

from sfjira.sync.settle import directions, settled


def _rows(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"id": i, "side": s, "record_id": r, "code": c, "last_run": run}
                         for i, (s, r, c, run) in enumerate(rows)])


REJECTS = _rows(
    ("salesforce", "006A", "VALUE_UNMAPPED", "old"),             # plan: the record's value (sf_to_jira)
    ("salesforce", "006A", "IDENTITY_KEY_NOT_FOUND", "old"),     # plan: the key it carries (sf_to_jira)
    ("salesforce", "006B", "FIELD_CUSTOM_VALIDATION_EXCEPTION", "old"),  # Salesforce refused Jira's value
    ("jira", "006C", "400", "old"),                              # Jira refused the record's value
    ("jira", "DEL-7", "INVALID_NUMBER", "old"),                  # plan: the value (jira_to_sf)
    ("jira", "006D", "400", "now"),                              # recorded again by this run
)


def test_directions_follow_how_each_reject_was_recorded() -> None:
    assert directions(REJECTS).tolist() == ["sf_to_jira", "sf_to_jira", "jira_to_sf", "sf_to_jira", "jira_to_sf",
                                            "sf_to_jira"]


def test_only_rejects_of_a_read_direction_not_recorded_again_close() -> None:
    # Salesforce read 006A-006D; Jira read nothing: Salesforce's refusal of 006B's Jira value stays open.
    assert settled(REJECTS, "now", {"006A", "006B", "006C", "006D"}, set())["id"].tolist() == [0, 1, 3]
    # Jira read DEL-7 and the issue linked to 006B: those close, the Salesforce-side ones stay.
    assert settled(REJECTS, "now", set(), {"DEL-7", "006B"})["id"].tolist() == [2, 4]
    assert settled(REJECTS.iloc[:0], "now", {"006A"}, set()).empty
