"""Live metadata for `validate --live`, read through the sync's own hooks.

Connection ids come from the settings `[sfjira] salesforce_conn_id` / `jira_conn_id` (aliases
SFJIRA_SALESFORCE_CONN_ID, SFJIRA_JIRA_CONN_ID; default `salesforce_default` / `jira_default`), defined
like any Airflow connection (e.g. AIRFLOW_CONN_*).
Uses SalesforceSyncHook.describe and JiraSyncHook.fields / createmeta.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfjira import settings
from sfjira.exceptions import SfJiraError


class LiveUnavailable(SfJiraError):
    code = "LIVE_CHECK_UNAVAILABLE"


@dataclass
class LiveSources:
    describe: Callable[[str], dict[str, Any]]
    jira_fields: list[dict[str, Any]]
    createmeta: Callable[[str, str], Any]


def from_hooks(sf_conn_id: str | None = None, jira_conn_id: str | None = None) -> LiveSources:
    sf_conn_id = sf_conn_id or settings.get("salesforce_conn_id")
    jira_conn_id = jira_conn_id or settings.get("jira_conn_id")
    try:
        # local import: only --live needs the hooks; an install without them gets LiveUnavailable, not a crash
        from sfjira.hooks.jira import JiraSyncHook
        from sfjira.hooks.salesforce import SalesforceSyncHook
    except ImportError as err:
        raise LiveUnavailable(f"--live needs the sync hooks (sfjira.hooks.salesforce.SalesforceSyncHook, "
                              f"sfjira.hooks.jira.JiraSyncHook), which cannot be imported: {err}",
                              fix="run the static validation without --live, or install the complete plugin") from None
    try:
        sf_hook = SalesforceSyncHook(salesforce_conn_id=sf_conn_id)
        jira_hook = JiraSyncHook(jira_conn_id=jira_conn_id)
        fields = jira_hook.fields()
    except Exception as err:  # any connection failure ends the live check the same way
        raise LiveUnavailable(f"cannot read metadata through connections `{sf_conn_id}` / `{jira_conn_id}`: "
                              f"{type(err).__name__}: {err}",
                              fix="define both Airflow connections (or set SFJIRA_SALESFORCE_CONN_ID / "
                                  "SFJIRA_JIRA_CONN_ID) and check they reach the APIs") from None
    # The sync hooks page through createmeta and speak both Cloud and Data Center.
    return LiveSources(sf_hook.describe, fields, jira_hook.createmeta)
