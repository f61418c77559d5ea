"""Throughput figures for the Jira emulator: `python -m emulators.jira.bench [--issues 5000] [--latency-ms 20]`.

Starts a real emulator process, seeds it, and prints seconds per search page (Cloud token paging with
fields, ids only, and Data Center startAt paging), with and without injected latency, plus bulk-create
and entity-property lookup figures. Figures only; nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import DC_BASIC, JiraRest


def timed(label: str, runs: list[float]) -> None:
    print(f"  {label:<58} pages={len(runs):<4} mean={statistics.mean(runs) * 1000:7.1f} ms  "
          f"max={max(runs) * 1000:7.1f} ms  total={sum(runs):6.2f} s")


def page_through(fetch: Callable[[Any], tuple[Any, bool]]) -> list[float]:
    times, cursor = [], None
    while True:
        started = time.perf_counter()
        cursor, done = fetch(cursor)
        times.append(time.perf_counter() - started)
        if done:
            return times


def cloud_pages(rest: JiraRest, jql: str, fields: str | None, size: int) -> list[float]:
    def fetch(token: Any) -> tuple[Any, bool]:
        params = {"jql": jql, "maxResults": size, **({"fields": fields} if fields else {}),
                  **({"nextPageToken": token} if token else {})}
        body = rest.ok("GET", "/search/jql", params=params)
        return body.get("nextPageToken"), body["isLast"]
    return page_through(fetch)


def dc_pages(rest: JiraRest, jql: str, size: int) -> list[float]:
    def fetch(start: Any) -> tuple[Any, bool]:
        start = start or 0
        body = rest.ok("GET", "/search", params={"jql": jql, "startAt": start, "maxResults": size})
        return start + size, start + size >= body["total"]
    return page_through(fetch)


def searches(proc: EmulatorProcess, label: str) -> None:
    jql = "project in (SUP, DEL) ORDER BY updated ASC, key ASC"
    print(f"search paging ({label})")
    cloud = JiraRest(proc.url, proc.ca_bundle, version=3)
    timed("cloud /search/jql fields=summary,status,updated,cf 100/page",
          cloud_pages(cloud, jql, "summary,status,updated,customfield_10050", 100))
    timed("cloud /search/jql fields=*all 100/page", cloud_pages(cloud, jql, "*all", 100))
    timed("cloud /search/jql ids only 5000/page", cloud_pages(cloud, jql, None, 5000))
    cloud.session.close()
    proc.configure(mode="datacenter")
    dc = JiraRest(proc.url, proc.ca_bundle, version=2, auth=DC_BASIC)
    timed("datacenter /search *navigable 1000/page", dc_pages(dc, jql, 1000))
    timed("datacenter /search *navigable 100/page", dc_pages(dc, jql, 100))
    dc.session.close()
    proc.configure(mode="cloud")


def writes(proc: EmulatorProcess) -> None:
    rest = JiraRest(proc.url, proc.ca_bundle, version=3)
    issue = {"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": "bench"}}
    runs = []
    for _ in range(10):
        started = time.perf_counter()
        rest.ok("POST", "/issue/bulk", json={"issueUpdates": [issue] * 50})
        runs.append(time.perf_counter() - started)
    timed("bulk create, 50 issues per call", runs)
    sfids = [f"500BENCH{n:010d}" for n in range(50)]
    keys = [i["key"] for i in rest.ok("GET", "/search/jql", params={"jql": "summary ~ bench", "fields": "key",
                                                                    "maxResults": 50})["issues"]]
    for key, sfid in zip(keys, sfids, strict=False):
        rest.ok("PUT", f"/issue/{key}/properties/sfjira", json={"sfid": sfid, "mapping": "case_to_bug"})
    quoted = ", ".join(f'"{s}"' for s in sfids)
    lookups = [_time(lambda: rest.ok("GET", "/search/jql", params={
        "jql": f"issue.property[sfjira].sfid in ({quoted})", "fields": "key", "maxResults": 100}))
        for _ in range(10)]
    timed("JQL lookup of 50 sfids by entity property", lookups)
    rest.session.close()


def _time(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=5000, help="issues to seed, split over SUP and DEL")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="injected latency for the second round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess("emulators.jira", Path(tmp)) as proc:
        started = time.perf_counter()
        summary = proc.seed(seed=1, issues_per_project=args.issues // 2, comments_per_issue=2)
        print(f"seeded {summary['created']} issues, {summary['comments']} comments in "
              f"{time.perf_counter() - started:.2f} s")
        searches(proc, "no latency")
        proc.set_latency(args.latency_ms)
        searches(proc, f"{args.latency_ms:g} ms latency per call")
        proc.set_latency(0)
        writes(proc)
        proc.session.close()


if __name__ == "__main__":
    main()
