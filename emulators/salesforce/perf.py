"""Prints how fast the emulator seeds, pages and writes: `python -m emulators.salesforce.perf [--records N]`.

Figures, not assertions: it starts its own emulator process in a temporary directory, seeds N
opportunities (plus accounts, contacts, cases), then times query pages, queryAll and collection writes,
first without and then with 20 ms of injected latency per call.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from emulators.common.process import EmulatorProcess
from emulators.salesforce.testing import access_token

SOQL = ("SELECT Id, Name, StageName, Amount, CloseDate, SystemModstamp, Account.Name, Owner.Email "
        "FROM Opportunity WHERE SystemModstamp > 2000-01-01T00:00:00Z ORDER BY SystemModstamp")


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


def page_times(session: requests.Session, base: str, ca: str, resource: str) -> list[float]:
    times: list[float] = []
    ms, response = timed(lambda: session.get(f"{base}/services/data/v62.0/{resource}/", params={"q": SOQL},
                                             verify=ca, timeout=60))
    times.append(ms)
    body = response.json()
    while not body["done"]:
        url = base + body["nextRecordsUrl"]
        ms, response = timed(lambda url=url: session.get(url, verify=ca, timeout=60))
        times.append(ms)
        body = response.json()
    return times


def upsert_batches(session: requests.Session, base: str, ca: str, batches: int) -> list[float]:
    times = []
    for batch in range(batches):
        records = [{"attributes": {"type": "Opportunity"}, "Jira_Key__c": f"DEL-{batch * 200 + n}",
                    "Name": f"Bench {n}", "StageName": "Prospecting", "CloseDate": "2026-12-31"} for n in range(200)]
        ms, response = timed(lambda records=records: session.patch(
            f"{base}/services/data/v62.0/composite/sobjects/Opportunity/Jira_Key__c",
            json={"allOrNone": False, "records": records}, verify=ca, timeout=60))
        assert all(r["success"] for r in response.json())
        times.append(ms)
    return times


def describe(label: str, times: list[float]) -> None:
    print(f"  {label:<40} n={len(times):<3} median {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000, help="opportunities to seed (default 5000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess("emulators.salesforce", Path(tmp)) as emulator:
        ms, seeded = timed(lambda: emulator.seed(seed=1, accounts=500, opportunities=args.records))
        print(f"seed: {seeded['total']} records ({seeded['created']}) in {ms:.0f} ms "
              f"(server side {seeded['elapsed_ms']:.0f} ms)")
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {access_token(emulator.url, emulator.ca_bundle)}"
        for latency in (0, 20):
            emulator.set_latency(latency)
            print(f"latency {latency} ms per call:")
            query_pages = page_times(session, emulator.url, emulator.ca_bundle, "query")
            describe(f"/query pages over {args.records}", query_pages)
            print(f"  {'whole /query extract':<40} {sum(query_pages):7.1f} ms")
            describe(f"/queryAll pages over {args.records}", page_times(session, emulator.url, emulator.ca_bundle,
                                                                         "queryAll"))
            describe("collections upsert, 200 records", upsert_batches(session, emulator.url, emulator.ca_bundle, 5))
            emulator.reset()
            emulator.seed(seed=1, accounts=500, opportunities=args.records)


if __name__ == "__main__":
    main()
