"""Ledger benchmark: bytes per written field, and what before-images add to the write path.

    python bench/ledger.py [--fields 20000] [--no-pii] [--url sqlite:///... | postgresql://...]

Appends `fields` update rows (one per written field, in chunks of 50 records x 4 fields, as a Jira
update chunk saves them through `complete_intent`) twice: as the ledger held them before issue 12
(after-image only) and with before-image, direction and cause; one field in four (a customer e-mail)
is PII and sealed, unless --no-pii. Prints the database bytes per row of each (SQLite: file size; PostgreSQL: the table's
total relation size) and the time to save them. The API side is counted, not timed: a before-image
costs one read per write chunk (Jira: 1 search per <= 50 updated issues, next to their 50 PUTs;
Salesforce: 1 SOQL per <= 200 records, next to their 1 collection update); the output prints that
ratio. No numbers are asserted anywhere: this only prints.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sfjira-bench-airflow-"))

import pandas as pd  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from sfjira.pii import PiiCipher, PiiProtection  # noqa: E402
from sfjira.state import StateStore  # noqa: E402

CHUNK_RECORDS, FIELDS_PER_RECORD = 50, 4
NAMES = ("summary", "priority", "customfield_10054", "description")


def rows(n: int, start: int, with_before: bool) -> pd.DataFrame:
    out = []
    for i in range(start, start + n):
        field = NAMES[i % FIELDS_PER_RECORD]
        row = {"side": "jira", "action": "update", "sf_id": f"500{i // FIELDS_PER_RECORD:015d}",
               "jira_key": f"SUP-{i // FIELDS_PER_RECORD}", "field": field,
               "after": f"new value of {field} number {i}"}
        if with_before:
            row.update(before=f"old value of {field} number {i}", direction="sf_to_jira", cause="change")
        out.append(row)
    return pd.DataFrame(out)


def size(store: StateStore, url: str) -> int:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_total_relation_size('sfjira_ledger')")).scalar() or 0)


def measure(url: str, fields: int, with_pii: bool, with_before: bool) -> tuple[float, float]:
    cipher = PiiCipher([Fernet.generate_key()])
    pii = frozenset({"customfield_10054"} if with_pii else set())
    with StateStore(url) as store:
        store.protect("bench", PiiProtection(pii, cipher, "bench"))
        run = store.begin_run("bench", f"bench_{with_before}_{time.time_ns()}")
        empty = size(store, url)
        per_chunk = CHUNK_RECORDS * FIELDS_PER_RECORD
        took = 0.0
        for number, start in enumerate(range(0, fields, per_chunk)):
            intent = store.begin_intent("bench", run, "jira", "update", number, [str(number)])
            frame = rows(min(per_chunk, fields - start), start, with_before)
            began = time.perf_counter()
            store.complete_intent(intent.intent_id, ledger=frame)
            took += time.perf_counter() - began
        if url.startswith("sqlite"):
            with store.engine.begin() as conn:
                conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return (size(store, url) - empty) / fields, took / fields * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=20000)
    parser.add_argument("--no-pii", action="store_true", help="no PII field (nothing sealed)")
    parser.add_argument("--url", help="state store URL (default: a fresh SQLite file per variant)")
    args = parser.parse_args()
    figures = {}
    for with_before in (False, True):
        url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='sfjira-bench-ledger-')}/state.db"
        figures[with_before] = measure(url, args.fields, not args.no_pii, with_before)
    (b0, t0), (b1, t1) = figures[False], figures[True]
    pii = "no PII" if args.no_pii else f"1 of {FIELDS_PER_RECORD} fields PII (sealed)"
    print(f"ledger rows (written fields): {args.fields}, {CHUNK_RECORDS} records x {FIELDS_PER_RECORD} fields "
          f"per chunk, {pii}")
    print(f"bytes per written field: after-image only {b0:.0f}, with before-image/direction/cause {b1:.0f} "
          f"(+{b1 - b0:.0f})")
    print(f"state-store save per written field: {t0:.1f} us -> {t1:.1f} us ({(t1 / t0 - 1) * 100:+.0f} %)")
    print("API calls per write chunk: Jira 50 PUTs + 1 before-image search (+2 %); Salesforce 1 collection "
          "update + 1 before-image SOQL (+1 call per 200 records); a run with no writes: +0")


if __name__ == "__main__":
    main()
