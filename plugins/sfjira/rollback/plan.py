"""Rollback planning: a run's ledger + what each side holds now -> what a rollback writes, and what it
leaves alone. Pure: nothing here reads an API or the state store (sfjira.rollback.steps does).

Per (side, record, field) the run wrote, the first `before` of the run is the value to restore and the
last `after` is what the run left. The field's current value decides its status:

  restore        current == after: write `before` back;
  already        current == before: nothing to write (restored already, or the write changed nothing);
  changed_since  anything else: someone changed it after the run -- left alone, listed;
  unmapped       the mapping no longer writes that field on that side: left alone, listed (a rollback
                 follows no field outside the mapping it runs for);
  with_issue     written to an issue the run created and the rollback deletes: nothing to restore;
  issue_kept     a field of a record whose new issue stays (`label` / `keep`): the issue's first status,
                 the key written back and the values read back from the issue stay with the issue.

Jira values are compared flattened (the ledger's `after` may be the payload shape, e.g. `{"name":
"High"}`; `before` and the current value are what a search returns, "High").

Issues the run created get the chosen policy: `delete` (the issue goes, its key write-back is reverted
and its link dropped), `label` (it stays, linked, marked with ROLLBACK_LABEL) or `keep`. An issue a person
changed since (a mapped field differs from what the run created it with) is never deleted: `changed_since`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pandas as pd

from sfjira.sync.before import plain

WRITTEN = ("update", "link", "transition")
ACTION_COLUMNS = ("side", "sf_id", "jira_key", "field", "action", "before", "after", "current", "status")
CREATED_COLUMNS = ("sf_id", "jira_key", "policy", "status")
STATUSES = ("restore", "already", "changed_since", "unmapped", "with_issue", "issue_kept")
CREATE_POLICIES = ("delete", "label", "keep")
ROLLBACK_LABEL = "sfjira-rolled-back"
_NAMED = ("name", "value", "accountId", "key")

Current = Mapping[str, Mapping[str, Mapping[str, Any]]]
"""side -> record id (Jira key / Salesforce id) -> field -> value it holds now."""


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


def plan_rollback(ledger: pd.DataFrame, current: Current, *, created: str = "keep",
                  writable: Mapping[str, Collection[str]] | None = None) -> dict[str, pd.DataFrame]:
    """`ledger`: the run's rows (PII opened), in seq order. `current`: what each side holds now (a created
    issue's mapped fields included). `writable`: side -> the fields the mapping writes there (None: all).
    Returns `actions` (ACTION_COLUMNS) and `created` (CREATED_COLUMNS)."""
    if created not in CREATE_POLICIES:
        raise ValueError(f"created must be one of {', '.join(CREATE_POLICIES)}, got {created!r}")
    made = _created(ledger, current.get("jira") or {}, created)
    deleted = set(made.loc[made["status"] == "delete", "sf_id"].astype(str))
    kept = set(made["sf_id"].astype(str)) - deleted
    writes = ledger[ledger["action"].isin(WRITTEN) & ledger["field"].notna()]
    rows = []
    for (side, sf_id, field), group in writes.groupby(["side", "sf_id", "field"], sort=False):
        side, sf_id, field = str(side), str(sf_id), str(field)
        key = group["jira_key"].dropna()
        jira_key = str(key.iloc[-1]) if len(key) else None
        before, after = plain(group["before"].iloc[0]), plain(group["after"].iloc[-1])
        record = jira_key if side == "jira" else sf_id
        now = plain((current.get(side) or {}).get(record or "", {}).get(field))
        if side == "jira" and sf_id in deleted:
            status = "with_issue"
        elif sf_id in kept:
            status = "issue_kept"
        elif writable is not None and field not in writable.get(side, ()):
            status = "unmapped"
        else:
            status = "restore" if same(now, after) else "already" if same(now, before) else "changed_since"
        rows.append({"side": side, "sf_id": sf_id, "jira_key": jira_key, "field": field,
                     "action": str(group["action"].iloc[0]), "before": before, "after": after, "current": now,
                     "status": status})
    actions = pd.DataFrame(rows, columns=list(ACTION_COLUMNS)).astype(object)
    return {"actions": actions.where(actions.notna(), None), "created": made}


def _created(ledger: pd.DataFrame, jira_now: Mapping[str, Mapping[str, Any]], policy: str) -> pd.DataFrame:
    """The issues the run created, each with what the rollback does to it: the policy, `changed_since`
    (a person changed a field the run created it with: left alone) or `gone` (deleted already)."""
    made = ledger[(ledger["action"] == "create") & (ledger["side"] == "jira") & ledger["jira_key"].notna()]
    rows = []
    for row in made.itertuples():
        now = jira_now.get(str(row.jira_key))
        wrote = plain(row.after) if isinstance(plain(row.after), dict) else {}
        if now is None:
            status = "gone"
        elif policy != "keep" and any(f in now and not same(now[f], v) for f, v in wrote.items()):
            status = "changed_since"
        else:
            status = policy
        rows.append({"sf_id": str(row.sf_id), "jira_key": str(row.jira_key), "policy": policy, "status": status})
    return pd.DataFrame(rows, columns=list(CREATED_COLUMNS)).astype(object)


SECTIONS = (("restore", "Restored to the before-image"), ("changed_since", "Changed since, left alone"),
            ("unmapped", "Not written by the mapping now, left alone"),
            ("already", "Already at the before-image"), ("with_issue", "On an issue the rollback deletes"),
            ("issue_kept", "Kept with the issue the run created"))


def render_diff(run_id: str, planned: dict[str, pd.DataFrame], *, masked: Collection[str] = (),
                dry_run: bool = True) -> str:
    """The rollback's readable diff (markdown), in the manner of the sync's plan_diff.md. Values of the
    fields in `masked` (PII) are shown as `***`."""
    actions, made = planned["actions"], planned["created"]
    verb = "would write" if dry_run else "writes"
    lines = [f"# Rollback of {run_id}" + (" (dry run: nothing written)" if dry_run else ""), "",
             f"The rollback {verb} {int((actions['status'] == 'restore').sum())} field(s) back and "
             f"{_created_summary(made)}.", ""]
    for status, title in SECTIONS:
        part = actions[actions["status"] == status]
        if not len(part) and status not in ("restore", "changed_since"):
            continue
        lines += [f"## {title} ({len(part)})", ""]
        if len(part):
            lines += ["| side | record | field | now | run wrote | restore to |", "|---|---|---|---|---|---|"]
            lines += ["| " + " | ".join([r["side"], _record(r), r["field"]] +
                                        [_cell(r[c], r["field"] in masked) for c in ("current", "after", "before")])
                      + " |" for r in part.to_dict("records")]
            lines.append("")
    lines += [f"## Issues the run created ({len(made)})", ""]
    lines += [f"- {r.jira_key} (Salesforce {r.sf_id}): {_created_line(str(r.policy), str(r.status))}" for r in made.itertuples()]
    return "\n".join(lines) + "\n"


def _created_summary(made: pd.DataFrame) -> str:
    counts = made["status"].value_counts().to_dict() if len(made) else {}
    if not counts:
        return "touches no created issue"
    return ", ".join(f"{n} created issue(s): {s}" for s, n in sorted(counts.items()))


def _created_line(policy: str, status: str) -> str:
    if status == "changed_since":
        return f"changed since the run, left alone (policy {policy})"
    if status == "gone":
        return "already deleted"
    return {"delete": "deleted, its key removed from the record", "label": f"labelled {ROLLBACK_LABEL}",
            "keep": "kept"}[status]


def _record(row: Mapping[Any, Any]) -> str:
    return str(row["jira_key"] if row["side"] == "jira" else row["sf_id"])


def _cell(value: Any, masked: bool) -> str:
    if masked and value not in (None, ""):
        return "***"
    text = "" if value is None else str(flat(value))
    return text.replace("|", "\\|").replace("\n", " ")[:80]
