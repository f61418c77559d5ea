"""Near-real-time syncs against the emulators (issue 15): a live Airflow whose webhook receiver the emulators
deliver to, and two-sided edits whose arrival on the other side is watched.

Shared by tests/dags/test_event_runs.py (one edit each way, a burst of events) and bench/latency.py (hundreds
of edits, median and p95). The mapping is the shipped case_to_bug (Subject <-> summary, both ways) with a
schedule of one's choice; the senders are configured the way an admin would: a Jira admin webhook with a
secret and a Salesforce outbound message on Case, both to the receiver's URL.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import JiraRest
from emulators.salesforce import defaults
from sfjira.local_airflow import REPO
from tests.e2e.world import SalesforceRest

MAPPING = "case_to_bug"
DAG_ID = f"sfjira_sync__{MAPPING}"
SF_ID_FIELD = "customfield_10050"  # the mapping's jira.salesforce_id_field
JIRA_EVENTS = ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]
# Retries as fast as the tests can wait: the receiver answers within a second when Airflow is up.
FAST_DELIVERY = {"delays_s": [0.5, 1.0, 2.0], "max_retries": 10, "timeout_s": 10}


@dataclass(frozen=True)
class Secrets:
    """What the receiver's connections and the senders share."""

    jira: str = field(default_factory=lambda: "jira-hmac-" + uuid.uuid4().hex)
    salesforce: str = field(default_factory=lambda: "sf-token-" + uuid.uuid4().hex)

    def connections(self) -> dict[str, str]:
        """The receiver's Airflow connections, as `AIRFLOW_CONN_<ID>` environment values."""
        return {"AIRFLOW_CONN_SFJIRA_WEBHOOK_JIRA": json.dumps({"conn_type": "generic", "password": self.jira}),
                "AIRFLOW_CONN_SFJIRA_WEBHOOK_SALESFORCE": json.dumps(
                    {"conn_type": "generic", "password": self.salesforce,
                     "extra": {"organization_id": defaults.ORG_ID[:15]}})}


def mappings_with_schedule(folder: Path, schedule: str) -> Path:
    """The shipped case_to_bug mapping on `schedule`, alone in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (REPO / "include" / "mappings" / f"{MAPPING}.yaml").read_text()
    assert '"*/10 * * * *"' in text
    (folder / f"{MAPPING}.yaml").write_text(text.replace('"*/10 * * * *"', f'"{schedule}"'))
    return folder


def receiver_url(base: str, source: str) -> str:
    return f"{base}/sfjira/webhooks/{source}/{MAPPING}"


def register_senders(base: str, secrets: Secrets, sf: EmulatorProcess, jira: EmulatorProcess) -> None:
    """A Jira webhook on SUP's issue events and a Salesforce outbound message on Case, both to the receiver."""
    jira.configure(webhook_delivery=FAST_DELIVERY)
    rest = JiraRest(jira.url, jira.ca_bundle)
    rest.ok("POST", f"{jira.url}/rest/webhooks/1.0/webhook",
            json={"name": "sfjira", "url": receiver_url(base, "jira"), "secret": secrets.jira, "events": JIRA_EVENTS,
                  "filters": {"issue-related-events-section": "project = SUP"}})
    sf.admin("PUT", "outbound_messages", {
        "messages": [{"name": "sfjira_case", "object": "Case", "fields": ["Subject"],
                      "endpoint_url": f"{receiver_url(base, 'salesforce')}?token={secrets.salesforce}"}],
        "delivery": FAST_DELIVERY})


def unregister_senders(sf: EmulatorProcess, jira: EmulatorProcess) -> None:
    rest = JiraRest(jira.url, jira.ca_bundle)
    for hook in rest.ok("GET", f"{jira.url}/rest/webhooks/1.0/webhook") or []:
        rest.ok("DELETE", hook["self"])
    sf.admin("PUT", "outbound_messages", {"messages": []})


@dataclass
class Edit:
    side: str  # where it was made: "salesforce" or "jira"
    record: str  # the Case id or the issue key
    value: str
    made: float  # time.time() just after the edit's API call returned
    arrived: float | None = None
    superseded: bool = False  # the record was edited again before this value arrived: it never will

    @property
    def latency(self) -> float | None:
        return None if self.arrived is None else self.arrived - self.made


