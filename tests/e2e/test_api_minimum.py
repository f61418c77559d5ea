"""Every shipped mapping within 1.1 x its protocol minimum on both sides, counted by the emulators: its
first sync, an incremental run with changes on both sides, and an idle run (tests/e2e/minimum.py).
bench/budget.py prints the same figures at a larger size."""

from __future__ import annotations

import pytest

from tests.e2e.minimum import BOUND, SHIPPED, scenario
from tests.e2e.world import SQLITE_STATE_ONLY, World

pytestmark = [SQLITE_STATE_ONLY]

STEP = "POST /rest/api/3/issue/{issueIdOrKey}/transitions"


@pytest.mark.parametrize("mapping", SHIPPED)
def test_each_run_kind_stays_within_the_bound_of_its_minimum(world: World, mapping: str) -> None:
    figures = scenario(world, mapping, records=24, changed=6)

    for f in figures:
        print(f.line())
    over = [f"{f.line()}\n    {f.endpoints}" for f in figures if not f.within(BOUND)]
    assert not over, f"above {BOUND} x the protocol minimum:\n" + "\n".join(over)
    assert all(f.minimum["jira"] and f.minimum["salesforce"] for f in figures), "a run needs a call on each side"
    if mapping == "case_to_bug":  # the workflow was walked: new cases in every status, closed ones
        first, incremental, _ = figures
        assert first.endpoints["jira"][STEP] == 6 * (1 + 2 + 3)
        assert incremental.endpoints["jira"].get(STEP, 0) > 0
