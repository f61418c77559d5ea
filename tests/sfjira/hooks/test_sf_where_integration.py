"""A mapping's `where` against the Salesforce emulator over HTTPS: whatever it says, it cannot widen
the extraction past the window, because it is ANDed in parentheses (and refused unless it is one
condition)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from emulators.common.process import EmulatorProcess
from sfjira.hooks.salesforce import SalesforceSyncHook
from sfjira.hooks.soql_condition import ConditionError

pytestmark = pytest.mark.integration

WIDENING = "Origin = 'Web' OR Id != null"


@pytest.fixture
def cases(sf_emulator: EmulatorProcess, sf_conn) -> tuple[SalesforceSyncHook, list[str]]:  # noqa: ANN001
    hook = SalesforceSyncHook(sf_conn("client_credentials"))
    made = hook.create_collection("Case", [{"Subject": f"where probe {i}", "Origin": origin}
                                           for i, origin in enumerate(["Web", "Phone", "Email"])])
    assert all(r.success for r in made)
    return hook, [str(r.id) for r in made]


def _ids(hook: SalesforceSyncHook, since: datetime, until: datetime, where: str) -> set[str]:
    return {r["Id"] for page in hook.changed_records("Case", ["Subject", "Origin"], since, until, where) for r in page}


def test_an_or_in_where_returns_nothing_outside_the_window(cases: tuple[SalesforceSyncHook, list[str]]) -> None:
    hook, ids = cases
    later = datetime.now(UTC) + timedelta(days=1)
    # On its own the condition matches every record: only the window (ANDed with it) keeps them out.
    alone = f"SELECT Id FROM Case WHERE {WIDENING}"
    assert set(ids) <= {r["Id"] for page in hook.query_pages(alone) for r in page}

    assert _ids(hook, later, later + timedelta(days=1), WIDENING) == set()
    now = datetime.now(UTC)
    assert set(ids) <= _ids(hook, now - timedelta(hours=1), now + timedelta(minutes=5), WIDENING)


def test_a_where_breaking_out_of_its_parentheses_is_refused_before_any_call(
        sf_emulator: EmulatorProcess, cases: tuple[SalesforceSyncHook, list[str]]) -> None:
    hook, _ = cases
    sf_emulator.clear_calls()
    now = datetime.now(UTC)
    with pytest.raises(ConditionError, match="closes no `\\(`"):
        _ids(hook, now - timedelta(hours=1), now, "Origin = 'Web') OR (Id != null")
    assert sf_emulator.calls()["total"] == 0
