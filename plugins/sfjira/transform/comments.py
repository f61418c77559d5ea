"""Salesforce activities (CaseComment, Task) <-> Jira comments or worklogs.

Every copy starts with a header line carrying the mapping's marker and the source:
    [sfjira] from Salesforce 00a5g00000AbCdEAAV by Ada Lovelace
    <body>
Bodies that start with the marker are our own copies coming back: they are never copied again
(echo suppression without any state), and the header tells a reader where the text came from.

Input columns
  Salesforce: Id, <parent_field> (e.g. ParentId), <body_field> (e.g. CommentBody), optional
              CreatedDate, CreatedBy.Name and, for worklogs, <duration_field> (minutes)
  Jira:       id, issue_key, body (plain text), optional created, author (display name),
              timeSpentSeconds (worklogs)
Output `.frame` (indexed by the source comment id, rejected and echoed rows left out)
  to Jira:        parent_sf_id, body, created (+ timeSpentSeconds for worklogs)
  to Salesforce:  issue_key, body, created (+ <duration_field> in minutes for worklogs)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sfjira.exceptions import TransformError
from sfjira.mapping.model import CommentsMapping, FlowDirection, Mapping
from sfjira.transform.rejects import Rejects
from sfjira.values.arrowcol import STRING, bool_mask, null_mask, to_series
from sfjira.values.coerce import text_of
from sfjira.values.datetimes import datetime_text
from sfjira.values.numbers import decimal_text
from sfjira.values.text import overflow_mask

JIRA_COMMENT_LIMIT = 32767  # characters, Jira's default text-field limit


class _Names(TypedDict):
    """How a comments reject names what it is about (Rejects.add's naming arguments)."""
    key: str
    source: str
    target: str
    side: str
    target_side: str


@dataclass(frozen=True)
class CommentsResult:
    frame: pd.DataFrame
    rejects: pd.DataFrame
    echoes: pd.Index  # source ids skipped because they are our own copies


def comments_to_jira(mapping: Mapping, sf_comments: pd.DataFrame) -> CommentsResult:
    comments = _config(mapping, "sf_to_jira")
    sf = comments.salesforce
    _require(sf_comments, ["Id", sf.parent_field, sf.body_field], "Salesforce")
    extra: dict[str, pa.Array] = {}
    if comments.jira.kind == "worklog":
        minutes, _ = decimal_text(sf_comments[sf.duration_field])
        seconds = pc.multiply(pc.cast(minutes, pa.float64()), 60)
        extra["timeSpentSeconds"] = pc.cast(pc.round(seconds), pa.int64()).cast(STRING)
    return _copy(mapping, sf_comments, ids="Id", parent=sf.parent_field, body=sf.body_field, origin="Salesforce",
                 marker=comments.marker, author="CreatedBy.Name", created="CreatedDate",
                 parent_out="parent_sf_id", limit=JIRA_COMMENT_LIMIT, extra=extra)


def comments_to_salesforce(mapping: Mapping, jira_comments: pd.DataFrame) -> CommentsResult:
    comments = _config(mapping, "jira_to_sf")
    _require(jira_comments, ["id", "issue_key", "body"], "Jira")
    extra: dict[str, pa.Array] = {}
    if comments.jira.kind == "worklog":
        seconds, _ = decimal_text(jira_comments["timeSpentSeconds"])
        minutes = pc.divide(pc.cast(seconds, pa.float64()), 60)
        extra[str(comments.salesforce.duration_field)] = pc.cast(pc.round(minutes), pa.int64()).cast(STRING)
    return _copy(mapping, jira_comments, ids="id", parent="issue_key", body="body", origin="Jira",
                 marker=comments.marker, author="author", created="created", parent_out="issue_key",
                 limit=comments.salesforce.max_length, extra=extra)


def _config(mapping: Mapping, direction: FlowDirection) -> CommentsMapping:
    if mapping.comments is None or not mapping.comments.flows(direction):
        raise TransformError(f"mapping `{mapping.name}` does not copy comments {direction}",
                             fix="add or widen the `comments:` section of the mapping")
    return mapping.comments


def _require(frame: pd.DataFrame, columns: list[str], side: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise TransformError(f"the {side} comments frame lacks column(s) {', '.join(missing)}",
                             fix="extract them (see sfjira/transform/comments.py for the column contract)")


def _copy(mapping: Mapping, frame: pd.DataFrame, *, ids: str, parent: str, body: str, origin: str, marker: str,
          author: str, created: str, parent_out: str, limit: int | None,
          extra: dict[str, pa.Array]) -> CommentsResult:
    id_values = frame[ids].astype("str").to_numpy(dtype=object)
    text = pc.replace_substring_regex(text_of(frame[body])[0], r"\r\n?", "\n")
    echo = bool_mask(pc.starts_with(text, marker))
    rejects = Rejects(mapping.name, "sf_to_jira" if origin == "Salesforce" else "jira_to_sf",
                      mapping.source_file, id_values)
    side, target_side = ("salesforce", "jira") if origin == "Salesforce" else ("jira", "salesforce")
    names: _Names = {"key": "comments", "source": body, "target": "comment", "side": side,
                     "target_side": target_side}
    rejects.add(null_mask(text) & ~echo, "REQUIRED_MISSING", frame[body], detail="is empty: nothing to copy",
                fix=f"none needed; delete the empty comment in {origin} to clear this reject", **names)
    header = pc.binary_join_element_wise(
        pa.scalar(f"{marker} from {origin} ", STRING), text_of(frame[ids])[0],
        _by(frame, author), pa.scalar("\n", STRING), pa.scalar("", STRING))
    copied = pc.binary_join_element_wise(header, text, pa.scalar("", STRING))
    if limit:
        rejects.add(overflow_mask(copied, limit) & ~echo, "STRING_TOO_LONG", frame[body], limit=limit,
                    fix=f"split the comment in {origin} into parts shorter than {limit} characters", **names)
    stamps = datetime_text(frame[created])[0] if created in frame.columns else pa.nulls(len(frame), STRING)
    keep = ~rejects.rows & ~echo
    index = pd.Index(id_values[keep], dtype="str", name="source_id")
    columns = {parent_out: text_of(frame[parent])[0], "body": copied, "created": stamps, **extra}
    out = pd.DataFrame({k: to_series(v.filter(pa.array(keep)), index) for k, v in columns.items()}, index=index)
    return CommentsResult(out, rejects.frame(), pd.Index(id_values[echo], dtype="str", name="source_id"))


def _by(frame: pd.DataFrame, author: str) -> pa.Array:
    if author not in frame.columns:
        return pa.array(np.full(len(frame), ""), STRING)
    name = text_of(frame[author])[0]
    return pc.fill_null(pc.binary_join_element_wise(pa.scalar(" by ", STRING), name, pa.scalar("", STRING)), "")
