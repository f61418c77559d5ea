"""The independent oracle: both systems read through their REST APIs only (never the state store).

- duplicates: Jira issues beyond the first carrying the same Salesforce id, plus issues carrying none
- missing: live cases (neither deleted in Salesforce nor by a person in Jira) without an issue
- drift: mapped fields that differ after the mapping's value maps (the reconciliation's pure compare on
  frames read here), a case whose Jira key is not its issue's, a case deleted in Salesforce whose bug is not
  Done, a case whose bug was deleted in Jira that is not flagged, issues of records that do not exist
- comments: every comment written by a person (a unique token) present exactly once on each side
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sfjira.hooks.jira_frames import adf_to_text, issues_to_frame
from sfjira.hooks.salesforce_frames import records_to_frame
from sfjira.mapping.model import Mapping
from sfjira.reconcile.compare import compare
from sfjira.reconcile.extract import jira_fields, reconcile_soql
from sfjira.reconcile.result import FIELD_CATEGORIES
from tests.chaos.edits import Book
from tests.e2e.world import World

FLAG_FIELD, FLAG_VALUE = "Jira_Status__c", "Deleted in Jira"  # case_to_bug's jira_deleted policy


@dataclass
class Verdict:
    cases: int = 0
    issues: int = 0
    duplicates: int = 0
    missing: int = 0
    drift: int = 0
    comment_errors: int = 0
    details: dict[str, list[Any]] = field(default_factory=dict)

    def note(self, what: str, item: Any) -> None:
        self.details.setdefault(what, []).append(item)

    @property
    def clean(self) -> bool:
        return not (self.duplicates or self.missing or self.drift or self.comment_errors)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["details"] = {k: v[:10] for k, v in self.details.items()}  # a sample is enough to look into
        return out


def sfid_of(issue: dict[str, Any], mapping: Mapping) -> str | None:
    fields = issue.get("fields") or {}
    prop = (issue.get("properties") or {}).get(mapping.jira.salesforce_id_property or "", {}) or {}
    return fields.get(mapping.jira.salesforce_id_field or "") or prop.get("sfid")


def judge(world: World, mapping: Mapping, book: Book) -> Verdict:
    v = Verdict()
    sf_rows = world.sf.query(reconcile_soql(mapping).replace(" FROM ", f", {FLAG_FIELD} FROM ", 1))
    deleted = {r["Id"] for r in world.sf.query("SELECT Id FROM Case WHERE IsDeleted = true", deleted=True)}
    wanted = ",".join(dict.fromkeys([*jira_fields(mapping), "updated", "status", mapping.jira.salesforce_id_field]))
    issues = world.issues(f"project = {mapping.jira.project}", fields=wanted)
    v.cases, v.issues = len(sf_rows), len(issues)

    by_sfid: dict[str, list[dict[str, Any]]] = {}
    for issue in issues:
        sfid = sfid_of(issue, mapping)
        if not sfid:
            v.duplicates += 1
            v.note("issue_without_sfid", issue["key"])
            continue
        by_sfid.setdefault(sfid, []).append(issue)
    for sfid, found in by_sfid.items():
        if len(found) > 1:
            v.duplicates += len(found) - 1
            v.note("duplicate", [sfid, [i["key"] for i in found]])

    live = {r["Id"]: r for r in sf_rows}
    paired_sf, paired_issues = [], []
    for case_id, row in live.items():
        found = by_sfid.get(case_id, [])
        if case_id in book.jira_deleted:
            if row.get(FLAG_FIELD) != FLAG_VALUE:
                v.drift += 1
                v.note("jira_delete_not_flagged", case_id)
            if found:
                v.duplicates += len(found)
                v.note("recreated_after_jira_delete", [case_id, [i["key"] for i in found]])
            continue
        if not found:
            v.missing += 1
            v.note("missing", case_id)
            continue
        if row.get(mapping.salesforce.jira_key_field) != found[0]["key"]:
            v.drift += 1
            v.note("jira_key_mismatch", [case_id, row.get(mapping.salesforce.jira_key_field), found[0]["key"]])
        paired_sf.append(row)
        paired_issues.append(found[0])
    for sfid, found in by_sfid.items():
        if sfid in live:
            continue
        if sfid in deleted:
            for issue in found:
                if issue["fields"]["status"]["name"] != "Done":
                    v.drift += 1
                    v.note("sf_delete_not_done", [sfid, issue["key"], issue["fields"]["status"]["name"]])
        else:
            v.duplicates += len(found)
            v.note("issue_of_unknown_record", [sfid, [i["key"] for i in found]])

    v.drift += field_drift(mapping, paired_sf, paired_issues, v)
    v.comment_errors = comment_errors(world, mapping, book, live, by_sfid, v)
    return v


def field_drift(mapping: Mapping, sf_rows: list[dict[str, Any]], issues: list[dict[str, Any]], v: Verdict) -> int:
    """Drifting mapped fields of the paired records: the reconciliation's compare on frames read here."""
    if not sf_rows:
        return 0
    sf_frame = records_to_frame([sf_rows], mapping.salesforce_columns())
    jira_frame = issues_to_frame([issues], jira_fields(mapping), sfid_property=mapping.jira.salesforce_id_property)
    rows = compare(mapping, sf_frame, jira_frame, None).rows
    cells = rows[rows["category"].isin(FIELD_CATEGORIES)]
    for row in cells.head(10).itertuples():
        v.note("field_drift", [row.sf_id, row.jira_key, row.field, str(row.sf_value)[:60], str(row.jira_value)[:60]])
    other = rows[~rows["category"].isin(FIELD_CATEGORIES)]
    for row in other.head(10).itertuples():
        v.note(f"compare_{row.category}", [row.sf_id, row.jira_key, str(row.detail)[:120]])
    return len(rows)


def comment_errors(world: World, mapping: Mapping, book: Book, live: dict[str, dict[str, Any]],
                   by_sfid: dict[str, list[dict[str, Any]]], v: Verdict) -> int:
    """Each token the editors wrote, counted on both sides of its record: exactly once on each."""
    sf_text: dict[str, list[str]] = {}
    for row in world.sf.query("SELECT ParentId, CommentBody FROM CaseComment"):
        sf_text.setdefault(row["ParentId"], []).append(row["CommentBody"] or "")
    errors = 0
    jira_text: dict[str, list[str]] = {}
    for token, (origin, case_id) in sorted(book.comments.items()):
        if case_id not in live or case_id in book.jira_deleted or not by_sfid.get(case_id):
            continue  # deleted on one side: its comments follow the record's fate, not checked here
        key = by_sfid[case_id][0]["key"]
        if key not in jira_text:
            jira_text[key] = [adf_to_text(c["body"]) or "" for c in _jira_comments(world, key)]
        counts = Counter({"salesforce": sum(token in t for t in sf_text.get(case_id, [])),
                          "jira": sum(token in t for t in jira_text[key])})
        if counts != Counter({"salesforce": 1, "jira": 1}):
            errors += 1
            v.note("comment", [token, origin, case_id, key, dict(counts)])
    return errors


def _jira_comments(world: World, key: str) -> list[dict[str, Any]]:
    comments: list[dict[str, Any]] = []
    while True:
        body = world.jira.ok("GET", f"/issue/{key}/comment", params={"startAt": len(comments), "maxResults": 100})
        comments += body["comments"]
        if len(comments) >= body["total"] or not body["comments"]:
            return comments
