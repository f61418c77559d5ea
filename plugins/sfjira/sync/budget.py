"""API budgets: the share of the org's daily Salesforce API limit the sync may use, and the usage figures
of a run for its summary.

Salesforce counts every REST call of every integration of the org against one daily limit
(`DailyApiRequests`, reported on each answer as `Sforce-Limit-Info: api-usage=USED/MAX`); once it is
spent, every integration of the org is refused (403 REQUEST_LIMIT_EXCEEDED) until the rolling 24 hours
free some. So the sync stops on its own while the org still has headroom: when the usage already is at
or over `[sfjira] salesforce_api_budget_share` (default 0.9) of the limit, it raises the terminal
`ApiBudgetExhausted`

- at the start of `extract_salesforce`, before it reads (reads cost API calls as well), and again after
  its reads from the last answer's header (no extra call): an extract in progress is not cut off -- it
  reads one bounded window, about one call per 2,000 records -- but a run whose reads reached the share
  stops before its plan and loads;
- before each write chunk of the loads (`sync.journal.run_chunks`; every API write of a load is a chunk,
  so the first check comes before anything is written). The first check of a load task asks /limits
  (`load_jira` too: Jira issues created while Salesforce cannot take their keys back would only wait
  for a later run); later ones use the usage the last answer reported. A load stops between chunks --
  a chunk is one call -- and what it wrote stays recorded under its completed intents. A load with
  nothing to write makes no call for the budget.

The usage compared is the whole org's, not only sfjira's: the share keeps the rest for the org's other
integrations and its users.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sfjira import settings
from sfjira.exceptions import ApiLimitExceeded, SfJiraError

if TYPE_CHECKING:
    from sfjira.sync.run import SyncRun

log = logging.getLogger(__name__)

SHARE_SETTING = "salesforce_api_budget_share"
# Steps' outputs that carry the figures (see `figures`), in the order the DAG runs them.
STEPS = ("extract_salesforce", "extract_jira", "transform", "load_jira", "load_salesforce")


class ApiBudgetExhausted(ApiLimitExceeded):
    """The org's daily Salesforce API usage is at or over the share sfjira may use. Terminal: the daily
    usage does not drop within Airflow's retry delays."""

    code = "SF_API_BUDGET_EXHAUSTED"


def budget_share() -> float:
    """`[sfjira] salesforce_api_budget_share`, checked to be in (0, 1]."""
    share = settings.get_float(SHARE_SETTING)
    if not 0 < share <= 1:
        raise SfJiraError(f"setting [sfjira] {SHARE_SETTING} = {share} is not a share of the daily limit",
                          code="SETTING_INVALID",
                          fix=f"set AIRFLOW__SFJIRA__{SHARE_SETTING.upper()} to a number above 0 and at most 1 "
                              "(0.9 = stop at 90 % of the org's daily API requests)")
    return share


def check_salesforce(run: SyncRun, before: str) -> dict[str, int | None]:
    """Raise ApiBudgetExhausted if the org's usage is at/over the share; `before` names what would follow
    ("load_jira", "salesforce update chunk 3") for the message. Asks /limits only when this task has not
    seen the usage yet. Returns the usage compared."""
    usage = run.salesforce.current_usage()
    used, maximum = usage["used"], usage["max"]
    if used is None or not maximum:
        log.warning("Salesforce reported no daily API usage: the API budget cannot be checked before %s", before)
        return usage
    share = budget_share()
    if used >= share * maximum:
        raise ApiBudgetExhausted(
            f"Salesforce API budget spent: the org has used {used} of its {maximum} daily API requests "
            f"({used / maximum:.1%}), at or over the {share:.0%} sfjira may use; stopped before {before}, "
            "nothing more is written",
            fix=f"wait until the org's rolling 24-hour API usage drops below {share:.0%} (Setup > System Overview "
                "shows it) and rerun; or raise [sfjira] salesforce_api_budget_share (AIRFLOW__SFJIRA__"
                "SALESFORCE_API_BUDGET_SHARE) if the org's other integrations can spare it; or buy more API "
                "requests from Salesforce",
        )
    return usage


