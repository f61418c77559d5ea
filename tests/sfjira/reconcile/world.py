"""Test input in the shapes the APIs send and the hooks flatten.

Records and issues are written as the REST APIs return them (JSON text parsed with json.loads, so
numbers arrive as floats/ints; Salesforce parents as nested objects; Jira options, statuses and
priorities as objects, descriptions as ADF, the Salesforce id in the `sfjira` entity property) and
flattened by the hooks' own `records_to_frame` / `issues_to_frame`: the compare sees what a real
extract would give it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from typing import Any

import pandas as pd

from sfjira.hooks.jira_frames import issues_to_frame, text_to_adf
from sfjira.hooks.salesforce_frames import records_to_frame
from sfjira.mapping.model import Mapping
from sfjira.pii import PiiProtection
from sfjira.reconcile.deletes import salesforce_columns
from sfjira.transform import to_jira, to_salesforce

SF_STAMP = "2026-03-28T09:00:00.000+0000"
JIRA_STAMP = "2026-03-28T10:00:00.000+0100"
_NAMED = ("status", "priority", "issuetype")
_OPTIONS = ("customfield_10055", "customfield_10061")


def sf_record(sf_id: str, sobject: str = "Case", **values: Any) -> dict[str, Any]:
    """One SOQL record: dotted names become nested parent objects (None parent stays None)."""
    record: dict[str, Any] = {"attributes": {"type": sobject, "url": f"/services/data/v62.0/sobjects/{sobject}/{sf_id}"},
                              "Id": sf_id, "SystemModstamp": values.pop("SystemModstamp", SF_STAMP)}
    for name, value in values.items():
        if "." in name:
            parent, field = name.split(".", 1)
            holder = record.setdefault(parent, {"attributes": {"type": parent}})
            if value is None and holder is not None and len(holder) == 1:
                record[parent] = None
            elif holder is not None:
                holder[field] = value
        else:
            record[name] = value
    return json.loads(json.dumps(record))


def jira_issue(issue_id: int, key: str, *, sfid: str | None = None, mapping_name: str = "test",
               updated: str = JIRA_STAMP, **fields: Any) -> dict[str, Any]:
    """One search result issue with fields in their API shapes and the `sfjira` property."""
    shaped: dict[str, Any] = {"updated": updated, "created": updated}
    for name, value in fields.items():
        if value is None:
            shaped[name] = None
        elif name in _NAMED:
            shaped[name] = {"name": value, "id": "1"}
        elif name in _OPTIONS:
            shaped[name] = {"value": value, "id": "10100"}
        elif name == "description":
            shaped[name] = text_to_adf(value)
        elif name in ("fixVersions", "components"):
            shaped[name] = [{"name": v, "id": str(n)} for n, v in enumerate(value)]
        else:
            shaped[name] = value
    issue: dict[str, Any] = {"id": str(issue_id), "key": key, "fields": shaped}
    if sfid is not None:
        issue["properties"] = {"sfjira": {"sfid": sfid, "mapping": mapping_name}}
    return json.loads(json.dumps(issue))


def sf_frame(mapping: Mapping, records: Iterable[MappingABC[str, Any]]) -> pd.DataFrame:
    return records_to_frame([list(records)], salesforce_columns(mapping))


def jira_frame(mapping: Mapping, issues: Iterable[MappingABC[str, Any]]) -> pd.DataFrame:
    fields = [c for c in mapping.jira_columns() if c not in ("id", "key", "updated")]
    return issues_to_frame([list(issues)], fields, sfid_property=mapping.jira.salesforce_id_property)


def links_frame(pairs: Iterable[tuple[str, str, str]]) -> pd.DataFrame:
    """(sf_id, jira_id, jira_key) triples as active links."""
    rows = list(pairs)
    return pd.DataFrame({"sf_id": [r[0] for r in rows], "jira_id": [r[1] for r in rows],
                         "jira_key": [r[2] for r in rows], "state": "active"})


def synced_state(mapping: Mapping, sf: pd.DataFrame, jira: pd.DataFrame) -> pd.DataFrame:
    """What the sync keeps after agreeing these values: per record and direction, the field hashes of
    the canonical frame of the side the values flowed from (as sync/plan.py stores them, PII keyed)."""
    pii = PiiProtection.for_mapping(mapping)
    parts = []
    for result, direction in ((to_jira(mapping, sf), "sf_to_jira"), (to_salesforce(mapping, jira), "jira_to_sf")):
        frame = result.frame
        ids = frame.index if direction == "sf_to_jira" else result.meta["sf_id"]
        hashes = pii.field_hashes(frame).astype(object).to_dict("records")
        parts.append(pd.DataFrame({"sf_id": list(ids), "direction": direction, "hash": "h",
                                   "field_hashes": hashes}))
    return pd.concat(parts, ignore_index=True)
