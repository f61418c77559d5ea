"""Ambiguous writes resolved inside the task: look up whether the effect landed, send only what did not.

A 5xx, a reset or a lost response on a write leaves the caller not knowing whether the write landed.
Failing the task for it makes every fault a task retry; turning it into a reject lets the cursor move
past a change that never reached the other side. Instead `settle` looks the effect up (a comment by its
header line, an issue by its Salesforce id, a status by reading it) and sends again only when it is
not there, with backoff, a bounded number of times; then it raises a TRANSIENT error so Airflow retries
the task, whose write-ahead intent makes the retry look up again before writing.

The same look-ups serve the records of a pending intent (a killed attempt): `check_first` asks before the
first send.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import pandas as pd

from sfjira.exceptions import ApiError, SfJiraError
from sfjira.hooks.soql import check_fields, check_sobject, soql_literal

log = logging.getLogger(__name__)

T = TypeVar("T")
TRIES = 4          # sends (and look-ups between them) per write before the task is failed transiently
BASE_DELAY = 1.0   # seconds before the first look-up; doubles, with jitter, up to MAX_DELAY
MAX_DELAY = 8.0
IN_CLAUSE = 200    # parent ids per SOQL `IN (...)`


class WriteUnresolved(SfJiraError):
    """A write stayed ambiguous or failing through every try inside the task. Transient: the task's retry
    (or the next run) meets the write's pending intent and looks its records up before writing."""

    code = "WRITE_UNRESOLVED"
    transient = True


def is_ambiguous(exc: BaseException) -> bool:
    """A failure after which the write may or may not have landed, and which may pass on another try."""
    return isinstance(exc, ApiError) and bool(exc.transient)


def backoff(attempt: int, rng: Callable[[], float] = random.random) -> float:
    step = min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1))
    return step / 2 + rng() * step / 2


def settle(what: str, send: Callable[[], T], landed: Callable[[], T | None] | None = None, *,
           check_first: bool = False, tries: int = TRIES, sleep: Callable[[float], None] = time.sleep) -> T:
    """`send()` once; after an ambiguous failure wait, ask `landed()` (its result, when not None, stands
    for the send's) and send again only if it did not land. A refusal (4xx) is raised as it is."""
    last: ApiError | None = None
    for attempt in range(1, tries + 1):
        try:
            if landed is not None and (check_first or attempt > 1):
                found = landed()
                if found is not None:
                    if attempt > 1:
                        log.info("%s: the write had landed (found by look-up)", what)
                    return found
            return send()
        except ApiError as exc:
            if not is_ambiguous(exc):
                raise
            last = exc
            log.warning("%s: ambiguous failure on try %d of %d: %s", what, attempt, tries, exc)
            if attempt < tries:
                sleep(backoff(attempt))
    assert last is not None
    raise WriteUnresolved(f"{what}: still failing after {tries} tries inside the task ({last.message})",
                          fix="nothing to do: Airflow retries the task, which looks the write up before sending "
                              "it again") from last


def header_line(body: Any) -> str:
    """A copied comment's first line: marker, source system and source comment id, so it names the copy."""
    return str(body or "").split("\n", 1)[0].strip()


def jira_comment(jira: Any, key: str, body: str) -> dict[str, Any] | None:
    """The comment on issue `key` that is this copy (same header line), or None."""
    header = header_line(body)
    for comment in jira.comments(key):
        if header_line(comment.get("body")) == header:
            return {"id": comment.get("id"), "created": comment.get("created")}
    return None


def jira_status_reached(jira: Any, key: str, status: str) -> bool:
    issue = jira.issue_identity(key, ["status"])
    name = ((issue or {}).get("fields") or {}).get("status", {}).get("name", "")
    return str(name).casefold() == status.strip().casefold()


def salesforce_comments(salesforce: Any, sobject: str, parent_field: str, body_field: str,
                        parent_ids: Sequence[str]) -> dict[tuple[str, str], str]:
    """{(parent id, header line): comment id} of the comments on `parent_ids` (for copies made by us)."""
    check_sobject(sobject)
    parent, body = check_fields([parent_field, body_field])
    found: dict[tuple[str, str], str] = {}
    ids = list(dict.fromkeys(str(p) for p in parent_ids))
    for start in range(0, len(ids), IN_CLAUSE):
        inside = ", ".join(soql_literal(i) for i in ids[start:start + IN_CLAUSE])
        for page in salesforce.query_pages(f"SELECT Id, {parent}, {body} FROM {sobject} WHERE {parent} IN ({inside})"):
            for record in page:
                found.setdefault((str(record.get(parent)), header_line(record.get(body))), str(record["Id"]))
    return found


def salesforce_values(salesforce: Any, sobject: str, field: str, ids: Iterable[str]) -> pd.Series:
    """`field` of the records `ids` (index: Salesforce id); records that do not exist are left out."""
    from sfjira.hooks.by_id import by_id_soqls

    wanted = list(dict.fromkeys(str(i) for i in ids))
    values: dict[str, Any] = {}
    for soql in by_id_soqls(sobject, ["Id", field], wanted) if wanted else []:
        for page in salesforce.query_pages(soql):
            values.update({str(r["Id"]): r.get(field) for r in page})
    return pd.Series(values, dtype=object)
