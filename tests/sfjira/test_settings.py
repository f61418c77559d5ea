"""The `[sfjira]` section of Airflow's configuration, its aliases and defaults, as the DAGs see them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sfjira import settings
from sfjira.dag_factory import default_args, mappings_dir
from sfjira.exceptions import SfJiraError

DAGS = Path("/srv/airflow/dags")


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in settings.SETTINGS.values():
        monkeypatch.delenv(f"AIRFLOW__SFJIRA__{setting.key.upper()}", raising=False)
        if setting.alias:
            monkeypatch.delenv(setting.alias, raising=False)


def test_documented_defaults() -> None:
    args = default_args()
    assert (args["retries"], args["retry_delay"]) == (3, dt.timedelta(seconds=30))
    assert mappings_dir(DAGS) == Path("/srv/airflow/include/mappings")
    assert settings.get("run_retention_days") == "7"


def test_airflow_option_wins_over_the_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFJIRA_TASK_RETRIES", "1")
    assert default_args()["retries"] == 1
    monkeypatch.setenv("AIRFLOW__SFJIRA__TASK_RETRIES", "5")
    monkeypatch.setenv("AIRFLOW__SFJIRA__MAPPINGS_DIR", "/etc/sfjira/mappings")
    assert default_args()["retries"] == 5
    assert mappings_dir(DAGS) == Path("/etc/sfjira/mappings")


def test_a_bad_number_names_the_option_and_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SFJIRA__RETRY_DELAY_SECONDS", "soon")
    with pytest.raises(SfJiraError) as err:
        default_args()
    assert err.value.code == "SETTING_INVALID"
    assert "AIRFLOW__SFJIRA__RETRY_DELAY_SECONDS" in err.value.fix and "30" in err.value.fix
