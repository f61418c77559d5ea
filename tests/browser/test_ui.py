"""The operator's seat in a real browser (issue 13, point 5): Debian's chromium, driven by Playwright,
against a live api-server + scheduler (tests/browser/conftest.py).

A person logs in through the UI's own login form, finds the sfjira DAGs, opens the sfjira page from the
navigation and reads the same figures the state store holds, backfills three intervals with the UI's own
Backfill dialog, looks at both attempts of a task that was retried, and clicks "Replay rejects". Each
view is also photographed at 1280 and 390 px under `<basetemp>/screenshots`.

The backfill covers three past intervals of yesterday, far behind the latest interval: Airflow 3.3.2's
scheduler dies when a backfill reaches the interval it is about to create itself (issue 13, point 6). The
DAG starts paused; the dialog's own "Unpause on trigger" box (checked by default) unpauses it, which the
runs need: the 3.3.2 scheduler starts no queued run, backfill or not, of a paused DAG
(DagRun.get_queued_dag_runs_to_set_running joins on DagModel.is_paused false).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from sfjira.dashboard import data
from tests.browser.conftest import (
    BACKFILLED,
    DASH,
    PASSWORDS,
    WIDTHS,
    Live,
    sync_dag,
)

pytestmark = [pytest.mark.e2e, pytest.mark.live_airflow]

SFJIRA_DAGS = [f"sfjira_{kind}__{m}" for m in (BACKFILLED, DASH) for kind in ("sync", "reconcile", "rollback")]
DAY = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
RETRIED_TASK = "extract_jira"
# The Jira extract's search answers 500 four times: the hook's own tries (FAST_RETRY: 4) of the first
# attempt all fail, so Airflow retries the task, and the second attempt finds Jira well.
SEARCH_FAULT = {"fault": "500", "path": "/search/jql$", "method": "GET", "times": 4}


def login(page: Any, base: str, user: str = "admin") -> None:
    """Through the simple auth manager's own form, as a person would."""
    page.goto(f"{base}/")
    page.wait_for_url(re.compile(r"/auth/login"))
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORDS[user])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^[^?]*/(\?.*)?$"))


@pytest.fixture(scope="module")
def admin_state(browser: Any, live: Live) -> dict[str, Any]:
    """The admin's logged-in browser state (the UI's `_token` cookie), logged in once through the form."""
    context = browser.new_context()
    page = context.new_page()
    login(page, live.base)
    state = context.storage_state()
    context.close()
    return dict(state)


@pytest.fixture
def open_page(browser: Any, admin_state: dict[str, Any]) -> Iterator[Any]:
    """`open_page(width)`: a fresh page of the logged-in admin at that viewport width."""
    contexts: list[Any] = []

    def make(width: int = 1280) -> Any:
        context = browser.new_context(storage_state=admin_state, viewport={"width": width, "height": 900})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(live: Live, page: Any, name: str, width: int) -> None:
    page.screenshot(path=str(live.screenshots / f"{name}-{width}.png"), full_page=False)


@pytest.fixture(scope="module")
def synced(live: Live) -> dict[str, str]:
    """Two runs of the dashboard mapping's sync DAG (both full resyncs, so each reads every case): the
    first plain, the second with the Jira extract's first attempt failing, retried by Airflow."""
    live.services.unpause(sync_dag(DASH))
    first = live.run_sync(DASH, {"full_resync": True}, run_id="manual__browser_first")
    live.jira.clear_calls()
    live.jira.set_faults([SEARCH_FAULT])
    try:
        second = live.run_sync(DASH, {"full_resync": True}, run_id="manual__browser_retried")
    finally:
        fired = live.jira.calls().get("faults_fired")
        live.jira.clear_faults()
    assert fired == {"500": 4}, fired
    tis = {ti["task_id"]: ti for ti in live.services.task_instances(sync_dag(DASH), second["dag_run_id"])}
    assert (tis[RETRIED_TASK]["state"], tis[RETRIED_TASK]["try_number"]) == ("success", 2)
    return {"first": first["dag_run_id"], "retried": second["dag_run_id"]}


