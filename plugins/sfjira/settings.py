"""sfjira's settings: the `[sfjira]` section of Airflow's configuration.

Set them in airflow.cfg or as `AIRFLOW__SFJIRA__<KEY>` environment variables, like any Airflow option.
A few keep an older `SFJIRA_*` environment variable as a documented alias (used only when the Airflow
option is not set). Values are read each time they are asked for, so a DAG parse or a task sees the
configuration of its own process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from airflow.configuration import conf

from sfjira.exceptions import SfJiraError

SECTION = "sfjira"


@dataclass(frozen=True)
class Setting:
    key: str
    default: str
    doc: str
    alias: str | None = None


SETTINGS = {s.key: s for s in (
    Setting("storage_base", "", "where run folders live: any ObjectStoragePath URL (s3://bucket/sfjira with a "
            "connection); empty = file://$AIRFLOW_HOME/sfjira/runs", alias="SFJIRA_STORAGE"),
    Setting("mappings_dir", "", "the folder of mapping files; empty = include/mappings beside the DAGs folder",
            alias="SFJIRA_MAPPINGS_DIR"),
    Setting("task_retries", "3", "retries of every sfjira task (transient faults)", alias="SFJIRA_TASK_RETRIES"),
    Setting("retry_delay_seconds", "30", "first retry delay; doubles each retry up to 10 minutes",
            alias="SFJIRA_RETRY_DELAY_S"),
    Setting("run_retention_days", "7", "run folders (frames, plans, reports) older than this are removed by the "
            "sync itself"),
    Setting("ledger_retention_days", "400", "ledger rows (the audit trail: before/after images of every write) "
            "older than this many days are removed by the sync's report step and by `sfjira audit --prune`; "
            "0 = keep forever. A rollback can only restore runs still in the ledger"),
    Setting("writer_lease_seconds", "300", "time to live of a mapping's writer lease (one writer per mapping: "
            "sync loads, heals); renewed every third of it while the writer runs, so a writer that dies "
            "blocks the mapping for at most this long"),
    Setting("writer_lease_wait_seconds", "30", "how long a writing task waits in its worker slot for another "
            "writer of its mapping; then it gives the slot back (rescheduled, up_for_reschedule) and tries "
            "again 10 s later, until the other writer is done or its lease expired"),
    Setting("salesforce_api_budget_share", "0.9", "share (above 0, at most 1) of the org's daily Salesforce API "
            "limit the sync may see used: at or over it the sync stops before it reads or writes "
            "(SF_API_BUDGET_EXHAUSTED). It is the whole org's usage, other integrations' calls included"),
    Setting("bulk_query_threshold", "10000", "a Salesforce extract whose window holds more records than this "
            "(counted by one `SELECT COUNT()` over the window) reads them through a Bulk API 2.0 query job instead "
            "of REST query pages of 2,000"),
    Setting("bulk_write_threshold", "10000", "a Salesforce load updating more records than this writes them "
            "through Bulk API 2.0 ingest jobs (10,000 records per job and write-ahead intent) instead of "
            "sObject Collections of 200; the job id is kept in the intent, so a killed task resumes its job"),
    Setting("jira_bulk_threshold", "50", "on Jira Cloud, more issues than this getting the same change in a load "
            "(the same status to reach from the same status, or the same values for fields bulk edit takes) go "
            "as one bulk transition or bulk edit task of up to 1,000 issues, polled until done, instead of a "
            "call per issue; the task id is kept in the write-ahead intent, so a retry polls it instead of "
            "submitting again. Data Center always writes issue by issue"),
    Setting("load_concurrency", "4", "chunks of a load (write-ahead intents) whose API calls are in flight at once, "
            "a whole number from 1 to 16; 1 = one at a time. The load tasks hold this many slots of their pool "
            "(salesforce_api, jira_api), so a pool needs at least this many slots or the loads never start; a load "
            "narrows to one at a time while the API pushes back (429/503 retries, Jira's X-RateLimit-Remaining under "
            "20 % of the limit). Salesforce Bulk API 2.0 writes go one job at a time"),
    Setting("part_records", "50000", "rows per Parquet part of a sync run's frames (extracts, plan buckets, "
            "plan tables; the reconciliation's buckets of whole identity groups): the extract writes its window part by part and the transform, plan and loads work on one "
            "part or bucket of about this many records at a time, so a task's memory follows this, not the window"),
    Setting("crypto_conn_id", "sfjira_crypto", "the Airflow connection holding the keys that encrypt PII"),
    Setting("salesforce_conn_id", "salesforce_default", "Salesforce connection of `sfjira validate --live`",
            alias="SFJIRA_SALESFORCE_CONN_ID"),
    Setting("jira_conn_id", "jira_default", "Jira connection of `sfjira validate --live`",
            alias="SFJIRA_JIRA_CONN_ID"),
)}


def get(key: str) -> str:
    """The Airflow option `[sfjira] key`, else its alias variable, else the documented default."""
    setting = SETTINGS[key]
    if conf.has_option(SECTION, key):
        return str(conf.get(SECTION, key))
    if setting.alias and os.environ.get(setting.alias):
        return os.environ[setting.alias]
    return setting.default


def get_int(key: str) -> int:
    return int(_number(key, int))


def get_float(key: str) -> float:
    return float(_number(key, float))


def get_whole(key: str, low: int, high: int | None = None, *, hint: str = "") -> int:
    """`[sfjira] key` as a whole number from `low` (to `high`), else SETTING_INVALID naming the allowed values."""
    raw = get(key)
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if low <= value and (high is None or value <= high):
        return value
    allowed = f"from {low} to {high}" if high is not None else f"of at least {low}"
    span = f"{low}..{high}" if high is not None else "a whole number"
    raise SfJiraError(f"setting [{SECTION}] {key} = {raw!r} is not allowed: it takes a whole number {allowed}",
                      code="SETTING_INVALID",
                      fix=f"set AIRFLOW__SFJIRA__{key.upper()} (or airflow.cfg [{SECTION}] {key}) to {span}; "
                          f"{hint + '; ' if hint else ''}the default is {SETTINGS[key].default}")


def _number(key: str, kind: type) -> float:
    raw = get(key)
    try:
        return kind(raw)
    except ValueError:
        raise SfJiraError(f"setting [{SECTION}] {key} = {raw!r} is not a number", code="SETTING_INVALID",
                          fix=f"set AIRFLOW__SFJIRA__{key.upper()} (or airflow.cfg [{SECTION}] {key}) to a "
                              f"number; the default is {SETTINGS[key].default}") from None
