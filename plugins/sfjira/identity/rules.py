"""Which identities the sync may use: pure rules over frames (no API calls here; see `lookup`).

A record claims an issue by the key in its key field; an issue claims a record by the Salesforce id
it carries (custom field and/or entity property). Both are fields people edit, so a claim the state
store does not already back (a link) is used only if it passes these rules:

  a key      well-formed; of the mapping's project; not linked to another record, nor claimed by two
             records at once; the issue exists, is of the mapping's project and issue type, and carries
             this record's Salesforce id or none at all
  an id      well-formed (15 characters, or 18 with a valid checksum) and of the mapping's object (its
             key prefix, e.g. 500 for Case)

A claim that fails is refused: one row naming the record (or issue), a code, a message and a fix.
The plan then leaves that record out of everything, and the reconciliation reports it as such.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sfjira.identity.keys import JIRA_KEY, is_sfid, preview
from sfjira.mapping.model import Mapping
from sfjira.rows import each_row
from sfjira.values.missing import text_or_none

KEY_MALFORMED = "IDENTITY_KEY_MALFORMED"
KEY_OTHER_PROJECT = "IDENTITY_KEY_OTHER_PROJECT"
KEY_OTHER_ISSUE_TYPE = "IDENTITY_KEY_OTHER_ISSUE_TYPE"
KEY_NOT_FOUND = "IDENTITY_KEY_NOT_FOUND"
KEY_LINKED_ELSEWHERE = "IDENTITY_KEY_LINKED_ELSEWHERE"
KEY_CLAIMED_TWICE = "IDENTITY_KEY_CLAIMED_TWICE"
KEY_CARRIES_OTHER_RECORD = "IDENTITY_KEY_CARRIES_OTHER_RECORD"
SFID_MALFORMED = "IDENTITY_SFID_MALFORMED"
SFID_OTHER_OBJECT = "IDENTITY_SFID_OTHER_OBJECT"

REFUSED_COLUMNS = ["side", "record_id", "sf_id", "jira_key", "code", "field", "value", "message", "fix"]

# code -> (message, fix). Placeholders: key_field, value, project, issue_type, object, mapping, found, other,
# sfid_place, prefix.
_KEY_FIX = ("clear {key_field} on the record (the sync then creates its own {project} {issue_type}), or set it to "
            "the key of the {project} {issue_type} that belongs to this record")
REASONS: dict[str, tuple[str, str]] = {
    KEY_MALFORMED: ("{key_field} holds {value}, which is not a Jira issue key (PROJECT-123)", _KEY_FIX),
    KEY_OTHER_PROJECT: ("{key_field} holds {value}, an issue of project {found}; mapping `{mapping}` syncs "
                        "project {project} only", _KEY_FIX),
    KEY_OTHER_ISSUE_TYPE: ("{key_field} holds {value}, an issue of type {found}; mapping `{mapping}` syncs "
                           "{project} {issue_type} issues only", _KEY_FIX),
    KEY_NOT_FOUND: ("{key_field} holds {value}, which no issue the sync can see answers to{found}", _KEY_FIX),
    KEY_LINKED_ELSEWHERE: ("{key_field} holds {value}, the issue of Salesforce record {other} (its link in the "
                           "state store)", _KEY_FIX),
    KEY_CLAIMED_TWICE: ("{key_field} holds {value}, which Salesforce record {other} holds too: the sync cannot "
                        "tell which one the issue belongs to", "clear {key_field} on the record that does not "
                                                              "belong to the issue"),
    KEY_CARRIES_OTHER_RECORD: ("{key_field} holds {value}, an issue that carries Salesforce id {other}, not this "
                               "record's", "clear {key_field} on this record, or correct the Salesforce id on the "
                                           "issue if it really belongs here"),
    SFID_MALFORMED: ("the issue's {sfid_place} holds {value}, which is not a Salesforce id (15 characters, or 18 "
                     "with a valid checksum)", "correct or clear {sfid_place} on the issue"),
    SFID_OTHER_OBJECT: ("the issue's {sfid_place} holds {value}, the id of a record that is not a {object} "
                        "(key prefix {found}, {object} is {prefix})", "correct or clear {sfid_place} on the issue: "
                                                                     "mapping `{mapping}` links {object} records"),
}


@dataclass(frozen=True)
class Claims:
    """Claims no link backs: records carrying a key they have no link for, and issues carrying an id."""

    keys: pd.DataFrame    # sf_id, jira_key
    sfids: pd.DataFrame   # jira_key, sf_id, place (custom field id or `property <p>.sfid`)


def empty_refused() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REFUSED_COLUMNS})


def claims(mapping: Mapping, sf_frame: pd.DataFrame, jira_frame: pd.DataFrame, links: pd.DataFrame | None) -> Claims:
    """The claims to judge. A record with any link (active or settled) is decided by its link; an issue
    whose key is actively linked, or whose carried id is linked, is decided by the link too."""
    links = links if links is not None else pd.DataFrame(columns=["sf_id", "jira_key", "state"])
    key_field = mapping.salesforce.jira_key_field
    carried = text_or_none(sf_frame[key_field]) if key_field in sf_frame.columns else pd.Series(dtype=object)
    ids = sf_frame["Id"].astype(object) if len(sf_frame) else pd.Series(dtype=object)
    want = carried.notna() & ~ids.isin(list(links["sf_id"]))
    keys = pd.DataFrame({"sf_id": ids[want].to_numpy(dtype=object),
                         "jira_key": carried[want].to_numpy(dtype=object)})
    active = links[links["state"] == "active"] if "state" in links.columns else links
    parts = []
    for column, place in _sfid_places(mapping):
        if column not in jira_frame.columns:
            continue
        value = text_or_none(jira_frame[column])
        hit = value.notna() & ~jira_frame["key"].isin(list(active["jira_key"])) & ~value.isin(list(links["sf_id"]))
        parts.append(pd.DataFrame({"jira_key": jira_frame.loc[hit, "key"].to_numpy(dtype=object),
                                   "sf_id": value[hit].to_numpy(dtype=object), "place": place}))
    sfids = pd.concat(parts, ignore_index=True).drop_duplicates(["jira_key", "sf_id"]) if parts else \
        pd.DataFrame(columns=["jira_key", "sf_id", "place"])
    return Claims(keys, sfids)


def _sfid_places(mapping: Mapping) -> list[tuple[str, str]]:
    """(frame column, what people call it) of the places an issue keeps the Salesforce id."""
    jira = mapping.jira
    places = [(jira.salesforce_id_field, jira.salesforce_id_field)] if jira.salesforce_id_field else []
    prop = mapping.jira_property_column()
    if prop:
        places.append((prop, f"property {jira.salesforce_id_property}.sfid"))
    return places


def _words(mapping: Mapping) -> dict[str, Any]:
    return {"key_field": mapping.salesforce.jira_key_field, "project": mapping.jira.project,
            "issue_type": mapping.jira.issue_type, "object": mapping.salesforce.object, "mapping": mapping.name}


def _refused(mapping: Mapping, side: str, code: str, sf_ids: Any, keys: Any, values: Any, *,
             found: Any = "", other: Any = "", place: Any = None, prefix: str = "") -> pd.DataFrame:
    """Rows for one code; `found`, `other`, `place` may be scalars or per-row sequences."""
    frame = pd.DataFrame({"sf_id": sf_ids, "jira_key": keys, "value": values, "found": found, "other": other,
                          "place": place}, dtype=object)
    if not len(frame):
        return empty_refused()
    words = _words(mapping)
    field = words["key_field"] if side == "salesforce" else frame["place"]
    message, fix = REASONS[code]
    texts = [(message.format(**words, value=preview(r.value), found=r.found, other=r.other, sfid_place=r.place,
                             prefix=prefix),
              fix.format(**words, sfid_place=r.place)) for r in each_row(frame)]
    return pd.DataFrame({"side": side, "record_id": frame["sf_id" if side == "salesforce" else "jira_key"],
                         "sf_id": frame["sf_id"], "jira_key": frame["jira_key"], "code": code, "field": field,
                         "value": frame["value"], "message": [t[0] for t in texts], "fix": [t[1] for t in texts]},
                        dtype=object)


def screen_keys(mapping: Mapping, keys: pd.DataFrame, links: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The key claims refused without asking Jira, and the claims left to look up."""
    key = keys["jira_key"].astype(str)
    well_formed = key.str.fullmatch(JIRA_KEY.pattern).fillna(False).to_numpy(dtype=bool)
    project = key.str.rsplit("-", n=1).str[0]
    other_project = well_formed & (project != mapping.jira.project).to_numpy()
    owner = _owners(links)
    linked = ~other_project & well_formed & key.isin(owner.index).to_numpy()
    rest = well_formed & ~other_project & ~linked
    twice = rest & key.where(rest).duplicated(keep=False).to_numpy()
    partner = _partners(keys, twice)
    out = [
        _refused(mapping, "salesforce", KEY_MALFORMED, keys["sf_id"][~well_formed], key[~well_formed],
                 key[~well_formed]),
        _refused(mapping, "salesforce", KEY_OTHER_PROJECT, keys["sf_id"][other_project], key[other_project],
                 key[other_project], found=project[other_project]),
        _refused(mapping, "salesforce", KEY_LINKED_ELSEWHERE, keys["sf_id"][linked], key[linked], key[linked],
                 other=owner.reindex(key[linked]).to_numpy(dtype=object)),
        _refused(mapping, "salesforce", KEY_CLAIMED_TWICE, keys["sf_id"][twice], key[twice], key[twice],
                 other=partner),
    ]
    return _concat(out), keys[rest & ~twice].reset_index(drop=True)


