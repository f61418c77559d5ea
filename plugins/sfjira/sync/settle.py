"""The life cycle of a reject: it stays open while its record keeps failing, and closes itself once a
run carries the record through without recording that reject again.

Rule, per direction: a record whose source side this run read (a Salesforce record for sf_to_jira, a
Jira issue for jira_to_sf) went through the plan and both loads. Its open rejects of that direction
which this run did not record again are closed: either it synced (written, or found in sync with
nothing to write), or it now fails for another reason -- then that reason is its open reject and the
old one, which it got past, closes. A reject recorded again keeps one row with the latest message and
`attempts` + 1 (sfjira.state.rejects.save).

Which direction a stored reject belongs to follows from how it was recorded:
- side "salesforce", a transform or identity code: the Salesforce record's value was refused in the
  plan (sf_to_jira);
- side "salesforce", any other code: Salesforce refused a write of the Jira issue's values (jira_to_sf);
- side "jira", record id a Jira key: the issue's value was refused in the plan (jira_to_sf);
- side "jira", record id a Salesforce Id: Jira refused a write of the record's values (sf_to_jira).
A record is never closed for a direction whose source this run did not read: a Salesforce edit read
alone says nothing about whether Salesforce would now take the Jira value it refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sfjira.storage import iter_parts
from sfjira.sync.replay import is_jira_key
from sfjira.sync.run import SyncRun
from sfjira.transform.rejects import REASONS

PLAN_CODES = frozenset(REASONS)
IDENTITY_PREFIX = "IDENTITY_"


def directions(rejects: pd.DataFrame) -> pd.Series:
    """sf_to_jira | jira_to_sf for each stored reject row (see the module doc)."""
    code = rejects["code"].astype(str)
    in_plan = code.isin(PLAN_CODES) | code.str.startswith(IDENTITY_PREFIX)
    keyish = is_jira_key(rejects["record_id"])
    on_sf = (rejects["side"] == "salesforce").to_numpy()
    sf_to_jira = np.where(on_sf, in_plan.to_numpy(), ~keyish.to_numpy())
    return pd.Series(np.where(sf_to_jira, "sf_to_jira", "jira_to_sf"), index=rejects.index)


def settled(rejects: pd.DataFrame, run_id: str, sf_read: set[str], jira_read: set[str]) -> pd.DataFrame:
    """The open rejects this run settles: their record's direction was read, and not rejected again.

    `sf_read`: Salesforce ids read; `jira_read`: Jira keys read and the Salesforce ids they are linked to."""
    if not len(rejects):
        return rejects
    ids = rejects["record_id"].astype(str)
    read = np.where(directions(rejects) == "sf_to_jira", ids.isin(list(sf_read)), ids.isin(list(jira_read)))
    again = (rejects["last_run"] == run_id).to_numpy()
    return rejects[read & ~again]


def close_settled(run: SyncRun, plan_out: dict[str, Any]) -> int:
    """Close the open rejects this (completed, not dry) run settled; returns how many."""
    open_rejects = run.state.rejects(run.name)
    read = plan_out.get("read")
    if not len(open_rejects) or not read:
        return 0
    # Ids only, part by part: the extracts are part sets (sfjira.storage).
    sf_read = {i for part in iter_parts(read["salesforce"]) for i in part["Id"].astype(str)}
    keys = pd.Series([k for part in iter_parts(read["jira"]) for k in part["key"].astype(str)], dtype=object)
    # The links of the issues read only (not every link of the mapping).
    linked = run.state.links_of(run.name, jira_keys=sorted(set(keys)), state="active")["sf_id"]
    done = settled(open_rejects, run.run_id, sf_read, set(keys) | set(linked))
    return run.state.close_rejects(run.name, done["id"].tolist())