def dashboard_frame(page: Any, base: str) -> Any:
    """The sfjira page as the UI shows it: from the navigation's "sfjira" entry, then the mapping."""
    page.goto(f"{base}/")
    page.get_by_role("link", name="sfjira", exact=True).click()
    page.wait_for_url(re.compile(r"/plugin/sfjira"))
    frame = page.frame_locator("iframe").first
    frame.get_by_role("link", name=DASH, exact=True).click()
    frame.get_by_role("heading", name=DASH, exact=True).wait_for()
    return frame


def test_the_login_form_leads_to_the_dag_list(browser: Any, live: Live, open_page: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    login(page, live.base)
    page.get_by_test_id("nav-dags-link").click()
    for dag_id in SFJIRA_DAGS:
        page.get_by_role("link", name=dag_id, exact=True).wait_for()
    context.close()
    for width in WIDTHS:
        page = open_page(width)
        page.goto(f"{live.base}/dags")
        page.get_by_role("link", name=sync_dag(DASH), exact=True).wait_for()
        screenshot(live, page, "dag-list", width)


def _cell_texts(frame: Any, heading: str) -> list[list[str]]:
    """The rows of the table that follows `heading` (h2) on the sfjira page, as cell texts."""
    table = frame.locator(f"h2:text-is('{heading}') + div.panel table, h2:text-is('{heading}') ~ div.panel table")
    rows = table.first.locator("tbody tr")
    return [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()] for i in range(rows.count())]


def test_the_sfjira_page_shows_the_state_stores_figures(live: Live, synced: dict[str, str], open_page: Any) -> None:
    page = open_page(1280)
    frame = dashboard_frame(page, live.base)
    with live.store() as store:
        figures = data.mapping_figures(store, DASH)
    cards = {frame.locator(".card").nth(i).locator("span").first.inner_text(): frame.locator(".card").nth(i)
             .locator("b").inner_text() for i in range(frame.locator(".card").count())}
    assert cards["open rejects"] == str(figures["overview"]["open_rejects"]) == str(len(figures["rejects"]))
    assert cards["linked records"] == str(sum(figures["overview"]["links"].values()))
    assert figures["overview"]["open_rejects"] > 0  # the Low cases: the variant's value_map lacks Low

    runs = _cell_texts(frame, "Recent runs")
    assert len(runs) == len(figures["runs"]) == 2
    shown = {row[2]: row for row in runs}  # by Airflow run id
    for run in figures["runs"]:
        row = shown[run["airflow_run_id"]]
        a, b = run["sf_to_jira"], run["jira_to_sf"]
        assert row[3] == run["status"]
        assert row[6] == f"+{a['created'] or 0} ~{a['updated'] or 0} ={a['skipped'] or 0} " \
                         f"!{a['conflicts'] or 0} x{a['rejected'] or 0}"
        assert row[7] == f"~{b['updated'] or 0} ={b['skipped'] or 0} x{b['rejected'] or 0}"
        assert row[8] == str(run["transform_rejects"] or 0)  # the Low cases the mapping refused
        assert row[11] == str(run["attempts"])
    assert sum(int(row[8]) for row in runs) > 0
    # Airflow's side of the same rows: the retried run's failed try and its twice-run task.
    assert shown[synced["retried"]][4] == "success" and shown[synced["retried"]][9] == "1"
    assert shown[synced["retried"]][10] == f"{RETRIED_TASK} x2"
    assert shown[synced["first"]][10] == "-"

    rejects = _cell_texts(frame, "Open rejects")
    assert sorted(r[2] for r in rejects) == sorted(r["record_id"] for r in figures["rejects"])
    assert {r[0] for r in rejects} == {"VALUE_UNMAPPED"}

    for width in WIDTHS:
        page = open_page(width)
        dashboard_frame(page, live.base)
        inner = next(f for f in page.frames if re.search(r"://[^/]+/sfjira/", f.url))
        scroll, client = inner.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll <= client, f"the sfjira page overflows sideways at {width} px: {scroll} > {client}"
        screenshot(live, page, "sfjira-page", width)


def _backfill_runs(live: Live) -> list[dict[str, Any]]:
    return [r for r in live.runs(sync_dag(BACKFILLED)) if r["run_type"] == "backfill"]


