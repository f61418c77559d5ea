"""Judging the claims of one run: the pure rules, plus the few look-ups they need.

Only claims no link backs are judged, and most are settled without a call. Jira is asked once per
key still in doubt (GET issue/{key}: one call per key, as a JQL `key in (...)` fails as a whole when
one of the keys does not exist), and Salesforce once for the mapping object's key prefix when an
issue carries a well-formed id no link backs. A run without such claims makes no call at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from sfjira.identity import rules

if TYPE_CHECKING:
    from sfjira.hooks.jira import JiraSyncHook
    from sfjira.hooks.salesforce import SalesforceSyncHook
    from sfjira.mapping.model import Mapping


@dataclass(frozen=True)
class Verdict:
    refused: pd.DataFrame                                  # rules.REFUSED_COLUMNS
    lookups: dict[str, int] = field(default_factory=dict)  # calls made per side: {"jira": n, "salesforce": n}


def judge(mapping: Mapping, sf_frame: pd.DataFrame, jira_frame: pd.DataFrame, links: pd.DataFrame | None,
          jira: JiraSyncHook | Any, salesforce: SalesforceSyncHook | Any) -> Verdict:
    """The claims of these frames that the sync must not use (see `sfjira.identity.rules`)."""
    claims = rules.claims(mapping, sf_frame, jira_frame, links)
    refused_keys, doubtful = rules.screen_keys(mapping, claims.keys, links)
    wanted = sorted(set(doubtful["jira_key"]))
    found = {key: jira.issue_identity(key, _id_fields(mapping), _id_properties(mapping)) for key in wanted}
    refused_ids, well_formed = rules.screen_sfids(mapping, claims.sfids)
    prefix = salesforce.key_prefix(mapping.salesforce.object) if len(well_formed) else ""
    refused = pd.concat([refused_keys, rules.judge_looked_up(mapping, doubtful, found), refused_ids,
                         rules.judge_prefix(mapping, well_formed, prefix)], ignore_index=True)
    return Verdict(refused[rules.REFUSED_COLUMNS],
                   {"jira": len(wanted), "salesforce": 1 if len(well_formed) else 0})


def _id_fields(mapping: Mapping) -> list[str]:
    return [f for f in ("project", "issuetype", mapping.jira.salesforce_id_field) if f]


def _id_properties(mapping: Mapping) -> list[str]:
    return [mapping.jira.salesforce_id_property] if mapping.jira.salesforce_id_property else []
