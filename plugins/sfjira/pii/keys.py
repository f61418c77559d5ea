"""Where the PII key comes from: an Airflow connection, never code or a file in the repository.

The connection (id `sfjira_crypto`, or `[sfjira] crypto_conn_id` in Airflow's configuration, i.e.
AIRFLOW__SFJIRA__CRYPTO_CONN_ID) holds one or more Fernet keys in its password, newest first,
separated by spaces or commas; its optional extra `hash_key` is the key of the PII fields' HMACs.
"""

from __future__ import annotations

from functools import lru_cache

from sfjira.pii.cipher import NEW_KEY, PiiCipher, PiiKeyError

DEFAULT_CONN_ID = "sfjira_crypto"


def crypto_conn_id() -> str:
    # local import: sfjira.settings loads Airflow's configuration, and sfjira.pii (through sfjira.mapping)
    # stays importable without Airflow for the static mapping checks
    from sfjira import settings

    return settings.get("crypto_conn_id") or DEFAULT_CONN_ID


def setup_fix(conn_id: str) -> str:
    return (f"create the connection: airflow connections add {conn_id} --conn-type generic "
            f"--conn-password \"$({NEW_KEY})\" (or set AIRFLOW_CONN_{conn_id.upper()}); the mapping's PII is "
            "stored only encrypted with it")


def cipher_from_airflow(conn_id: str | None = None) -> PiiCipher:
    """The cipher of the connection; raises PiiKeyError (PII_KEY_MISSING / PII_KEY_INVALID) saying how to fix it."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    conn_id = conn_id or crypto_conn_id()
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise PiiKeyError(f"no Airflow connection `{conn_id}` holds the key that encrypts PII",
                          fix=setup_fix(conn_id)) from None
    if not (conn.password or "").strip():
        raise PiiKeyError(f"the Airflow connection `{conn_id}` has no key in its password", fix=setup_fix(conn_id))
    hash_key = (conn.extra_dejson or {}).get("hash_key")
    try:
        return _cipher(conn.password, hash_key)
    except PiiKeyError as err:
        raise PiiKeyError(f"connection `{conn_id}`: {err.message}", code=err.code, fix=err.fix) from None


@lru_cache(maxsize=8)
def _cipher(password: str, hash_key: str | None) -> PiiCipher:
    # Keyed by the connection's contents: a changed connection gives a new cipher.
    return PiiCipher.parse(password, hash_key)


def key_problem(conn_id: str | None = None) -> PiiKeyError | None:
    """None when the PII key is configured and valid, else the error saying how to configure it."""
    try:
        cipher_from_airflow(conn_id)
    except PiiKeyError as err:
        return err
    return None