def test_a_backfill_of_three_intervals_from_the_ui_dialog_succeeds(live: Live, open_page: Any) -> None:
    assert live.services.api("GET", f"/dags/{sync_dag(BACKFILLED)}")["is_paused"]
    page = open_page(1280)
    page.goto(f"{live.base}/dags/{sync_dag(BACKFILLED)}")
    page.get_by_test_id("trigger-dag-button").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Backfill", exact=True).click()
    from playwright.sync_api import expect  # imported where used: without Playwright these tests skip

    date_input = page.get_by_placeholder("YYYY/MM/DD").filter(visible=True)
    for i, when in enumerate((DAY, DAY + dt.timedelta(minutes=30))):
        dialog.get_by_test_id("datetime-input").nth(i).click()
        date_input.fill(when.strftime("%Y/%m/%d"))
        page.get_by_placeholder("HH:mm").filter(visible=True).fill(when.strftime("%H:%M"))
        page.keyboard.press("Escape")  # closes the date picker, not the dialog
        # ... after its closing animation: until then the next field's picker would make two visible.
        expect(date_input).to_have_count(0)
    dialog.get_by_text("3 runs will be triggered.").wait_for()
    dialog.get_by_text("Missing Runs", exact=True).click()
    unpause = dialog.get_by_role("checkbox", name=re.compile("Unpause"))
    assert unpause.is_checked()
    dialog.get_by_role("button", name="Run Backfill").click()
    dialog.wait_for(state="hidden")

    def finished() -> list[dict[str, Any]] | None:
        runs = _backfill_runs(live)
        return runs if len(runs) == 3 and all(r["state"] in ("success", "failed") for r in runs) else None

    runs = live.wait_until("the three backfill runs finish", finished, timeout=420, poll=3)
    assert sorted(r["state"] for r in runs) == ["success"] * 3
    assert sorted(r["logical_date"] for r in runs) == [
        (DAY + dt.timedelta(minutes=m)).isoformat().replace("+00:00", "Z") for m in (0, 15, 30)]
    assert not live.services.api("GET", f"/dags/{sync_dag(BACKFILLED)}")["is_paused"]
    # The DAG's runs list in the UI shows them too.
    page.goto(f"{live.base}/dags/{sync_dag(BACKFILLED)}/runs")
    for run in runs:
        page.get_by_role("link", name=run["dag_run_id"], exact=True).wait_for()


def test_a_retried_task_shows_both_attempts(live: Live, synced: dict[str, str], open_page: Any) -> None:
    tries = live.services.api(
        "GET", f"/dags/{sync_dag(DASH)}/dagRuns/{synced['retried']}/taskInstances/{RETRIED_TASK}/tries")
    assert [(t["try_number"], t["state"]) for t in tries["task_instances"]] == [(1, "failed"), (2, "success")]
    url = f"{live.base}/dags/{sync_dag(DASH)}/runs/{synced['retried']}/tasks/{RETRIED_TASK}"
    for width in WIDTHS:
        page = open_page(width)
        page.goto(url)
        first, second = (page.get_by_test_id(f"log-attempt-select-button-{n}") for n in (1, 2))
        second.wait_for()
        first.click()
        # The first attempt's log: the hook gave up on Jira's 500s.
        page.get_by_text(re.compile(r"\b500\b")).first.wait_for()
        screenshot(live, page, "task-attempts", width)


def test_replay_on_the_sfjira_page_triggers_the_replay_run(live: Live, synced: dict[str, str],
                                                           open_page: Any) -> None:
    with live.store() as store:
        before = data.rejects(store, DASH)
    page = open_page(1280)
    frame = dashboard_frame(page, live.base)
    frame.get_by_role("button", name=f"Replay rejects ({len(before)} open)").click()
    result = frame.locator("#result")
    result.filter(has_text=re.compile(r"^200 ")).wait_for()
    answer = json.loads(result.inner_text().removeprefix("200 "))
    assert answer["conf"] == {"replay_rejects": True}
    run = live.services.api("GET", f"/dags/{sync_dag(DASH)}/dagRuns/{answer['dag_run_id']}")
    assert run["conf"] == {"replay_rejects": True} and run["triggering_user_name"] == "admin"
    state = live.services.wait_for_run(sync_dag(DASH), answer["dag_run_id"], timeout=300)
    assert state == "success"
    with live.store() as store:
        after = data.rejects(store, DASH)
    # The value map still lacks Low: the same cases are rejected again, each once more.
    assert {r["record_id"]: r["attempts"] for r in after} == {r["record_id"]: r["attempts"] + 1 for r in before}
