"""Airflow connections pointing sfjira at the local emulators (demo, end-to-end tests, benchmarks).

They are `AIRFLOW_CONN_<ID>` environment values in Airflow's JSON form -- exactly how a deployment
defines connections -- so nothing here is special to tests. Secrets are the emulators' published
test credentials, and a PII key generated at run time (`sfjira_crypto`).
"""

from __future__ import annotations

import json
from typing import Any

FAST_RETRY = {"retry_max_attempts": 4, "retry_base_delay": 0.05, "retry_max_delay": 0.5, "retry_max_total": 10}


def salesforce_connection(url: str, ca_bundle: str, **extra: Any) -> dict[str, Any]:
    from emulators.salesforce import defaults as d

    return {"conn_type": "salesforce",
            "extra": {"grant_type": "client_credentials", "instance_url": url, "ca_bundle": ca_bundle,
                      "client_id": d.CLIENT_ID, "client_secret": d.CLIENT_SECRET, **FAST_RETRY, **extra}}


def jira_connection(url: str, ca_bundle: str, mode: str = "cloud", **extra: Any) -> dict[str, Any]:
    from emulators.jira import defaults as d

    login, password = (d.CLOUD_EMAIL, d.CLOUD_API_TOKEN) if mode == "cloud" else (d.DC_USERNAME, d.DC_PASSWORD)
    return {"conn_type": "jira", "host": url, "login": login, "password": password,
            "extra": {"auth": "basic", "deployment": mode, "ca_bundle": ca_bundle, **FAST_RETRY, **extra}}


def sqlite_state(path: str) -> dict[str, Any]:
    return {"conn_type": "sqlite", "host": path}


def postgres_state(host: str = "127.0.0.1", port: int = 5432, database: str = "test", user: str = "postgres",
                   schema: str | None = None) -> dict[str, Any]:
    return {"conn_type": "postgres", "host": host, "port": port, "schema": database, "login": user,
            "extra": {"state_schema": schema} if schema else {}}


def crypto_connection(keys: str | None = None) -> dict[str, Any]:
    """The `sfjira_crypto` connection: Fernet keys (newest first), a fresh one when none are given."""
    from cryptography.fernet import Fernet

    return {"conn_type": "generic", "password": keys or Fernet.generate_key().decode()}


def environment(sf_url: str, jira_url: str, ca_bundle: str, *, state: dict[str, Any] | None = None,
                jira_mode: str = "cloud", sf_conn_id: str = "salesforce_default",
                jira_conn_id: str = "jira_default", pii_keys: str | None = None) -> dict[str, str]:
    env = {
        f"AIRFLOW_CONN_{sf_conn_id.upper()}": json.dumps(salesforce_connection(sf_url, ca_bundle)),
        f"AIRFLOW_CONN_{jira_conn_id.upper()}": json.dumps(jira_connection(jira_url, ca_bundle, jira_mode)),
        "AIRFLOW_CONN_SFJIRA_CRYPTO": json.dumps(crypto_connection(pii_keys)),
    }
    if state:
        env["AIRFLOW_CONN_SFJIRA_STATE"] = json.dumps(state)
    return env
