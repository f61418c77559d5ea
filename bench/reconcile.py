"""Reconciliation compare: 1,000,000 Salesforce records against 1,000,000 Jira issues, streamed by bucket.

Both sides are generated the way the hooks deliver them (Salesforce: +0000 date-times, floats from
JSON, ";"-joined multi-picklists, CRLF text; Jira: the API user's offset around the Europe/Berlin
DST change, options as values, lists, LF text, the `sfid` property), all linked in the state store's
shape, with drift seeded behind the sync's back in a known number of rows (some edited on both
sides since the last sync: pending conflicts, found through the synced state's field hashes).

By default the world is written a chunk at a time as extract parts (Parquet, under a temp dir) and a
SQLite state store (links, synced state), then timed as the DAG's compare step runs it
(reconcile.buckets): the identity columns of every part and the links -> the bucket plan -> both
sides' parts split by bucket -> `compare` bucket by bucket, each bucket's synced state asked of the
store -> drift rows written as parts. `--in-memory` times the old path instead: `compare` on both
whole sides held in memory. Either checks it found exactly the seeded drift, and prints time,
pairs/s and peak RSS (this process's high-water mark). The streaming path generates the world in a process
of its own, so its figure is what the DAG's compare task would reach (its imports, then the step); the
in-memory path holds the sides it generated, as it must.
The parts are not PII-sealed here (the DAG's are: sealing and opening cost extra time, not memory).

    .venv/bin/python bench/reconcile.py [--rows 1000000] [--drift 0.001] [--part-records 100000] [--in-memory]
Target: <= 30 s for 1,000,000 pairs on 2 cores.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gc
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "plugins"), str(Path(__file__).resolve().parents[1])]

from airflow.sdk import ObjectStoragePath  # noqa: E402

from bench.rss import peak_rss_mb  # noqa: E402
from sfjira.emulator_env import crypto_connection  # noqa: E402
from sfjira.mapping import Mapping, load_mapping  # noqa: E402
from sfjira.pii import PiiProtection  # noqa: E402
from sfjira.reconcile import compare  # noqa: E402
from sfjira.reconcile.buckets import (  # noqa: E402
    JIRA,
    SALESFORCE,
    Totals,
    bucket_count,
    compare_buckets,
    identity_columns,
    partition,
    plan_buckets,
    read_identities,
)
from sfjira.reconcile.steps import LINK_IDENTITY  # noqa: E402
from sfjira.state import StateStore  # noqa: E402
from sfjira.storage import make_folder, read_frame, write_frame  # noqa: E402
from sfjira.transform import to_jira, to_salesforce  # noqa: E402

# The mixed-type test world's mapping (every field type, both directions, PII, a parent field).
MAPPING_FILE = Path(__file__).resolve().parents[1] / "tests" / "sfjira" / "reconcile" / "mixed_mapping.yaml"

# bench/reconcile.py --in-memory at 1,000,000 pairs before the buckets (issue 14): the whole window in memory.
LAST_IN_MEMORY = "30 s, peak RSS 2.5 GB"
DST_START = pd.Timestamp("2026-03-29T01:00:00Z")  # Europe/Berlin: +0100 before, +0200 after
SUBJECTS = np.array(["Login fails 😀", "שלום עולם", "Cafe\u0301 crash", "Ünïcode ✓", "plain subject",
                     "👍🏽 thumbs", "Zoë's report"], dtype=object)
TAGS_SF = np.array(["gold;renewal", "renewal", "upsell;gold;new", None], dtype=object)
TAGS_JIRA = [["gold", "renewal"], ["renewal"], ["gold", "new", "upsell"], []]
VERSIONS_SF = np.array(["1.1; 1.0", "2.0", None], dtype=object)
VERSIONS_JIRA = [["1.0", "1.1"], ["2.0"], []]
ACCOUNTS = np.array(["Acme \u05e9\u05dc\u05d5\u05dd", "Cafe\u0301 GmbH", "\U0001F3E2 Towers", None], dtype=object)
STATUS_SF = np.array(["New", "Working", "Escalated", "Closed"], dtype=object)
STATUS_JIRA = np.array(["To Do", "In Progress", "In Review", "Done"], dtype=object)


def _stamps(rng: np.random.Generator, n: int) -> pd.DatetimeIndex:
    """Instants within two days of the DST change, at millisecond precision."""
    return DST_START + pd.to_timedelta(rng.integers(-86_400_000, 86_400_000, n), unit="ms")


def _api_text(instants: pd.DatetimeIndex, jira: bool) -> pd.Series:
    """`...T..:..:..SSS+0000` as Salesforce writes it, or in Berlin time with its offset as Jira does."""
    after = np.asarray(instants >= DST_START)
    offset = pd.to_timedelta(np.where(after, 2, 1) if jira else np.zeros(len(instants), int), unit="h")
    local = pa.array((instants.tz_localize(None) + offset).to_numpy(), pa.timestamp("ms")).cast(pa.string())
    text = pd.Series(pd.array(local, dtype="str")).str.replace(" ", "T", regex=False)
    suffix = np.where(after, "+0200", "+0100") if jira else np.full(len(instants), "+0000")
    return text + pd.Series(suffix)


def make_sides(n: int, seed: int = 11, start: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Salesforce records, Jira issues and links of n cleanly synced pairs (numbered from `start`)."""
    rng = np.random.default_rng(seed)
    numbers = pd.Series(np.arange(start, start + n))
    i = numbers.astype("str")
    ids = "500" + i.str.zfill(15)
    keys = "SUP-" + (numbers + 1).astype("str")
    pick = rng.integers(0, 4, n)
    subject = pd.Series(SUBJECTS[rng.integers(0, len(SUBJECTS), n)]) + " " + i
    amount = np.round(rng.uniform(0, 5e6, n), 2)
    review = _stamps(rng, n)
    modified = _stamps(rng, n)
    days = pd.Series((pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"))
                     .strftime("%Y-%m-%d"))
    approved = rng.random(n) < 0.5
    priority = np.array(["High", "Medium", "Low"], dtype=object)[rng.integers(0, 3, n)]
    email = np.array(["ada@example.com", "bob@example.com", "zoë@example.org"], dtype=object)[rng.integers(0, 3, n)]
    units = rng.integers(1, 500, n)
    versions = rng.integers(0, 3, n)
    account = ACCOUNTS[rng.integers(0, len(ACCOUNTS), n)]
    discount = np.array([12.5, 0.0, 7.25, 100.0, np.nan])[rng.integers(0, 5, n)]
    sf = pd.DataFrame({
        "Id": ids, "SystemModstamp": modified, "Jira_Key__c": keys, "Jira_Url__c": None,
        "Subject": subject, "Description": "Line one\r\nline two " + i,
        "Amount__c": amount, "Close_Date__c": days, "Review_At__c": _api_text(review, jira=False),
        "Approved__c": approved, "Priority": priority,
        "Contact.Email": "  " + pd.Series(email).str.upper() + " ", "Tags__c": TAGS_SF[pick],
        "Units__c": units.astype(float), "Status": STATUS_SF[pick], "Fix_Version__c": VERSIONS_SF[versions],
        "Account.Name": account, "Discount__c": discount,
    })
    jira = pd.DataFrame({
        "id": (numbers + 10_000).astype("str"), "key": keys, "updated": modified,
        "customfield_10050": ids, "summary": subject, "description": "Line one\nline two " + i,
        "customfield_10052": amount, "customfield_10053": days, "customfield_10060": _api_text(review, jira=True),
        "customfield_10061": np.where(approved, "Yes", "No"),
        "priority": np.where(priority == "High", np.where(rng.random(n) < 0.5, "Highest", "High"), priority),
        "customfield_10054": email, "labels": pd.Series([TAGS_JIRA[k] for k in pick], dtype=object),
        "customfield_10062": units, "status": STATUS_JIRA[pick], "sfid": ids,
        "fixVersions": pd.Series([VERSIONS_JIRA[k] for k in versions], dtype=object),
        "customfield_10051": account, "customfield_10063": discount,
    })
    links = pd.DataFrame({"sf_id": ids, "jira_id": jira["id"], "jira_key": keys, "state": "active"})
    return sf, jira, links


def seed_drift(mapping: Mapping, sf: pd.DataFrame, jira: pd.DataFrame, share: float,
               seed: int = 12) -> tuple[pd.DataFrame, dict[str, int]]:
    """Change one field in a share of the issues behind the sync's back (amounts, dates, summaries,
    statuses); a third of the summary edits are also made in Salesforce (pending conflicts). Returns
    the synced state as the sync left it (agreed field hashes of the drifted records, none kept for
    the others) and the drift counts compare must find."""
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(rng.random(len(jira)) < share)
    synced = _agreed_hashes(mapping, sf, jira, rows)
    kind = rng.integers(0, 4, len(rows))
    jira.loc[rows[kind == 0], "customfield_10052"] += 0.01
    jira.loc[rows[kind == 1], "customfield_10053"] = "2027-01-01"
    jira.loc[rows[kind == 2], "summary"] = "edited in Jira"
    jira.loc[rows[kind == 3], "status"] = np.where(jira.loc[rows[kind == 3], "status"] == "Done", "To Do", "Done")
    both = rows[kind == 2][::3]
    sf.loc[both, "Subject"] = "edited in Salesforce"
    return synced, {"field_mismatch": len(rows) - len(both), "conflict_pending": len(both)}


def _agreed_hashes(mapping: Mapping, sf: pd.DataFrame, jira: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    pii = PiiProtection.for_mapping(mapping)  # PII hashes are keyed, as the sync keeps them
    parts = [pd.DataFrame({"sf_id": sf["Id"], "direction": "sf_to_jira", "hash": "h", "field_hashes": None})]
    for result, direction in ((to_jira(mapping, sf.iloc[rows]), "sf_to_jira"),
                              (to_salesforce(mapping, jira.iloc[rows]), "jira_to_sf")):
        hashes = pii.field_hashes(result.frame).astype(object).to_dict("records")
        parts.append(pd.DataFrame({"sf_id": sf["Id"].iloc[rows].to_numpy(), "direction": direction, "hash": "h",
                                   "field_hashes": hashes}))
    return pd.concat(parts, ignore_index=True).drop_duplicates(["sf_id", "direction"], keep="last")




def in_memory(mapping: Mapping, rows: int, drift: float) -> bool:
    """The compare of both whole sides held in memory (what the DAG did before the buckets)."""
    started = time.perf_counter()
    sf, jira, links = make_sides(rows)
    synced, expected = seed_drift(mapping, sf, jira, drift)
    print(f"generated {rows:,} pairs x {len(mapping.synced_fields)} fields in "
          f"{time.perf_counter() - started:.1f} s (not timed); rss {peak_rss_mb():,.0f} MB")
    started = time.perf_counter()
    result = compare(mapping, sf, jira, links, synced_state=synced)
    elapsed = time.perf_counter() - started
    counts = {k: v for k, v in result.counts().items() if v}
    print(f"in-memory compare: {elapsed:.2f} s  ({rows / elapsed:,.0f} pairs/s)  pairs {result.pairs:,}  "
          f"peak RSS {peak_rss_mb():,.0f} MB")
    return _verdict(elapsed, result.pairs, rows, counts, expected)


def _verdict(elapsed: float, pairs: int, rows: int, counts: dict[str, int], expected: dict[str, int]) -> bool:
    print(f"drift found: {sum(counts.values()):,} rows {counts}; seeded {expected}")
    ok = pairs == rows and counts == {k: v for k, v in expected.items() if v}
    print(f"target <= 30 s: {'met' if elapsed <= 30 else 'MISSED'}; found exactly the seeded drift: {ok}")
    return ok


def write_world(mapping: Mapping, folder: Path, store: StateStore, rows: int, drift: float,
                chunk: int) -> dict[str, int]:
    """The extract parts of both sides (`chunk` records each, as the DAG's extract flushes them) and the
    state store's links and synced state, generated a chunk at a time. Returns the seeded drift counts."""
    expected: dict[str, int] = {}
    run = store.begin_run(mapping.name, "bench__reconcile")
    for number, start in enumerate(range(0, rows, chunk)):
        sf, jira, links = make_sides(min(chunk, rows - start), seed=11 + number, start=start)
        synced, seeded = seed_drift(mapping, sf, jira, drift, seed=1_000 + number)
        write_frame(make_folder(ObjectStoragePath(str(folder / "sf"))), f"part-{number:05d}", sf)
        write_frame(make_folder(ObjectStoragePath(str(folder / "jira"))), f"part-{number:05d}", jira)
        store.upsert_links(mapping.name, links, run)
        store.save_synced_state(mapping.name, synced, run)
        expected = {k: expected.get(k, 0) + v for k, v in seeded.items()}
    return expected


def streaming(mapping: Mapping, rows: int, drift: float, part_records: int, chunk: int) -> bool:
    """What the DAG's compare step does: identity columns of the parts -> bucket plan -> parts split by
    bucket -> compare bucket by bucket (synced state asked per bucket) -> drift rows as parts."""
    with tempfile.TemporaryDirectory(prefix="sfjira-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        # Generated in a process of its own: what it leaves allocated is not the compare's, whose peak is
        # measured in this process as the DAG's compare task would see it (imports, then the step).
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            expected, generated_mb = pool.submit(_generate, folder, rows, drift, chunk).result()
        print(f"generated {rows:,} pairs x {len(mapping.synced_fields)} fields as {math.ceil(rows / chunk)} parts a "
              f"side + a SQLite state store in {time.perf_counter() - started:.1f} s (not timed), in a process "
              f"of its own that peaked at {generated_mb:,.0f} MB")
        return _compare_streaming(mapping, folder, rows, part_records, expected)


def _generate(folder: Path, rows: int, drift: float, chunk: int) -> tuple[dict[str, int], float]:
    os.environ.setdefault("AIRFLOW_CONN_SFJIRA_CRYPTO", json.dumps(crypto_connection()))
    with StateStore(_store_url(folder)) as store:
        return write_world(load_mapping(MAPPING_FILE), folder, store, rows, drift, chunk), peak_rss_mb()


def _store_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'state.db'}"


def _compare_streaming(mapping: Mapping, folder: Path, rows: int, part_records: int, expected: dict[str, int]) -> bool:
    with StateStore(_store_url(folder)) as store:
        read_frame(str(folder / "sf" / "part-00000.parquet"))   # Airflow's object storage set up, as in a task
        gc.collect()
        base, started = peak_rss_mb(), time.perf_counter()
        links = store.links(mapping.name, columns=LINK_IDENTITY)
        sf_cols, jira_cols = identity_columns(mapping)
        sf_ids = read_identities(str(folder / "sf"), sf_cols, "Id")
        jira_ids = read_identities(str(folder / "jira"), jira_cols, "key")
        plan = plan_buckets(mapping, sf_ids, jira_ids, links, bucket_count(max(len(sf_ids), len(jira_ids)),
                                                                           part_records))
        del sf_ids, jira_ids
        planned, rss_plan = time.perf_counter(), peak_rss_mb()
        out = str(folder / "buckets")
        sf_b = partition(plan, str(folder / "sf"), SALESFORCE, out)
        jira_b = partition(plan, str(folder / "jira"), JIRA, out)
        split, rss_split = time.perf_counter(), peak_rss_mb()
        totals = Totals(mapping.name)
        rows_folder = make_folder(ObjectStoragePath(str(folder / "drift_rows")))
        for bucket, result in compare_buckets(mapping, plan, sf_b, jira_b, links,
                                              synced_for=lambda ids: store.synced_state_of(mapping.name, ids)):
            totals.add(result)
            if result.total:
                write_frame(rows_folder, f"part-{bucket:05d}", result.rows)
        done = time.perf_counter()
    elapsed = done - started
    counts = {k: v for k, v in totals.counts.items() if v}
    print(f"streaming compare in {plan.buckets} buckets of <= ~{part_records:,} records: {elapsed:.2f} s  "
          f"({rows / elapsed:,.0f} pairs/s)  pairs {totals.pairs:,}  peak RSS {peak_rss_mb():,.0f} MB "
          f"({base:,.0f} MB of it before the compare began: the imports, as in a task)")
    print(f"  plan {planned - started:.1f} s (identity columns + links; peak RSS by then {rss_plan:,.0f} MB), "
          f"split {split - planned:.1f} s ({rss_split:,.0f} MB), compare {done - split:.1f} s")
    print(f"  in-memory compare (--in-memory; before the buckets, last measured): ~{LAST_IN_MEMORY}")
    return _verdict(elapsed, totals.pairs, rows, counts, expected)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--drift", type=float, default=0.001, help="share of issues with one seeded change")
    parser.add_argument("--part-records", type=int, default=100_000,
                        help="records per bucket ([sfjira] part_records, default 50000)")
    parser.add_argument("--chunk", type=int, default=20_000, help="records per extract part (as the extract flushes)")
    parser.add_argument("--in-memory", action="store_true", help="the old path: both whole sides in memory")
    args = parser.parse_args()
    # The mapping declares PII: a key generated for this run (never one kept in the repository).
    os.environ.setdefault("AIRFLOW_CONN_SFJIRA_CRYPTO", json.dumps(crypto_connection()))
    mapping = load_mapping(MAPPING_FILE)
    if args.in_memory:
        return 0 if in_memory(mapping, args.rows, args.drift) else 1
    return 0 if streaming(mapping, args.rows, args.drift, args.part_records, args.chunk) else 1


if __name__ == "__main__":
    sys.exit(main())
