"""Transform throughput: 1,000,000 Salesforce rows x 20 mapped fields of mixed types -> Jira.

Times the vectorized `to_jira` (and, separately, the record and field hashes) on the full frame,
and a row-by-row reference implementation of the same mapping on a sample, whose time is
extrapolated to the full row count (said so in the output). The reference is the fastest plain
row-wise Python (records as dicts, one function per field; iterrows/apply would be slower still).
Before timing anything it checks that both produce identical values, Jira values and rejects on
the sample, so the speed-up is for the same work. About 1% of the rows carry one bad value each.
The figure is the first vectorized run in the process (fresh memory included); repeats follow.

    .venv/bin/python bench/transform.py [--rows 1000000] [--sample 50000]
Targets: vectorized transform <= 5 s for 1M rows, >= 20x the reference.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "plugins"), str(Path(__file__).resolve().parents[1])]

from bench.rss import peak_rss_mb  # noqa: E402
from sfjira.mapping import FieldMapping, Mapping, parse_mapping  # noqa: E402
from sfjira.transform import field_hashes, record_hash, to_jira  # noqa: E402
from sfjira.values.text import cut_text  # noqa: E402

STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
          "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"]

MAPPING = """
name: bench_opportunities
salesforce: {object: Opportunity, jira_key_field: Jira_Key__c}
jira: {project: DEL, issue_type: Epic, salesforce_id_field: customfield_10050}
fields:
  - {salesforce: Name, jira: summary, required: true, max_length: 255, on_overflow: truncate}
  - {salesforce: Description, jira: description, type: text}
  - {salesforce: Amount, jira: customfield_10052, type: currency}
  - {salesforce: Probability, jira: customfield_10060, type: number}
  - {salesforce: TotalOpportunityQuantity, jira: customfield_10061, type: integer}
  - {salesforce: CloseDate, jira: customfield_10053, type: date, required: true}
  - {salesforce: LastActivity__c, jira: customfield_10062, type: datetime}
  - {salesforce: Approved__c, jira: customfield_10063, type: boolean}
  - salesforce: StageName
    jira: customfield_10055
    type: picklist
    value_map: {@STAGES@}
  - {salesforce: Priority__c, jira: priority, type: picklist, value_map: {High: Highest, Medium: Medium, Low: Lowest}}
  - {salesforce: Tags__c, jira: labels, type: multi-picklist}
  - {salesforce: Account.Name, jira: customfield_10051, max_length: 255, on_overflow: truncate}
  - {salesforce: Contact_Email__c, jira: customfield_10054, transforms: [strip, lower]}
  - {salesforce: Region__c, jira: customfield_10064, type: picklist, value_map: {EMEA: Europe, AMER: Americas,
     APAC: Asia Pacific}, unmapped: default, default: EMEA}
  - {salesforce: Due__c, jira: duedate, type: date}
  - {salesforce: Discount__c, jira: customfield_10065, type: number}
  - {salesforce: Code__c, jira: customfield_10066, transforms: [upper], max_length: 20, on_overflow: reject}
  - {salesforce: Review_At__c, jira: customfield_10067, type: datetime}
  - {salesforce: Owner.Email, jira: assignee, type: user}
  - {salesforce: Segment__c, jira: customfield_10068, type: picklist, value_map: {SMB: Small, ENT: Enterprise},
     unmapped: pass}
