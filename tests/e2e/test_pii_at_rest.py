"""Must show 2 (issue 9): PII at rest. A case's contact e-mail (a `pii` field of case_to_bug) goes to
Jira through real sync and reconciliation DAG runs; afterwards no e-mail value is found in the raw
SQLite bytes or the PostgreSQL rows of the state store, nor in any Parquet cell, Parquet metadata or
other file of the run folders -- yet each holds it sealed (opened with the key, it is there). Files
are 0600, folders 0700, and a run folder past the retention period is gone."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pyarrow.parquet as pq
import sqlalchemy as sa

from sfjira.pii import cipher_from_airflow
from sfjira.state.schema import metadata
from sfjira.storage import read_frame
from tests.e2e.world import World
from tests.e2e_reconcile.recon import Recon

MAPPING = "case_to_bug"
FIRST, SECOND, TYPED_IN_JIRA = "ada.pii-probe@example.org", "grace.pii-probe@example.org", "typo.pii-probe@example.org"
SEEDED = (FIRST, SECOND, TYPED_IN_JIRA)


def _hits(text: str) -> list[str]:
    lowered = text.lower()
    return [email for email in SEEDED if email in lowered]


def _case(world: World, email: str, subject: str) -> str:
    contact = world.sf.create("Contact", FirstName="Ada", LastName="Probe", Email=email.upper())
    return world.sf.create("Case", Subject=subject, Priority="High", Status="New", Origin="Web", ContactId=contact)


def _state_leaks(world: World) -> list[str]:
    store = world.store
    found = []
    if store.url.startswith("sqlite"):
        db = Path(store.url.removeprefix("sqlite:///"))
        for path in db.parent.glob(db.name + "*"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            found += [f"{path}: {e}" for e in _hits(path.read_bytes().decode("latin-1"))]
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = [repr(tuple(r)) for r in conn.execute(sa.select(table))]
            if store.url.startswith("postgresql"):
                rows += [str(v) for v in conn.execute(sa.text(f"SELECT t::text FROM {table.name} t")).scalars()]
            found += [f"{table.name}: {e}" for row in rows for e in _hits(row)]
    return found


def _folder_leaks(root: Path) -> tuple[list[str], int]:
    """(hits, Parquet files read) over every file under `root`, modes checked on the way."""
    found, parquet = [], 0
    for path in sorted(root.rglob("*")):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
        if path.is_dir():
            continue
        found += [f"{path}: {e}" for e in _hits(path.read_bytes().decode("latin-1"))]
        if path.suffix == ".parquet":
            parquet += 1
            table = pq.read_table(path)
            found += [f"{path} metadata: {e}" for e in _hits(str(table.schema.metadata))]
            found += [f"{path} [{name}]: {e}" for name, column in zip(table.column_names, table.columns, strict=True)
                      for value in column.to_pylist() for e in _hits(str(value))]
    return found, parquet


def _old_run_folder(world: World, age_days: float) -> Path:
    folder = world.storage_dir / f"sfjira_sync__{MAPPING}" / f"scheduled__old_{age_days:g}"
    folder.mkdir(parents=True, mode=0o700)
    (folder / "note.txt").write_bytes(b"")
    os.chmod(folder / "note.txt", 0o600)
    stamp = (dt.datetime.now(dt.UTC) - dt.timedelta(days=age_days)).timestamp()
    for path in (folder / "note.txt", folder):
        os.utime(path, (stamp, stamp))
    return folder


def test_pii_is_stored_only_sealed_through_sync_and_reconciliation(world: World) -> None:
    case = _case(world, FIRST, "Printer on fire")
    first = world.run(MAPPING)
    key = world.sf.get("Case", case)["Jira_Key__c"]
    assert world.issue(key)["fields"]["customfield_10054"] == FIRST  # the sync delivered it (lower-cased)

    # The e-mail changes (another contact on the case): an update carries it as a before/after image.
    other = world.sf.create("Contact", FirstName="Grace", LastName="Probe", Email=SECOND)
    world.sf.update("Case", case, ContactId=other, Subject="Printer on fire, again")
    expired, kept = _old_run_folder(world, 30), _old_run_folder(world, 2)
    world.run(MAPPING)
    assert world.issue(key)["fields"]["customfield_10054"] == SECOND
    assert not expired.exists() and kept.exists()  # retention: 7 days by default, this DAG's folders only

    # Someone types another address into Jira; the reconciliation finds it and heals it from Salesforce.
    world.jira.ok("PUT", f"/issue/{key}", json={"fields": {"customfield_10054": TYPED_IN_JIRA}})
    recon = Recon(world.sf_emulator, world.jira_emulator, world.mappings_dir, world.storage_dir)
    healed = recon.reconcile(MAPPING, auto_heal=True)
    assert ("field_mismatch", case, key, "Contact.Email") in healed.found()
    assert world.issue(key)["fields"]["customfield_10054"] == SECOND

    # Nothing at rest holds a seeded address in the clear ...
    assert _state_leaks(world) == []
    leaks, parquet = _folder_leaks(world.storage_dir)
    assert leaks == [] and parquet >= 20
    # ... and yet it is all there, sealed: the key opens it.
    cipher = cipher_from_airflow()
    ledger = world.store.ledger(mapping=MAPPING, cipher=cipher)
    images = " ".join(str(v) for v in [*ledger["before"], *ledger["after"]]).lower()
    assert FIRST in images and SECOND in images
    sealed = world.store.ledger(mapping=MAPPING)
    assert not _hits(" ".join(str(v) for v in [*sealed["before"], *sealed["after"]]))
    records = read_frame(str(first.folder / "sf_records"))  # a part set: its parts as one frame
    assert set(records["Contact.Email"]) == {FIRST.upper()}