class TwoSides:
    """Edits Subject on Cases and summary on their issues, and sees them arrive on the other side (one
    query per side per look, so watching hundreds of edits costs two calls a second)."""

    def __init__(self, sf: EmulatorProcess, jira: EmulatorProcess) -> None:
        self.sf = SalesforceRest(sf.url, sf.ca_bundle)
        self.jira = JiraRest(jira.url, jira.ca_bundle)
        self.edits: list[Edit] = []

    def keys(self, case_ids: list[str]) -> dict[str, str]:
        """Case id -> its issue key, once a sync has written the keys back."""
        ids = ",".join(f"'{c}'" for c in case_ids)
        rows = self.sf.query(f"SELECT Id, Jira_Key__c FROM Case WHERE Id IN ({ids})")
        return {r["Id"]: r["Jira_Key__c"] for r in rows if r.get("Jira_Key__c")}

    def edit_salesforce(self, case_id: str, value: str) -> Edit:
        self.sf.update("Case", case_id, Subject=value)
        return self._made("salesforce", case_id, value)

    def edit_jira(self, key: str, value: str) -> Edit:
        self.jira.ok("PUT", f"/issue/{key}", json={"fields": {"summary": value}})
        return self._made("jira", key, value)

    def _made(self, side: str, record: str, value: str) -> Edit:
        for earlier in self.pending():
            earlier.superseded = earlier.superseded or (earlier.side, earlier.record) == (side, record)
        edit = Edit(side, record, value, time.time())
        self.edits.append(edit)
        return edit

    def issues(self) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"jql": "project = SUP", "maxResults": 100, "fields": f"summary,{SF_ID_FIELD}"}
        found: list[dict[str, Any]] = []
        while True:
            body = self.jira.ok("GET", "/search/jql", params=params)
            found += body["issues"]
            if body.get("isLast", True):
                return found
            params["nextPageToken"] = body["nextPageToken"]

    def look(self) -> int:
        """Stamp the edits whose value the other side now holds; how many are still on their way."""
        pending = self.pending()
        if not pending:
            return 0
        now = time.time()
        if any(e.side == "salesforce" for e in pending):
            summaries = {i["fields"][SF_ID_FIELD]: i["fields"]["summary"] for i in self.issues()}
            for e in pending:
                if e.side == "salesforce" and summaries.get(e.record) == e.value:
                    e.arrived = now
        if any(e.side == "jira" for e in pending):
            subjects = {r["Jira_Key__c"]: r["Subject"] for r in self.sf.query(
                "SELECT Jira_Key__c, Subject FROM Case WHERE Jira_Key__c != null")}
            for e in pending:
                if e.side == "jira" and subjects.get(e.record) == e.value:
                    e.arrived = now
        return len(self.pending())

    def pending(self) -> list[Edit]:
        """Edits on their way (not arrived, not superseded)."""
        return [e for e in self.edits if e.arrived is None and not e.superseded]

    def wait_arrivals(self, timeout: float, poll: float = 0.5, alive: Callable[[], bool] = lambda: True) -> int:
        """Look until every edit arrived or `timeout` passed; how many did not arrive (superseded ones aside)."""
        deadline = time.monotonic() + timeout
        while (left := self.look()) and time.monotonic() < deadline and alive():
            time.sleep(poll)
        return left


def runs(rest: Any, dag_id: str = DAG_ID) -> list[dict[str, Any]]:
    """Every run of the DAG (tests.live_airflow.Rest), oldest first."""
    return list(rest.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 1000, "order_by": "run_after"})["dag_runs"])


def quiet(rest: Any, dag_id: str = DAG_ID) -> bool:
    """No run queued or running, and no asset event waiting to start one."""
    waiting = rest.api("GET", f"/dags/{dag_id}/assets/queuedEvents")["total_entries"]
    return not waiting and not [r for r in runs(rest, dag_id) if r["state"] in ("queued", "running")]
