"""Reconciliation compare: 1,000,000 Salesforce records against 1,000,000 Jira issues, in memory.

Both sides are generated the way the hooks deliver them (Salesforce: +0000 date-times, floats from
JSON, ";"-joined multi-picklists, CRLF text; Jira: the API user's offset around the Europe/Berlin
DST change, options as values, lists, LF text, the `sfid` property), all linked in the state store's
shape, with drift seeded behind the sync's back in a known number of rows (some edited on both
sides since the last sync: pending conflicts, found through the synced state's field hashes).
Times `compare` end to end (both canonical transforms, pairing, field diff, conflict look-up),
checks it found exactly the seeded drift, and prints time, pairs/s and peak RSS.

    .venv/bin/python bench/reconcile.py [--rows 1000000] [--drift 0.001]
Target: <= 30 s for 1,000,000 pairs on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from sfjira.emulator_env import crypto_connection  # noqa: E402
from sfjira.mapping import Mapping, load_mapping  # noqa: E402
from sfjira.pii import PiiProtection  # noqa: E402
from sfjira.reconcile import compare  # noqa: E402
from sfjira.transform import to_jira, to_salesforce  # noqa: E402

# The mixed-type test world's mapping (every field type, both directions, PII, a parent field).
MAPPING_FILE = Path(__file__).resolve().parents[1] / "tests" / "sfjira" / "reconcile" / "mixed_mapping.yaml"

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


def make_sides(n: int, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Salesforce records, Jira issues and links of n cleanly synced pairs."""
    rng = np.random.default_rng(seed)
    i = pd.Series(np.arange(n)).astype("str")
    ids = "500" + i.str.zfill(15)
    keys = "SUP-" + (pd.Series(np.arange(n)) + 1).astype("str")
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
        "id": (pd.Series(np.arange(n)) + 10_000).astype("str"), "key": keys, "updated": modified,
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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--drift", type=float, default=0.001, help="share of issues with one seeded change")
    args = parser.parse_args()
    # The mapping declares PII: a key generated for this run (never one kept in the repository).
    os.environ.setdefault("AIRFLOW_CONN_SFJIRA_CRYPTO", json.dumps(crypto_connection()))
    mapping = load_mapping(MAPPING_FILE)
    started = time.perf_counter()
    sf, jira, links = make_sides(args.rows)
    synced, expected = seed_drift(mapping, sf, jira, args.drift)
    print(f"generated {args.rows:,} pairs x {len(mapping.synced_fields)} fields in "
          f"{time.perf_counter() - started:.1f} s (not timed); rss {peak_rss_mb():,.0f} MB")
    started = time.perf_counter()
    result = compare(mapping, sf, jira, links, synced_state=synced)
    elapsed = time.perf_counter() - started
    counts = {k: v for k, v in result.counts().items() if v}
    print(f"compare: {elapsed:.2f} s  ({args.rows / elapsed:,.0f} pairs/s)  pairs {result.pairs:,}  "
          f"peak RSS {peak_rss_mb():,.0f} MB")
    print(f"drift found: {result.total:,} rows {counts}; seeded {expected}")
    ok = result.pairs == args.rows and counts == {k: v for k, v in expected.items() if v}
    print(f"target <= 30 s: {'met' if elapsed <= 30 else 'MISSED'}; found exactly the seeded drift: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