""".replace("@STAGES@", ", ".join(f"'{s}': '{s}'" for s in STAGES))


# -- data --------------------------------------------------------------------------------------------

def make_frame(n: int, seed: int = 7) -> pd.DataFrame:
    """n Salesforce rows as the hook delivers them (floats for numbers, API date strings), ~1% bad."""
    rng = np.random.default_rng(seed)
    i = pd.Series(np.arange(n)).astype("str")

    def pick(values: list) -> pd.Series:
        # numpy infers the dtype (float, bool or text), as the hook's frame would have it
        return pd.Series(rng.choice(np.array(values), n))

    def some(values: pd.Series | np.ndarray, missing: float) -> pd.Series:
        s = pd.Series(values)
        return s.where(rng.random(n) >= missing, None)

    base = pd.Timestamp("2026-01-01", tz="UTC")
    stamps = base + pd.to_timedelta(rng.integers(0, 365 * 86_400_000, n), unit="ms")
    iso = pd.Series(stamps.strftime("%Y-%m-%dT%H:%M:%S")) + "." + pd.Series(rng.integers(0, 1000, n)).astype(
        "str").str.zfill(3) + "+0000"
    days = pd.Series((base + pd.to_timedelta(rng.integers(0, 900, n), unit="D")).strftime("%Y-%m-%d"))
    names = "Deal " + i + pick([" für Ünïcode", " 😀 emoji", " שלום", " plain", " e\u0301"])
    long = rng.random(n) < 0.002
    names = names.where(~long, names + " " + "x" * 300)
    frame = pd.DataFrame({
        "Id": "006" + i.str.zfill(15),
        "SystemModstamp": stamps,  # the Salesforce hook parses it to a UTC timestamp column
        "Name": names,
        "Description": some(pick(["Line one\r\nline two", "Plain text", "Ünïcødé ✓", "😀👍🏽"]) + " " + i, 0.2),
        "Amount": some(np.round(rng.uniform(0, 5e6, n), 2), 0.05),
        "Probability": some(pick([10.0, 25.0, 50.0, 75.0, 90.0, 100.0]), 0.05),
        "TotalOpportunityQuantity": some(pd.Series(rng.integers(1, 500, n).astype(float)), 0.1),
        "CloseDate": days,
        "LastActivity__c": some(iso.str.slice(0, -5) + pick(["+0000", "+0100", "-0500"]), 0.1),
        "Approved__c": pick([True, False]),
        "StageName": pick(STAGES),
        "Priority__c": pick(["High", "Medium", "Low"]),
        "Tags__c": some(pick(["gold;renewal", "renewal", "gold;new;upsell", "new"]), 0.3),
        "Account.Name": "Account " + (pd.Series(rng.integers(0, 50_000, n)).astype("str")),
        "Contact_Email__c": pick([" Ada@Example.COM", "bob@example.com ", "Zoë@example.org"]),
        "Region__c": pick(["EMEA", "AMER", "APAC", "LATAM"]),
        "Due__c": some(days, 0.3),
        "Discount__c": some(pick(["0", "12.50", "7.25", "100", "3.333"]), 0.2),
        "Code__c": "c-" + i,
        "Review_At__c": some(iso, 0.5),
        "Owner.Email": pick(["ada@example.com", "bob@example.com"]),
        "Segment__c": pick(["SMB", "ENT", "MID"]),
    })
    _spoil(frame, rng)
    return frame


def _spoil(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    """About 1% of rows get one bad value each: they must be rejected, the rest must land."""
    n = len(frame)
    bad = np.flatnonzero(rng.random(n) < 0.01)
    kinds = rng.integers(0, 6, len(bad))
    for kind, (column, value) in enumerate([  # each keeps its column's dtype, as a JSON extract would("StageName", "Unknown Stage"), ("CloseDate", "2026-02-30"),
                                            ("LastActivity__c", "2026-03-29T02:30:00.000"),
                                            ("Discount__c", "12,5"), ("TotalOpportunityQuantity", 2.5),
                                            ("Code__c", "c-" + "9" * 30)]):
        frame.loc[bad[kinds == kind], column] = value


# -- the row-by-row reference ----------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$")
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Bad(Exception):
    def __init__(self, code: str) -> None:
        self.code = code


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v == ""


def ref_decimal(v: object) -> str | None:
    if _missing(v):
        return None
    text = repr(v) if isinstance(v, float) else str(v).strip()
    if isinstance(v, bool) or not _NUMBER.match(text) or text in ("inf", "nan"):
        raise Bad("INVALID_NUMBER")
    d = Decimal(text)
    out = format(d, "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    out = out.lstrip("+")
    sign = "-" if out.startswith("-") else ""
    digits = out.lstrip("-").lstrip("0") or "0"
    digits = "0" + digits if digits.startswith(".") else digits
    return "0" if digits == "0" else sign + digits


def ref_datetime(v: object) -> str | None:
    if _missing(v):
        return None
    text = str(v).strip()
    if not _DT.match(text):
        raise Bad("NAIVE_DATETIME" if _NAIVE.match(text) else "INVALID_DATETIME")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Bad("INVALID_DATETIME") from None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def ref_date(v: object) -> str | None:
    if _missing(v):
        return None
    text = str(v).strip()
    try:
        if not _DATE.match(text):
            raise ValueError
        date.fromisoformat(text)
    except ValueError:
        raise Bad("INVALID_DATE") from None
    return text


def ref_utf16(text: str) -> int:
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def ref_field(f: FieldMapping, row: dict) -> tuple[object, object]:
    """(canonical, Jira value) of one field of one record; raises Bad."""
    v = row[f.salesforce]
    if f.type in ("number", "currency", "integer"):
        value = ref_decimal(v)
        if f.type == "integer" and value is not None and "." in value:
            raise Bad("INVALID_NUMBER")
        return value, value
    if f.type == "date":
        value = ref_date(v)
        return value, value
    if f.type == "datetime":
        value = ref_datetime(v)
        return value, None if value is None else value[:-1] + "+0000"
    if f.type == "boolean":
        return (None, None) if v is None else (bool(v), bool(v))
    if f.type == "multi-picklist":
        if _missing(v):
            return None, None
        values = sorted({p.strip() for p in str(v).split(f.sf_separator) if p.strip()})
        return (";".join(values) or None), (values or None)
    value = None if _missing(v) else str(v)
    if value is not None and f.type == "text":
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    for step in f.transforms:
        if value is not None:
            value = {"strip": str.strip, "lower": str.lower, "upper": str.upper}[step.name](value) or None
    if f.value_map and value is not None and value not in f.value_map:
        if f.unmapped == "reject":
            raise Bad("VALUE_UNMAPPED")
        if f.unmapped == "default":
            value = f.default
    if value is None and f.required:
        raise Bad("REQUIRED_MISSING")
    limit = f.max_length or (255 if f.jira == "summary" else 32767 if f.jira == "description" else None)
    if value is not None and limit and ref_utf16(value) > limit:
        if f.max_length and f.overflow == "truncate":
            value = cut_text(value, limit)
        else:
            raise Bad("STRING_TOO_LONG")
    return value, f.value_map.get(value, value) if value is not None else None


def reference(mapping: Mapping, frame: pd.DataFrame) -> tuple[dict, dict, list]:
    canonical, target, rejects = {}, {}, []
    for row in frame.to_dict("records"):
        out_c, out_t, bad = {}, {}, []
        for f in mapping.fields:
            try:
                out_c[f.canonical_key], out_t[f.jira] = ref_field(f, row)
            except Bad as err:
                bad.append((row["Id"], f.canonical_key, err.code))
        if bad:
            rejects.extend(bad)
        else:
            canonical[row["Id"]], target[row["Id"]] = out_c, out_t
    return canonical, target, rejects


# -- comparison and timing -------------------------------------------------------------------------

def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    if isinstance(value, np.ndarray):
        return list(value)
    return value.item() if isinstance(value, np.generic) else value


def same_results(mapping: Mapping, frame: pd.DataFrame) -> int:
    result = to_jira(mapping, frame)
    canonical, target, rejects = reference(mapping, frame)
    got = {(r.record_id, r.field, r.code) for r in result.rejects.itertuples()}
    assert got == set(rejects), f"rejects differ: {sorted(got ^ set(rejects))[:5]}"
    assert list(result.frame.index) == list(canonical), "kept rows differ"
    for key in result.frame.columns:
        vec = [_plain(v) for v in result.frame[key].tolist()]
        ref = [canonical[i][key] for i in result.frame.index]
        assert vec == ref, f"canonical {key} differs: {next((a, b) for a, b in zip(vec, ref, strict=True) if a != b)}"
    for column in result.target.columns:
        vec = [_plain(v) for v in result.target[column].tolist()]
        ref = [target[i][column] for i in result.target.index]
        assert vec == ref, f"target {column} differs: {next((a, b) for a, b in zip(vec, ref, strict=True) if a != b)}"
    return len(rejects)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="vectorized runs (the first one is the figure)")
    args = parser.parse_args()
    mapping = parse_mapping(MAPPING, "bench/transform.py")
    fields = len(mapping.fields)

    t0 = time.perf_counter()
    frame = make_frame(args.rows)
    print(f"data: {args.rows:,} rows x {fields} mapped fields generated in {time.perf_counter() - t0:.1f} s")
    sample = frame.iloc[: args.sample].reset_index(drop=True)
    sample_rejects = same_results(mapping, sample)
    print(f"check: vectorized and reference agree on all {args.sample:,} sample rows "
          f"(values, Jira values and {sample_rejects} rejects)")
    print(f"setup: Arrow memory pool {pa.default_memory_pool().backend_name}, {min(4, pa.cpu_count())} transform "
          f"threads, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    rss_before = peak_rss_mb()
    runs, result = [], None
    for _ in range(max(1, args.repeat)):
        result = None  # let the previous result go first, so the RSS growth is one transform's
        t0 = time.perf_counter()
        result = to_jira(mapping, frame)
        runs.append(time.perf_counter() - t0)
    rss_transform = peak_rss_mb()
    t0 = time.perf_counter()
    hashes = record_hash(result.frame)
    hash_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    per_field = field_hashes(result.frame)
    field_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    reference(mapping, sample)
    ref_sample_s = time.perf_counter() - t0
    ref_s = ref_sample_s * args.rows / args.sample

    vec_s = runs[0]
    kept, rejected = len(result.frame), result.rejects["record_id"].nunique()
    print(f"vectorized to_jira : {vec_s:6.2f} s for {args.rows:,} rows = {args.rows / vec_s:>12,.0f} rows/s "
          f"({kept:,} kept, {rejected:,} rejected; first run in this process)")
    if len(runs) > 1:
        print(f"                     repeated: {', '.join(f'{r:.2f}' for r in runs[1:])} s "
              f"(best {args.rows / min(runs):,.0f} rows/s)")
    print(f"record hash        : {hash_s:6.2f} s for {len(hashes):,} rows = {len(hashes) / hash_s:>12,.0f} rows/s "
          f"(transform + hash {vec_s + hash_s:.2f} s)")
    print(f"field hashes       : {field_s:6.2f} s for {per_field.size:,} cells (on demand: the plan asks for "
          f"changed records only)")
    print(f"row-by-row ref.    : {ref_sample_s:6.2f} s for a {args.sample:,}-row sample = "
          f"{args.sample / ref_sample_s:>12,.0f} rows/s -> extrapolated {ref_s:.1f} s for {args.rows:,} rows")
    print(f"speed-up           : {ref_s / vec_s:6.1f}x (transform), {ref_s / (vec_s + hash_s):.1f}x (transform + hash)")
    print(f"peak RSS           : {peak_rss_mb():,.0f} MiB in all (input frame and reference included); "
          f"the transforms raised it by {rss_transform - rss_before:,.0f} MiB")
    print(f"targets            : <= 5 s {'MET' if vec_s <= 5 else 'MISSED'}, >= 20x "
          f"{'MET' if ref_s / vec_s >= 20 else 'MISSED'}")




if __name__ == "__main__":
    main()