def _owners(links: pd.DataFrame | None) -> pd.Series:
    """Jira key -> the Salesforce record a link (in any state) gives it to."""
    if links is None or not len(links):
        return pd.Series(dtype=object)
    owners = pd.Series(links["sf_id"].to_numpy(dtype=object), index=links["jira_key"].astype(str).to_numpy())
    return owners[~owners.index.duplicated(keep="first")]


def _partners(keys: pd.DataFrame, twice: np.ndarray) -> list[str]:
    """For each record claiming a key another record claims too: the other claimant(s)."""
    both = keys[twice]
    groups = both.groupby("jira_key")["sf_id"].agg(list)
    return [", ".join(i for i in groups[k] if i != s) for s, k in zip(both["sf_id"], both["jira_key"], strict=True)]


def judge_looked_up(mapping: Mapping, keys: pd.DataFrame, found: MappingABC[str, dict[str, Any] | None]
                    ) -> pd.DataFrame:
    """The key claims refused once Jira answered: `found` is key -> the issue (GET issue, with project,
    issuetype and the Salesforce id fields/property) or None when Jira knows no such issue."""
    facts = pd.DataFrame([_facts(mapping, found.get(k)) for k in keys["jira_key"]],
                         columns=["answered", "project", "issue_type", "carried"], index=keys.index)
    missing = facts["answered"].isna().to_numpy()
    moved = ~missing & (facts["answered"] != keys["jira_key"]).to_numpy()
    other_project = ~missing & (facts["project"] != mapping.jira.project).to_numpy()
    gone = missing | (moved & ~other_project)
    other_type = ~gone & ~other_project & (
        facts["issue_type"].str.casefold() != mapping.jira.issue_type.casefold()).to_numpy()
    mine = [all(_same_record(c, s) for c in ids) for ids, s in zip(facts["carried"], keys["sf_id"], strict=True)]
    carries = ~gone & ~other_project & ~other_type & ~np.array(mine, dtype=bool)
    now = np.where(moved, " (it now answers as " + facts["answered"].astype(str) + ")", "")
    ids, key = keys["sf_id"], keys["jira_key"]
    return _concat([
        _refused(mapping, "salesforce", KEY_NOT_FOUND, ids[gone], key[gone], key[gone], found=now[gone]),
        _refused(mapping, "salesforce", KEY_OTHER_PROJECT, ids[other_project], key[other_project],
                 key[other_project], found=facts["project"][other_project]),
        _refused(mapping, "salesforce", KEY_OTHER_ISSUE_TYPE, ids[other_type], key[other_type], key[other_type],
                 found=facts["issue_type"][other_type]),
        _refused(mapping, "salesforce", KEY_CARRIES_OTHER_RECORD, ids[carries], key[carries], key[carries],
                 other=[", ".join(c) for c in facts["carried"][carries]]),
    ])


