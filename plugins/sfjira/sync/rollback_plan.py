"""Rollback planning (issue 12, point 3 -- the planner only): a run's ledger + what each side holds now
-> what a rollback would write, and what it must leave alone.

Per (side, record, field) the run wrote, the first `before` of the run is the value to restore and the
last `after` is what the run left. The field's current value decides:
  current == after  -> `restore` (write `before` back);
  current == before -> `already` (nothing to write: restored or never changed);
  anything else     -> `changed_since` (someone changed it after the run: left alone, listed).
Jira values are compared flattened (the ledger's `after` is the payload the load sent, e.g.
`{"name": "High"}`; `before` and the current value are what a search returns, e.g. "High").
Issues the run created are listed under `created` with the chosen policy (delete, label, keep); key
write-backs (`link`) are restored like fields, so the record loses a key the run gave it.
Nothing here reads an API or writes: the executor (not built yet) reads `current` by id, as the
load's before-images are read (sfjira.sync.before), and writes `restore` rows through the normal
hooks, chunks and intents, ledgered with cause `rollback`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from sfjira.sync.before import plain

WRITTEN = ("update", "link", "transition")
ACTION_COLUMNS = ("side", "sf_id", "jira_key", "field", "before", "after", "current", "status")
CREATE_POLICIES = ("delete", "label", "keep")
_NAMED = ("name", "value", "accountId", "key")


def flat(value: Any) -> Any:
    """A Jira payload value as a search flattens it: {"name": x} -> x, lists of them -> lists."""
    value = plain(value)
    if isinstance(value, dict):
        for key in _NAMED:
            if key in value:
                return value[key]
        return value
    if isinstance(value, list):
        return [flat(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    a, b = flat(a), flat(b)
    if a in (None, "", []) and b in (None, "", []):
        return True
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b)
    return bool(a == b)


def plan_rollback(ledger: pd.DataFrame, current: Mapping[str, Mapping[str, Mapping[str, Any]]], *,
                  created: str = "keep") -> dict[str, pd.DataFrame]:
    """`ledger`: the run's rows (PII opened), in seq order. `current`: side -> record id (Jira key /
    Salesforce id) -> field -> value now. Returns `actions` (ACTION_COLUMNS) and `created` (sf_id,
    jira_key, policy)."""
    if created not in CREATE_POLICIES:
        raise ValueError(f"created must be one of {', '.join(CREATE_POLICIES)}, got {created!r}")
    writes = ledger[ledger["action"].isin(WRITTEN) & ledger["field"].notna()]
    rows = []
    for (side, sf_id, field), group in writes.groupby(["side", "sf_id", "field"], sort=False):
        key = group["jira_key"].dropna()
        jira_key = str(key.iloc[-1]) if len(key) else None
        before, after = plain(group["before"].iloc[0]), plain(group["after"].iloc[-1])
        record = jira_key if side == "jira" else str(sf_id)
        now = (current.get(str(side)) or {}).get(record or "", {}).get(str(field))
        status = "restore" if same(now, after) else "already" if same(now, before) else "changed_since"
        rows.append({"side": side, "sf_id": sf_id, "jira_key": jira_key, "field": field, "before": before,
                     "after": after, "current": plain(now), "status": status})
    made = ledger[(ledger["action"] == "create") & (ledger["side"] == "jira")]
    actions = pd.DataFrame(rows, columns=list(ACTION_COLUMNS)).astype(object)
    return {"actions": actions.where(actions.notna(), None),
            "created": pd.DataFrame({"sf_id": made["sf_id"].to_numpy(), "jira_key": made["jira_key"].to_numpy(),
                                     "policy": created})}


def render_diff(run_id: str, planned: dict[str, pd.DataFrame]) -> str:
    """The dry run's readable diff (markdown), in the manner of the sync's plan_diff.md."""
    actions, made = planned["actions"], planned["created"]
    lines = [f"# Rollback of {run_id}", ""]
    for status, title in (("restore", "Restored to the before-image"),
                          ("changed_since", "Changed since, left alone"), ("already", "Already at the before-image")):
        part = actions[actions["status"] == status]
        lines += [f"## {title} ({len(part)})", ""]
        if len(part):
            lines += ["| side | record | field | now | run wrote | restore to |", "|---|---|---|---|---|---|"]
            lines += ["| " + " | ".join(_cell(v) for v in (r["side"], r["jira_key"] if r["side"] == "jira" else
                                                          r["sf_id"], r["field"], r["current"], r["after"],
                                                          r["before"])) + " |"
                      for r in part.to_dict("records")]
            lines.append("")
    lines += [f"## Issues the run created ({len(made)})", ""]
    lines += [f"- {r.jira_key} (Salesforce {r.sf_id}): {r.policy}" for r in made.itertuples()]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    text = "" if value is None else str(flat(value))
    return text.replace("|", "\\|").replace("\n", " ")[:80]
