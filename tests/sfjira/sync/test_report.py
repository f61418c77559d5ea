"""The report's protocol minimum counts every read a mapping needs (sfjira.sync.report.protocol_minimum)."""

from __future__ import annotations

from sfjira.sync.report import protocol_minimum

QUIET = {"changed": 0, "deleted_count": 0, "read_path": "rest", "window_count": 0}


def test_an_idle_run_of_a_mapping_with_comments_counts_its_comment_query() -> None:
    with_comments = {**QUIET, "comments": "file:///run/sf_comments.parquet", "comment_count": 0}
    # The extract step's token and /limits, the COUNT(), one empty page; the comment query's empty page.
    assert protocol_minimum(QUIET, {}, {}, {})["salesforce"] == 2 + 1 + 1
    assert protocol_minimum(with_comments, {}, {}, {})["salesforce"] == 2 + 1 + 1 + 1
    assert protocol_minimum({**with_comments, "comment_count": 4001}, {}, {}, {})["salesforce"] == 2 + 1 + 1 + 3


def test_the_workflow_counts_each_step_and_each_status_read_not_one_call_per_issue() -> None:
    load = {"created": 24, "comments_to_jira": 24, "transitioned": 18,
            "workflow_calls": {"steps": 36, "reads": 3, "rereads": 2}}
    # /myself, one search page, one bulk create, 36 steps and 3 workflow reads (rereads after a refusal are
    # above the minimum), 24 comments.
    assert protocol_minimum(QUIET, {"changed": 0}, load, {})["jira"] == 1 + 1 + 1 + 36 + 3 + 24
    # A report from before the walk was counted: one call per issue moved.
    old = {k: v for k, v in load.items() if k != "workflow_calls"}
    assert protocol_minimum(QUIET, {"changed": 0}, old, {})["jira"] == 1 + 1 + 1 + 18 + 24


def test_truncated_jira_comments_count_their_pages() -> None:
    assert protocol_minimum(QUIET, {"changed": 3, "comment_reads": 4}, {}, {})["jira"] == 1 + 1 + 4


def test_each_load_that_writes_opens_its_own_salesforce_session() -> None:
    # Each step is its own process: a token and the budget's /limits read in every step that calls Salesforce.
    jira_writes = {"created": 1}
    sf_writes = {"sf_updated": 1, "before_reads": 1}
    base = 2 + 1 + 1  # the extract's session, COUNT(), one page
    assert protocol_minimum(QUIET, {}, jira_writes, {})["salesforce"] == base + 2
    assert protocol_minimum(QUIET, {}, jira_writes, sf_writes)["salesforce"] == base + 2 + 2 + 1 + 1
    assert protocol_minimum(QUIET, {}, {"updated": 0}, {})["salesforce"] == base
