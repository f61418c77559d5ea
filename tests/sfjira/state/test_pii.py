"""PII in the state store: sealed in every ledger image and reject of a protected mapping -- the raw
SQLite bytes and the PostgreSQL rows hold no PII value -- opened on request, and re-sealed under a
new key without losing a row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from sfjira.pii import PiiCipher, PiiKeyError, PiiProtection, is_sealed
from sfjira.state import StateStore
from sfjira.state.schema import metadata
from tests.sfjira.state.conftest import Backend

EMAIL = "ada.lovelace@example.com"
OLD_EMAIL = "ada@old-employer.example"
FIELDS = frozenset({"Contact.Email", "customfield_10054"})


def _protected(store: StateStore, cipher: PiiCipher) -> StateStore:
    return store.protect("cases", PiiProtection(FIELDS, cipher, "sfjira_crypto"))


def _write_pii(store: StateStore) -> str:
    run = store.begin_run("cases", "manual__1")
    store.append_ledger(pd.DataFrame([
        {"side": "jira", "action": "create", "sf_id": "500A", "jira_key": "SUP-1",
         "after": {"summary": "Printer", "customfield_10054": EMAIL}},
        {"side": "jira", "action": "update", "sf_id": "500A", "jira_key": "SUP-1", "field": "customfield_10054",
         "before": OLD_EMAIL, "after": EMAIL},
        {"side": "jira", "action": "conflict", "sf_id": "500A", "jira_key": "SUP-1", "field": "Contact.Email",
         "before": OLD_EMAIL, "after": EMAIL},
        {"side": "jira", "action": "update", "sf_id": "500A", "jira_key": "SUP-1", "field": "summary",
         "after": "Printer on fire"},
    ]), run_id=run, mapping="cases")
    store.upsert_rejects(pd.DataFrame([
        {"side": "jira", "record_id": "500A", "code": "INVALID_EMAIL", "field": "customfield_10054",
         "message": f"not an email address: {EMAIL}", "payload": EMAIL},
        {"side": "jira", "record_id": "500B", "code": "CREATE_FAILED", "field": "summary", "message": "too long",
         "payload": {"customfield_10054": EMAIL, "summary": "x"}},
    ]), run_id=run, mapping="cases")
    return run


def _raw_rows(backend: Backend, store: StateStore) -> str:
    """Every row of every sfjira table as the database returns it, as one text."""
    texts = []
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            texts += [repr(tuple(row)) for row in conn.execute(sa.select(table))]
            if backend.name == "postgresql":
                texts += [str(v) for v in conn.execute(sa.text(f"SELECT t::text FROM {table.name} t")).scalars()]
    return "\n".join(texts)


def _sqlite_bytes(backend: Backend) -> bytes:
    db = Path(backend.url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_no_pii_value_reaches_the_database(backend: Backend) -> None:
    cipher = PiiCipher([Fernet.generate_key()])
    with backend.open() as store:
        _write_pii(_protected(store, cipher))
        rows = _raw_rows(backend, store)
        assert "Printer on fire" in rows  # the scan sees plain values: a PII one would be found
        assert EMAIL not in rows and OLD_EMAIL not in rows
        if backend.name == "sqlite":
            raw = _sqlite_bytes(backend)
            assert b"Printer on fire" in raw
            assert EMAIL.encode() not in raw and OLD_EMAIL.encode() not in raw


def test_without_protection_the_value_would_be_there(backend: Backend) -> None:
    with backend.open() as store:
        _write_pii(store)
        assert EMAIL in _raw_rows(backend, store)


def test_sealed_values_open_with_the_key(store: StateStore) -> None:
    cipher = PiiCipher([Fernet.generate_key()])
    _write_pii(_protected(store, cipher))
    sealed = store.ledger(mapping="cases")
    assert is_sealed(sealed.loc[1, "after"]) and is_sealed(sealed.loc[0, "after"]["customfield_10054"])
    assert sealed.loc[0, "after"]["summary"] == "Printer" and sealed.loc[3, "after"] == "Printer on fire"
    opened = store.ledger(mapping="cases", cipher=cipher)
    assert opened.loc[0, "after"] == {"summary": "Printer", "customfield_10054": EMAIL}
    assert opened[["before", "after"]].iloc[1:3].to_numpy().tolist() == [[OLD_EMAIL, EMAIL]] * 2
    rejects = store.rejects("cases", cipher=cipher).set_index("record_id")
    assert rejects.loc["500A", "payload"] == EMAIL and rejects.loc["500A", "message"].endswith(EMAIL)
    assert rejects.loc["500B", "payload"] == {"customfield_10054": EMAIL, "summary": "x"}
    assert is_sealed(store.rejects("cases").set_index("record_id").loc["500A", "message"])


def test_rotation_keeps_old_rows_readable_and_reseals_them(backend: Backend) -> None:
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    with backend.open() as store:
        _write_pii(_protected(store, PiiCipher([old_key])))
    rotated = PiiCipher([new_key, old_key])  # the new key put first: old rows stay readable
    with backend.open() as store:
        before = store.ledger(mapping="cases", cipher=rotated)
        assert before.loc[0, "after"]["customfield_10054"] == EMAIL
        assert store.rotate_pii(rotated) == 8  # 5 ledger values and 3 reject values
        only_new = PiiCipher([new_key])
        pd.testing.assert_frame_equal(store.ledger(mapping="cases", cipher=only_new), before)
        assert store.rejects("cases", cipher=only_new).set_index("record_id").loc["500A", "payload"] == EMAIL
        with pytest.raises(PiiKeyError):
            store.ledger(mapping="cases", cipher=PiiCipher([old_key]))
        assert store.rotate_pii(only_new) == 8  # idempotent: rotating again re-seals, loses nothing
