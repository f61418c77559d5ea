"""The PII key is read from an Airflow connection; a missing or bad one says how to create it."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from sfjira.pii import DEFAULT_CONN_ID, PiiKeyError, cipher_from_airflow, crypto_conn_id, key_problem


def _conn(password: str, **extra: str) -> str:
    return json.dumps({"conn_type": "generic", "password": password, "extra": extra})


def test_the_cipher_comes_from_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key()
    monkeypatch.setenv("AIRFLOW_CONN_SFJIRA_CRYPTO", _conn(key.decode()))
    sealed = cipher_from_airflow().seal("x")
    assert Fernet(key).decrypt(sealed.split(":", 2)[2].encode()) == b'"x"'
    assert key_problem() is None


def test_the_hash_key_extra_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SFJIRA_CRYPTO", _conn(Fernet.generate_key().decode(), hash_key="h" * 32))
    assert cipher_from_airflow().hash_key == b"h" * 32


def test_a_missing_connection_says_how_to_create_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SFJIRA_CRYPTO", raising=False)
    err = key_problem()
    assert isinstance(err, PiiKeyError) and err.code == "PII_KEY_MISSING"
    assert "airflow connections add sfjira_crypto --conn-type generic" in err.fix
    assert "AIRFLOW_CONN_SFJIRA_CRYPTO" in err.fix


def test_an_empty_or_malformed_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SFJIRA_CRYPTO", _conn(""))
    assert key_problem().code == "PII_KEY_MISSING"
    monkeypatch.setenv("AIRFLOW_CONN_SFJIRA_CRYPTO", _conn("not-a-fernet-key"))
    err = key_problem()
    assert err.code == "PII_KEY_INVALID" and "sfjira_crypto" in err.message


def test_the_connection_id_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert crypto_conn_id() == DEFAULT_CONN_ID
    monkeypatch.setenv("AIRFLOW__SFJIRA__CRYPTO_CONN_ID", "vault_pii")
    monkeypatch.delenv("AIRFLOW_CONN_SFJIRA_CRYPTO", raising=False)
    assert crypto_conn_id() == "vault_pii"
    assert "airflow connections add vault_pii" in key_problem().fix
    monkeypatch.setenv("AIRFLOW_CONN_VAULT_PII", _conn(Fernet.generate_key().decode()))
    assert key_problem() is None
