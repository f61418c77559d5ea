"""Issue 13 point 4: a mapping's `alerts:` rules checked when its DAG runs end, and mailed through
Airflow's notifier interface (the SMTP provider) to a real SMTP server on loopback (aiosmtpd): a run
rejecting more records than allowed, a sync not successful for N intervals, a reconciliation with
drift above its threshold -- and nothing sent when no rule is broken."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from sfjira.dag_factory import reconcile_dag
from tests.e2e.world import World, make_cases

ALERTS = """
alerts:
  to: [data-team@example.org]
  smtp_conn_id: smtp_sink
  from_email: sfjira@example.org
  failed_intervals: 2
  rejects_above: 0
  drift_above: 0
"""


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 OK"

    def bodies(self) -> list[str]:
        out = []
        for message in self.messages:
            parts = message.walk() if message.is_multipart() else [message]
            out.append("".join(str(p.get_payload(decode=True).decode()) for p in parts
                               if p.get_content_type() == "text/html"))
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_SINK", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": controller.port,
        "extra": {"disable_ssl": True, "disable_tls": True, "retry_limit": 1, "timeout": 10}}))
    try:
        yield box
    finally:
        controller.stop()


def _with_alerts(world: World, name: str, replacements: list[tuple[str, str]] | None = None) -> None:
    path = world.variant("case_to_bug", name, replacements or [])
    path.write_text(path.read_text() + ALERTS)


def test_a_run_that_rejects_more_than_allowed_mails_the_team_and_a_clean_one_does_not(
        world: World, inbox: Inbox) -> None:
    # Low is no longer mapped (value_map, and reverse_map that led to it): such cases are rejected.
    _with_alerts(world, "alerted", [("      Low: Low\n", ""), ("      Lowest: Low\n", "")])
    make_cases(world.sf, 3, Priority="High")
    world.run("alerted")
    assert inbox.messages == [], "nothing broken, nothing sent"

    make_cases(world.sf, 2, Priority="Low")
    world.run("alerted", expect="success")

    (message,) = inbox.messages
    assert message["To"] == "data-team@example.org" and message["From"] == "sfjira@example.org"
    assert message["Subject"].startswith("[sfjira] alerted: 1 alert(s) after sfjira_sync__alerted")
    (body,) = inbox.bodies()
    assert "the run rejected 2 record(s), more than 0" in body and "sfjira rejects --mapping alerted" in body


# The state store's part (the runs these rules read) is the same on both backends: the rejects test covers
# PostgreSQL; these two keep to SQLite to spare the suite two more live runs.
@pytest.mark.parametrize("state_conn", ["sqlite"], indirect=True)
def test_a_sync_failing_past_its_allowed_intervals_mails_the_team(world: World, inbox: Inbox) -> None:
    _with_alerts(world, "alerted")
    make_cases(world.sf, 1, Priority="High")
    world.run("alerted")
    # The last success was half an hour ago: three intervals of */10.
    with world.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE sfjira_runs SET finished_at = :t WHERE mapping = 'alerted'"),
                     {"t": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)})
    world.jira_emulator.set_faults([{"fault": "500", "path": "/search", "times": 1000}])
    make_cases(world.sf, 1, Priority="High")

    world.run("alerted", expect="failed")

    world.jira_emulator.clear_faults()
    (body,) = inbox.bodies()
    assert "the sync has not succeeded since" in body and "2 interval(s) of `*/10 * * * *`" in body


@pytest.mark.parametrize("state_conn", ["sqlite"], indirect=True)
def test_drift_above_the_threshold_mails_the_team(world: World, inbox: Inbox) -> None:
    _with_alerts(world, "alerted")
    (case,) = make_cases(world.sf, 1, Priority="High")
    world.run("alerted")
    key = world.sf.get("Case", case)["Jira_Key__c"]
    # A summary changed behind the sync's back (its own write would have been synced, not drifted).
    world.jira.ok("PUT", f"/issue/{key}", json={"fields": {"summary": "Edited where nobody syncs"}})

    world.run("alerted", dag=reconcile_dag(world.mapping("alerted")), conf={"scope": "all"})

    (body,) = inbox.bodies()
    assert "the reconciliation found 1 drift row(s), more than 0" in body
