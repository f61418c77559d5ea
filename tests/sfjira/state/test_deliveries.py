"""The webhook receiver's delivery ids: claimed once, released on failure, pruned after the retention."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from sfjira.state import StateStore, deliveries
from sfjira.state.schema import webhook_deliveries


def test_a_delivery_is_claimed_once(tmp_path: Path) -> None:
    with StateStore(f"sqlite:///{tmp_path / 's.db'}") as store:
        assert store.claim_deliveries("jira", "m", ["a", "b", "a"]) == ["a", "b"]
        assert store.claim_deliveries("jira", "m", ["b", "c"]) == ["c"]
        assert store.claim_deliveries("salesforce", "m", ["a"]) == ["a"]  # ids are per sender
        assert store.release_deliveries("jira", ["c"]) == 1
        assert store.claim_deliveries("jira", "m", ["c"]) == ["c"]  # released: the retry is new


def test_old_deliveries_are_pruned(tmp_path: Path) -> None:
    with StateStore(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.migrate()
        now = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
        with store.engine.begin() as conn:
            assert deliveries.claim(conn, "jira", "m", ["old"], now - deliveries.KEEP - dt.timedelta(minutes=1))
            assert deliveries.claim(conn, "jira", "m", ["new"], now) == ["new"]
            assert [r.delivery for r in conn.execute(sa.select(webhook_deliveries))] == ["new"]