def _facts(mapping: Mapping, issue: dict[str, Any] | None) -> tuple[Any, Any, Any, list[str]]:
    """(key it answers as, project key, issue type name, Salesforce ids it carries) of a fetched issue."""
    if not issue:
        return None, None, None, []
    fields = issue.get("fields") or {}
    jira = mapping.jira
    carried = [fields.get(jira.salesforce_id_field) if jira.salesforce_id_field else None]
    if jira.salesforce_id_property:
        prop = (issue.get("properties") or {}).get(jira.salesforce_id_property)
        carried.append(prop.get("sfid") if isinstance(prop, dict) else None)
    return (issue.get("key"), (fields.get("project") or {}).get("key"), str((fields.get("issuetype") or {})
            .get("name") or ""), [str(c) for c in carried if c not in (None, "")])


def _same_record(carried: str, sf_id: str) -> bool:
    """Ids of one record: equal, or a 15-character id and the 18-character form of it."""
    if carried == sf_id:
        return True
    return is_sfid(carried) and is_sfid(sf_id) and carried[:15] == sf_id[:15] and min(len(carried), len(sf_id)) == 15


def screen_sfids(mapping: Mapping, sfids: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The id claims refused for their shape, and the well-formed ones (their object needs the prefix)."""
    ok = sfids["sf_id"].map(is_sfid).to_numpy(dtype=bool) if len(sfids) else np.zeros(0, bool)
    bad = sfids[~ok]
    refused = _refused(mapping, "jira", SFID_MALFORMED, bad["sf_id"], bad["jira_key"], bad["sf_id"],
                       place=bad["place"])
    return refused, sfids[ok].reset_index(drop=True)


def judge_prefix(mapping: Mapping, sfids: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """The well-formed id claims whose key prefix is not the mapping object's (`prefix`, from describe)."""
    head = sfids["sf_id"].astype(str).str[:3]
    other = (head != prefix).to_numpy() if prefix else np.zeros(len(sfids), bool)
    bad = sfids[other]
    return _refused(mapping, "jira", SFID_OTHER_OBJECT, bad["sf_id"], bad["jira_key"], bad["sf_id"],
                    place=bad["place"], found=head[other], prefix=prefix)


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    kept = [p for p in parts if len(p)]
    return pd.concat(kept, ignore_index=True)[REFUSED_COLUMNS] if kept else empty_refused()


def refused_sf_ids(refused: pd.DataFrame | None) -> list[str]:
    """Salesforce records the plan must leave out (claims refused on the record side)."""
    if refused is None or not len(refused):
        return []
    return sorted(set(refused.loc[refused["side"] == "salesforce", "record_id"]))


def refused_keys(refused: pd.DataFrame | None) -> list[str]:
    """Jira issues the plan must leave out (claims refused on the issue side)."""
    if refused is None or not len(refused):
        return []
    return sorted(set(refused.loc[refused["side"] == "jira", "record_id"]))


def leave_out(refused: pd.DataFrame | None, sf_frame: pd.DataFrame, jira_frame: pd.DataFrame
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both extract frames without the records and issues whose claims were refused."""
    barred, keys = refused_sf_ids(refused), refused_keys(refused)
    return (sf_frame[~sf_frame["Id"].isin(barred)] if barred else sf_frame,
            jira_frame[~jira_frame["key"].isin(keys)] if keys else jira_frame)
