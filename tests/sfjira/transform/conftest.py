"""Build small mappings and frames shaped like the hooks' output (see plugins/sfjira/transform/README.md)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import yaml

from sfjira.mapping import Mapping, parse_mapping

SUMMARY = {"salesforce": "Subject", "jira": "summary", "direction": "both", "owner": "latest", "required": True,
           "max_length": 255, "on_overflow": "truncate"}


def mapping(*fields: dict[str, Any], summary: dict[str, Any] | None = None, **top: Any) -> Mapping:
    """A valid mapping with a summary field (Subject <-> summary) plus `fields`; `top` adds sections."""
    data = {"name": "t", "salesforce": {"object": "Case", "jira_key_field": "Jira_Key__c"},
            "jira": {"project": "SUP", "issue_type": "Bug", "salesforce_id_field": "customfield_10050",
                     "salesforce_id_property": "sfjira"},
            "fields": [summary or SUMMARY, *fields], **top}
    return parse_mapping(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "t.yaml")


def sf_frame(**columns: Any) -> pd.DataFrame:
    """Salesforce rows: Id 5000000000000000{n}, Subject "s{n}" unless given, plus `columns`."""
    n = len(next(iter(columns.values()))) if columns else 1
    data = {"Id": [f"500{i:015d}" for i in range(n)], "Subject": [f"s{i}" for i in range(n)]}
    data.update(columns)
    return pd.DataFrame(data)


def jira_frame(**columns: Any) -> pd.DataFrame:
    """Jira rows: id 1000{n}, key SUP-{n}, summary "s{n}" unless given, plus `columns`."""
    n = len(next(iter(columns.values()))) if columns else 1
    data = {"id": [str(10000 + i) for i in range(n)], "key": [f"SUP-{i}" for i in range(n)],
            "summary": [f"s{i}" for i in range(n)]}
    data.update(columns)
    return pd.DataFrame(data)


def values(series: pd.Series) -> list[Any]:
    """Plain Python values, missing as None (str columns hold NaN, boolean ones NA)."""
    return [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else
            (list(v) if hasattr(v, "tolist") and not isinstance(v, str) else v) for v in series.tolist()]
