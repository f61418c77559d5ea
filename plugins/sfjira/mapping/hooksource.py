"""Live metadata for `validate --live`, read through the sync's own hooks.

Connection ids come from the environment (SFJIRA_SALESFORCE_CONN_ID, SFJIRA_JIRA_CONN_ID; default
`salesforce_default` / `jira_default`), defined like any Airflow connection (e.g. AIRFLOW_CONN_*).
Only stock methods of the provider hooks are used: SalesforceHook.describe_object and the
atlassian client's field and createmeta calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfjira.exceptions import SfJiraError


class LiveUnavailable(SfJiraError):
    code = "LIVE_CHECK_UNAVAILABLE"


@dataclass
class LiveSources:
    describe: Callable[[str], dict]
    jira_fields: list[dict]
    createmeta: Callable[[str, str], Any]


def from_hooks(sf_conn_id: str | None = None, jira_conn_id: str | None = None) -> LiveSources:
    sf_conn_id = sf_conn_id or os.environ.get("SFJIRA_SALESFORCE_CONN_ID", "salesforce_default")
    jira_conn_id = jira_conn_id or os.environ.get("SFJIRA_JIRA_CONN_ID", "jira_default")
    try:
        from sfjira.hooks.jira import JiraSyncHook
        from sfjira.hooks.salesforce import SalesforceSyncHook
    except ImportError as err:
        raise LiveUnavailable(f"--live needs the sync hooks (sfjira.hooks.salesforce.SalesforceSyncHook, "
                              f"sfjira.hooks.jira.JiraSyncHook), which cannot be imported: {err}",
                              fix="run the static validation without --live, or install the complete plugin") from None
    try:
        describe = SalesforceSyncHook(salesforce_conn_id=sf_conn_id).describe_object
        client = JiraSyncHook(jira_conn_id=jira_conn_id).get_conn()
        fields = client.get_all_fields()
    except Exception as err:  # any connection failure ends the live check the same way
        raise LiveUnavailable(f"cannot read metadata through connections `{sf_conn_id}` / `{jira_conn_id}`: "
                              f"{type(err).__name__}: {err}",
                              fix="define both Airflow connections (or set SFJIRA_SALESFORCE_CONN_ID / "
                                  "SFJIRA_JIRA_CONN_ID) and check they reach the APIs") from None

    def createmeta(project: str, issue_type: str) -> Any:
        listing = client.issue_createmeta_issuetypes(project)
        types = listing.get("issueTypes") or listing.get("values") or []
        type_id = next((t["id"] for t in types if t.get("name") == issue_type), None)
        if type_id is None:
            raise LiveUnavailable(f"Jira project {project} has no issue type `{issue_type}`",
                                  fix=f"use one of: {', '.join(t.get('name', '?') for t in types)}")
        return client.issue_createmeta_fieldtypes(project, type_id, limit=200)

    return LiveSources(describe, fields, createmeta)
