"""What a writer lease costs a task: acquire + release round trips, and a renewal, on SQLite and PostgreSQL.

    PYTHONPATH=plugins python bench/writer_lease.py [postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid

import sqlalchemy as sa

from sfjira.state import StateStore

ROUNDS = 200


def measure(store: StateStore) -> None:
    store.lease("bench")  # connected and migrated
    start = time.perf_counter()
    for _ in range(ROUNDS):
        assert store.acquire_lease("bench", "bench-holder", 60).held_by("bench-holder")
        assert store.release_lease("bench", "bench-holder")
    pair = (time.perf_counter() - start) / ROUNDS
    store.acquire_lease("bench", "bench-holder", 60)
    start = time.perf_counter()
    for _ in range(ROUNDS):
        store.renew_lease("bench", "bench-holder", 60)
    renew = (time.perf_counter() - start) / ROUNDS
    print(f"{store.engine.dialect.name:<10} acquire+release {pair * 1000:6.2f} ms   renew {renew * 1000:6.2f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, StateStore(f"sqlite:///{folder}/state.db") as store:
        measure(store)
    pg = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/test"
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        with StateStore(pg, schema=schema) as store:
            measure(store)
    finally:
        engine = sa.create_engine(pg.replace("postgresql://", "postgresql+psycopg2://"))
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()
