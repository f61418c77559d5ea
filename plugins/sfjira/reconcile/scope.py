"""Scope helpers for a reconciliation of "records changed since a date".

`compare` reads absence as drift: a link whose record is not in the frames is an orphan, an issue
naming a record that is not there is missing in Salesforce. With a since-date scope the frames hold
only what changed, so the DAG (1) reads the changed records of both sides, (2) fetches by id the
`counterparts` those records point at that were not read, and (3) compares with `in_scope_links`.
Whatever is still absent after (2) is really gone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sfjira.hooks.jira_frames import SFID_COLUMN
from sfjira.mapping.model import Mapping


@dataclass(frozen=True)
class Counterparts:
    sf_ids: list[str]      # Salesforce records to fetch by Id
    jira_keys: list[str]   # Jira issues to fetch by key


def _text(values: pd.Series) -> pd.Series:
    return values.dropna().astype("str")


def in_scope_links(links: pd.DataFrame, sf_frame: pd.DataFrame, jira_frame: pd.DataFrame) -> pd.DataFrame:
    """The links with at least one side among the records read."""
    if not len(links):
        return links
    touched = links["sf_id"].isin(_text(sf_frame["Id"])) | links["jira_key"].isin(_text(jira_frame["key"]))
    return links[touched.to_numpy()].reset_index(drop=True)


def counterparts(mapping: Mapping, links: pd.DataFrame, sf_frame: pd.DataFrame,
                 jira_frame: pd.DataFrame) -> Counterparts:
    """Ids the records read point at (through links, the key field, the carried Salesforce id) that
    were not read themselves."""
    scoped = in_scope_links(links, sf_frame, jira_frame)
    active = scoped[scoped["state"] == "active"] if len(scoped) and "state" in scoped.columns else scoped
    want_sf = [active["sf_id"]] if len(active) else []
    want_j = [active["jira_key"]] if len(active) else []
    key_field = mapping.salesforce.jira_key_field
    if key_field in sf_frame.columns:
        want_j.append(sf_frame[key_field])
    carried = (mapping.jira.salesforce_id_field, SFID_COLUMN if mapping.jira.salesforce_id_property else None)
    want_sf.extend(jira_frame[c] for c in carried if c and c in jira_frame.columns)
    return Counterparts(_absent(want_sf, sf_frame["Id"]), _absent(want_j, jira_frame["key"]))


def _absent(wanted: list[pd.Series], have: pd.Series) -> list[str]:
    if not wanted:
        return []
    ids = _text(pd.concat(wanted, ignore_index=True)).drop_duplicates()
    return sorted(ids[~ids.isin(_text(have))].tolist())
