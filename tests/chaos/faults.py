"""The fault mix of the chaos suite: every kind each emulator offers, together firing on `rate` of calls.

Each emulator tries its rules in order, each with its own probability, so a rule's probability p is
chosen for 1 - (1 - p) ** len(kinds) == rate. `slow` holds a response past the client's read timeout
(CLIENT_TIMEOUT_S, set as the connections' `timeout` extra by the scenario).
"""

from __future__ import annotations

from typing import Any

from emulators.common.process import EmulatorProcess

CLIENT_TIMEOUT_S = 2.0
SLOW_S = CLIENT_TIMEOUT_S + 1.5

# Salesforce has no 429: its rate limit is the 403 REQUEST_LIMIT_EXCEEDED of a spent daily allowance,
# which no retry cures -- not part of a transient-fault mix. An expired session (401 INVALID_SESSION_ID)
# is, the hook logs in again. Jira Cloud has no sessions (API token per call) but answers 429 with
# Retry-After (emulators/jira/ratelimit.py).
SALESFORCE_KINDS = ("503", "500", "expired_session", "reset", "slow", "lost_response")
JIRA_KINDS = ("429", "503", "500", "reset", "slow", "lost_response")


# Where a fault can happen: an expired session is answered by the data API, never by the token grant
# (a 401 there means refused credentials, which sfjira rightly fails without retrying).
PATHS = {"expired_session": r"^/services/data/"}


def rules(kinds: tuple[str, ...], rate: float) -> list[dict[str, Any]]:
    if rate <= 0:
        return []
    each = 1 - (1 - rate) ** (1 / len(kinds))
    return [{"fault": kind, "probability": each, **({"delay_s": SLOW_S} if kind == "slow" else {}),
             **({"path": PATHS[kind]} if kind in PATHS else {})} for kind in kinds]


def inject(sf: EmulatorProcess, jira: EmulatorProcess, rate: float, seed: int) -> None:
    sf.set_faults(rules(SALESFORCE_KINDS, rate), seed=seed)
    jira.set_faults(rules(JIRA_KINDS, rate), seed=seed + 1)


def clear(sf: EmulatorProcess, jira: EmulatorProcess) -> None:
    sf.clear_faults()
    jira.clear_faults()


def fired(emulator: EmulatorProcess) -> dict[str, int]:
    return {k: int(v) for k, v in emulator.calls().get("faults_fired", {}).items()}
