"""Vectorized pandas transform between Salesforce records and Jira issues (see README.md here).

    to_jira(mapping, sf_frame, *, user_map=None) -> TransformResult
    to_salesforce(mapping, jira_frame, *, user_map=None) -> TransformResult
    canonical_values(mapping, frame, side, *, user_map=None) -> TransformResult   every field from one side
        whatever its direction, rejected records kept (for reconciliation)
    record_hash(frame, columns=None) -> Series        field_hashes(frame, columns=None) -> DataFrame
    differences(left, right, columns=None) -> DataFrame[bool]    by_sf_id(result) -> DataFrame
    comments_to_jira(mapping, sf_comments) / comments_to_salesforce(mapping, jira_comments) -> CommentsResult
"""

from __future__ import annotations

from sfjira.transform.canonical import by_sf_id, differences
from sfjira.transform.comments import CommentsResult, comments_to_jira, comments_to_salesforce
from sfjira.transform.engine import TransformResult, canonical_values, to_jira, to_salesforce
from sfjira.transform.rejects import REJECT_COLUMNS
from sfjira.values.hashing import field_hashes, record_hash

__all__ = ["REJECT_COLUMNS", "CommentsResult", "TransformResult", "by_sf_id", "canonical_values", "comments_to_jira",
           "comments_to_salesforce", "differences", "field_hashes", "record_hash", "to_jira", "to_salesforce"]