def figures(run: SyncRun) -> dict[str, Any]:
    """What a step hands to the report: the Salesforce usage it saw last, what Jira's rate limiting
    cost it and each endpoint's latency, for the hooks the step used (no call is made)."""
    out: dict[str, Any] = {}
    hooks = vars(run)
    if "salesforce" in hooks and hooks["salesforce"].api_usage.get("max"):
        out["api_usage"] = dict(hooks["salesforce"].api_usage)
    if "jira" in hooks:
        out["rate_limits"] = hooks["jira"].rate_limits
    latency = {system: hooks[system].counter.latency() for system in ("salesforce", "jira") if system in hooks}
    if latency:
        out["latency"] = latency
    return out


def latency_summary(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """The run summary's `latency`: per system and endpoint, the attempts of every step, the seconds they
    took and the mean in milliseconds (what the dashboard charts)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for step in STEPS:
        for system, endpoints in ((results.get(step) or {}).get("latency") or {}).items():
            for endpoint, figure in endpoints.items():
                total = out.setdefault(system, {}).setdefault(endpoint, {"calls": 0, "seconds": 0.0})
                total["calls"] += int(figure.get("calls") or 0)
                total["seconds"] = round(total["seconds"] + float(figure.get("seconds") or 0), 6)
    for endpoints in out.values():
        for total in endpoints.values():
            total["mean_ms"] = round(1000 * total["seconds"] / total["calls"], 1) if total["calls"] else 0.0
    return out


def usage_summary(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The run summary's `api_usage`: Salesforce's daily usage against its limit (the highest figure any
    step saw: usage only grows within a day) and the budget share; Jira's rate-limit retries and waits
    summed over the steps, with the last X-RateLimit-Limit/Remaining seen."""
    seen = [r["api_usage"] for r in (results.get(s) or {} for s in STEPS) if (r.get("api_usage") or {}).get("max")]
    salesforce: dict[str, Any] = {"used": None, "max": None, "share": None}
    if seen:
        last = max(seen, key=lambda u: int(u.get("used") or 0))
        used, maximum = int(last.get("used") or 0), int(last["max"])
        salesforce = {"used": used, "max": maximum, "share": round(used / maximum, 4)}
    salesforce["budget_share"] = _share_or_none()
    jira: dict[str, Any] = {"retries": {}, "waited_s": 0.0, "paced": 0, "paced_s": 0.0, "limit": None,
                            "remaining": None}
    for step in STEPS:
        cost = (results.get(step) or {}).get("rate_limits") or {}
        for reason, count in (cost.get("retries") or {}).items():
            jira["retries"][reason] = jira["retries"].get(reason, 0) + int(count)
        jira["waited_s"] = round(jira["waited_s"] + float(cost.get("waited_s") or 0), 3)
        jira["paced"] += int(cost.get("paced") or 0)
        jira["paced_s"] = round(jira["paced_s"] + float(cost.get("paced_s") or 0), 3)
        if cost.get("limit") is not None:
            jira["limit"], jira["remaining"] = cost.get("limit"), cost.get("remaining")
    return {"salesforce": salesforce, "jira": jira}


def format_usage(usage: dict[str, Any] | None) -> str:
    """`Salesforce API usage 1234/100000 (1.2 %, budget 90 %); Jira 429s 2, waited 3.0 s` for the log line."""
    if not usage:
        return ""
    sf, jira = usage.get("salesforce") or {}, usage.get("jira") or {}
    budget = f", budget {sf['budget_share']:.0%}" if sf.get("budget_share") else ""
    sf_text = (f"Salesforce API usage {sf['used']}/{sf['max']} ({sf['share']:.1%}{budget})" if sf.get("max")
               else "Salesforce API usage unknown")
    retried = jira.get("retries") or {}
    return (f"{sf_text}; Jira 429s {retried.get('HTTP 429', 0)}, waited {jira.get('waited_s', 0):.1f} s "
            f"(paced {jira.get('paced_s', 0):.1f} s)")


def _share_or_none() -> float | None:
    try:
        return budget_share()
    except SfJiraError:
        return None  # the report still shows the usage; the checks raise the setting's error
