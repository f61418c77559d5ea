"""The audit trail: the ledger by mapping, run, record, field and time, with the winner of each
conflict, PII sealed in the table and masked (or opened) on the way out; the schema step that adds
the ledger's direction and cause to an older store; retention."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from sfjira.exceptions import SfJiraError
from sfjira.pii import PiiCipher, PiiProtection, is_sealed
from sfjira.state import SCHEMA_VERSION, StateStore
from sfjira.state import audit as trail
from sfjira.state.migrations import STEPS
from tests.sfjira.state.conftest import Backend

EMAIL, OLD_EMAIL = "ada.lovelace@example.com", "ada@old-employer.example"


def _seed(store: StateStore) -> tuple[str, str]:
    first = store.begin_run("cases", "scheduled__2026-11-01T00:00:00+00:00")
    store.append_ledger(pd.DataFrame([
        {"side": "jira", "action": "create", "sf_id": "500A", "jira_key": "SUP-1", "direction": "sf_to_jira",
         "cause": "change", "after": {"summary": "Printer", "customfield_10054": EMAIL}},
        {"side": "salesforce", "action": "link", "sf_id": "500A", "jira_key": "SUP-1", "direction": "jira_to_sf",
         "cause": "change", "field": "Jira_Key__c", "before": None, "after": "SUP-1"},
    ]), run_id=first, mapping="cases")
    second = store.begin_run("cases", "manual__2026-11-02T00:00:00+00:00")
    store.append_ledger(pd.DataFrame([
        {"side": "jira", "action": "update", "sf_id": "500A", "jira_key": "SUP-1", "direction": "sf_to_jira",
         "cause": "change", "field": "summary", "before": "Printer", "after": "Printer on fire"},
        {"side": "jira", "action": "update", "sf_id": "500A", "jira_key": "SUP-1", "direction": "sf_to_jira",
         "cause": "conflict", "field": "customfield_10054", "before": OLD_EMAIL, "after": EMAIL,
         "reason": "changed on both sides; owner salesforce -> salesforce wins"},
        {"side": "salesforce", "action": "update", "sf_id": "500B", "jira_key": "SUP-2", "direction": "jira_to_sf",
         "cause": "change", "field": "Priority", "before": "Low", "after": "High"},
    ]), run_id=second, mapping="cases")
    other = store.begin_run("opps", "manual__2026-11-02T00:00:00+00:00")
    store.append_ledger(pd.DataFrame([{"side": "jira", "action": "update", "sf_id": "006A", "jira_key": "EP-1",
                                       "field": "summary", "before": "a", "after": "b"}]), run_id=other, mapping="opps")
    return first, second


def _protected(store: StateStore, cipher: PiiCipher) -> StateStore:
    return store.protect("cases", PiiProtection(frozenset({"customfield_10054", "Contact.Email"}), cipher, "c"))


def test_filters_by_mapping_run_record_and_field(store: StateStore) -> None:
    first, second = _seed(store)
    assert len(trail.audit(store, mapping="cases")) == 5
    assert set(trail.audit(store)["mapping"]) == {"cases", "opps"}
    by_state_run = trail.audit(store, run=second)
    by_airflow_run = trail.audit(store, mapping="cases", run="manual__2026-11-02T00:00:00+00:00")
    assert list(by_state_run["seq"]) == list(by_airflow_run["seq"]) and len(by_state_run) == 3
    assert set(by_airflow_run["airflow_run_id"]) == {"manual__2026-11-02T00:00:00+00:00"}
    assert list(trail.audit(store, mapping="cases", record="SUP-2")["field"]) == ["Priority"]
    assert list(trail.audit(store, mapping="cases", record="500A")["action"]) == ["create", "link", "update",
                                                                                  "update"]
    summary = trail.audit(store, field="summary")
    assert [(r.mapping, r.before, r.after) for r in summary.itertuples()] == [
        ("cases", "Printer", "Printer on fire"), ("opps", "a", "b")]
    assert list(trail.audit(store, run=first)["direction"]) == ["sf_to_jira", "jira_to_sf"]


def test_time_range_is_inclusive_exclusive(store: StateStore) -> None:
    _seed(store)
    rows = trail.audit(store, mapping="cases")
    middle = rows["at"].iloc[2].to_pydatetime()
    assert len(trail.audit(store, mapping="cases", since=middle)) == len(rows[rows["at"] >= middle])
    assert len(trail.audit(store, mapping="cases", until=middle)) == len(rows[rows["at"] < middle])
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert trail.audit(store, since=future).empty


def test_a_conflict_names_the_side_that_won_and_why(store: StateStore) -> None:
    _seed(store)
    rows = trail.audit(store, mapping="cases", field="customfield_10054")
    assert list(rows["winner"]) == ["salesforce"] and list(rows["side"]) == ["jira"]
    assert "owner salesforce" in rows["reason"].iloc[0]
    assert trail.audit(store, mapping="cases", field="summary")["winner"].isna().all()


def test_conflicts_only_and_the_newest_rows(store: StateStore) -> None:
    _seed(store)
    conflicts = trail.audit(store, mapping="cases", conflicts=True)
    assert list(conflicts["field"]) == ["customfield_10054"]
    newest = trail.audit(store, mapping="cases", limit=2, newest=True)
    assert list(newest["field"]) == ["customfield_10054", "Priority"]  # the two newest, oldest first
    assert list(trail.audit(store, mapping="cases", limit=2)["action"]) == ["create", "link"]
    assert store.mappings() == ["cases", "opps"]


def test_pii_before_images_are_sealed_in_the_table_masked_or_opened_on_the_way_out(backend: Backend) -> None:
    cipher = PiiCipher([Fernet.generate_key()])
    with backend.open() as store:
        _seed(_protected(store, cipher))
        with store.engine.connect() as conn:
            raw = conn.execute(sa.text("SELECT before, after FROM sfjira_ledger WHERE field = 'customfield_10054'"
                                       )).one()
        # SQLite hands JSON back as its text, PostgreSQL as the decoded value.
        assert all(is_sealed(json.loads(v) if v.startswith('"') else v) for v in raw)
        assert OLD_EMAIL not in repr(raw) and EMAIL not in repr(raw)
        masked = trail.audit(store, mapping="cases", field="customfield_10054")
        assert (masked["before"].iloc[0], masked["after"].iloc[0]) == (trail.MASK, trail.MASK)
        created = trail.audit(store, mapping="cases", run="scheduled__2026-11-01T00:00:00+00:00")
        assert created["after"].iloc[0] == {"summary": "Printer", "customfield_10054": trail.MASK}
        opened = trail.audit(store, mapping="cases", field="customfield_10054", cipher=cipher)
        assert (opened["before"].iloc[0], opened["after"].iloc[0]) == (OLD_EMAIL, EMAIL)


def test_retention_prunes_old_rows_and_zero_keeps_everything(store: StateStore) -> None:
    _seed(store)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    assert trail.prune(store, "cases", days=0, now=later) == 0
    assert trail.prune(store, "cases", days=400, now=later) == 0
    assert trail.prune(store, "cases", days=5, now=later) == 5
    assert trail.audit(store, mapping="cases").empty
    assert len(trail.audit(store, mapping="opps")) == 1  # another mapping's rows stay


def test_retention_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert trail.retention_days() == 400
    monkeypatch.setenv("AIRFLOW__SFJIRA__LEDGER_RETENTION_DAYS", "0")
    assert trail.cutoff() is None
    monkeypatch.setenv("AIRFLOW__SFJIRA__LEDGER_RETENTION_DAYS", "-3")
    with pytest.raises(SfJiraError) as err:
        trail.retention_days()
    assert err.value.code == "SETTING_INVALID"


def test_a_version_1_store_gains_direction_and_cause_keeping_its_rows(backend: Backend) -> None:
    with backend.open() as old:
        old.migrate(STEPS[:1])
        with old.engine.begin() as conn:  # a version-1 ledger: no direction / cause columns
            conn.execute(sa.text("ALTER TABLE sfjira_ledger DROP COLUMN direction"))
            conn.execute(sa.text("ALTER TABLE sfjira_ledger DROP COLUMN cause"))
            conn.execute(sa.text("DROP INDEX ix_sfjira_ledger_mapping_at"))
            conn.execute(sa.text(
                "INSERT INTO sfjira_runs (run_id, mapping, airflow_run_id, kind, status, dry_run, started_at, attempts)"
                " VALUES ('cases/m1', 'cases', 'm1', 'sync', 'success', false, '2026-11-01 00:00:00', 1)"))
            conn.execute(sa.text(
                "INSERT INTO sfjira_ledger (run_id, mapping, at, side, action, sf_id, field, after) VALUES "
                "('cases/m1', 'cases', '2026-11-01 00:00:00', 'jira', 'update', '500A', 'summary', '\"x\"')"))
    with backend.open() as store:
        assert store.schema_version() == 1
        assert store.migrate() == SCHEMA_VERSION
        columns = {c["name"] for c in sa.inspect(store.engine).get_columns("sfjira_ledger")}
        assert {"direction", "cause"} <= columns
        assert "ix_sfjira_ledger_mapping_at" in {i["name"] for i in sa.inspect(store.engine).get_indexes(
            "sfjira_ledger")}
        old_row = trail.audit(store, mapping="cases")
        assert list(old_row["after"]) == ["x"] and old_row["cause"].isna().all()
        store.append_ledger(pd.DataFrame([{"side": "jira", "action": "update", "sf_id": "500A", "field": "summary",
                                           "direction": "sf_to_jira", "cause": "heal"}]),
                            run_id="cases/m1", mapping="cases")
        assert list(trail.audit(store, mapping="cases")["cause"].fillna("-")) == ["-", "heal"]
        assert store.migrate() == SCHEMA_VERSION  # applied once


def test_unknown_cause_or_direction_is_refused(store: StateStore, run_id: str) -> None:
    for bad in ({"cause": "whim"}, {"direction": "sideways"}):
        with pytest.raises(SfJiraError) as err:
            store.append_ledger(pd.DataFrame([{"side": "jira", "action": "update", "sf_id": "1", **bad}]),
                                run_id=run_id, mapping="accounts")
        assert err.value.code == "STATE_INPUT_INVALID"


def test_a_missing_image_comes_back_as_none_not_nan(store: StateStore) -> None:
    run = store.begin_run("cases", "manual__2026-11-03T00:00:00+00:00")
    store.append_ledger(pd.DataFrame([
        {"side": "salesforce", "action": "update", "sf_id": "500C", "direction": "jira_to_sf", "cause": "change",
         "field": "Description", "before": "Line one", "after": None},
        {"side": "salesforce", "action": "update", "sf_id": "500D", "direction": "jira_to_sf", "cause": "change",
         "field": "Description", "before": None, "after": "Line two"},
    ]), run_id=run, mapping="cases")
    rows = trail.audit(store, mapping="cases", run=run)
    assert list(rows["before"]) == ["Line one", None] and list(rows["after"]) == [None, "Line two"]
