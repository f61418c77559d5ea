"""PII at rest: values of a mapping's `pii` fields are kept only sealed (Fernet, keys from an Airflow
connection, rotatable), and their field hashes are keyed (HMAC-SHA256).

    PiiCipher(keys, hash_key=None)           seal / open / rotate values; `hash_key` for the HMACs
    cipher_from_airflow(conn_id=None)        the cipher of the `sfjira_crypto` connection
    key_problem(conn_id=None)                None, or the PiiKeyError saying how to configure the key
    PiiProtection.for_mapping(mapping)       a mapping's PII fields + cipher (field_hashes, seal_field)
"""

from __future__ import annotations

from sfjira.pii.cipher import PREFIX, PiiCipher, PiiKeyError, is_sealed
from sfjira.pii.keys import DEFAULT_CONN_ID, cipher_from_airflow, crypto_conn_id, key_problem, setup_fix
from sfjira.pii.protection import PiiProtection, each_value

__all__ = ["DEFAULT_CONN_ID", "PREFIX", "PiiCipher", "PiiKeyError", "PiiProtection", "cipher_from_airflow",
           "crypto_conn_id", "each_value", "is_sealed", "key_problem", "setup_fix"]
