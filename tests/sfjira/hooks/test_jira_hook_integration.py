"""JiraSyncHook against the Jira emulator process over HTTPS (atlassian-python-api underneath)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from emulators.common.process import EmulatorProcess
from sfjira.exceptions import ApiError, ApiLimitExceeded, AuthError
from sfjira.hooks.jira import JiraSyncHook, issues_to_frame

pytestmark = pytest.mark.integration

ISSUES_PER_PROJECT = 30
# Tests share one emulator store across parametrized runs: each run takes its own ids and days.
_RUN = itertools.count(1)


def fresh_sfid(prefix: str = "006") -> str:
    return f"{prefix}Kj{next(_RUN):010d}AAA"


def fresh_day() -> datetime:
    return datetime(2027, 3, 1, tzinfo=UTC) + timedelta(days=next(_RUN))


@pytest.fixture(scope="module")
def seeded(jira_emulator: EmulatorProcess) -> Iterator[EmulatorProcess]:
    jira_emulator.reset()
    jira_emulator.seed(seed=5, issues_per_project=ISSUES_PER_PROJECT)
    yield jira_emulator
    jira_emulator.clear_faults()
    jira_emulator.reset()  # the emulator is shared by the session: back to defaults


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest, seeded: EmulatorProcess, jira_conn) -> Iterator[JiraSyncHook]:  # noqa: ANN001
    seeded.clear_faults()
    seeded.configure(time_zone="Europe/Berlin", fault_retry_after_s=0)
    yield JiraSyncHook(jira_conn(request.param))
    seeded.clear_faults()


def _v(hook: JiraSyncHook) -> str:
    return f"/rest/api/{hook.api_version}"


def _bug(summary: str, **fields: object) -> dict:
    return {"project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": summary, **fields}


def test_hook_is_lazy() -> None:
    hook = JiraSyncHook("no_such_connection")  # the provider hook would connect here
    assert hook.client is None and hook.calls == {}


@pytest.mark.parametrize(("mode", "auth"), [("cloud", "basic"), ("cloud", "oauth"), ("datacenter", "basic"),
                                            ("datacenter", "pat")])
def test_search_paging_per_deployment_and_auth(seeded: EmulatorProcess, jira_conn, mode: str, auth: str) -> None:  # noqa: ANN001
    hook = JiraSyncHook(jira_conn(mode, auth))
    pages = list(hook.search_pages("project = SUP ORDER BY key ASC", ["summary", "status", "updated"], page_size=7))
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    keys = [i["key"] for p in pages for i in p]
    assert keys == [f"SUP-{n}" for n in range(1, ISSUES_PER_PROJECT + 1)]
    assert hook.is_cloud is (mode == "cloud")
    endpoint = "GET /rest/api/3/search/jql" if mode == "cloud" else "GET /rest/api/2/search"
    assert hook.calls[endpoint] == 5
    assert hook.calls["GET /rest/api/2/serverInfo"] == 1  # deployment detected once


def test_deployment_from_the_connection_skips_detection(seeded: EmulatorProcess, jira_conn) -> None:  # noqa: ANN001
    hook = JiraSyncHook(jira_conn("datacenter", "pat", deployment="datacenter"))
    assert hook.myself()["name"] == "sync-bot"
    assert "GET /rest/api/2/serverInfo" not in hook.calls


def test_wrong_token_is_an_auth_error(seeded: EmulatorProcess, jira_conn, monkeypatch) -> None:  # noqa: ANN001
    conn_id = jira_conn("cloud", "basic", deployment="cloud")
    body = __import__("json").loads(__import__("os").environ[f"AIRFLOW_CONN_{conn_id.upper()}"])
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", __import__("json").dumps({**body, "password": "nope"}))
    with pytest.raises(AuthError) as err:
        JiraSyncHook(conn_id).myself()
    assert err.value.status == 401 and "fix:" in str(err.value)


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York"])
def test_time_zone_bounds_catch_updates_inside_the_bound_minute(seeded: EmulatorProcess, jira_conn, zone: str) -> None:  # noqa: ANN001
    seeded.configure(time_zone=zone)
    hook = JiraSyncHook(jira_conn("cloud"))
    made = hook.bulk_create([_bug(f"TZ {n}") for n in range(4)])
    since = fresh_day() + timedelta(hours=12, minutes=15, seconds=30)
    until = since + timedelta(minutes=5)
    pinned = {made[0].key: since - timedelta(seconds=20), made[1].key: since + timedelta(seconds=15),  # same minute
              made[2].key: until - timedelta(seconds=20), made[3].key: until + timedelta(seconds=20)}
    for key, when in pinned.items():
        seeded.admin("POST", "set_updated", {"key": key, "updated": when.isoformat()})
    pages = list(hook.changed_issues("SUP", "Bug", since, until, ["summary", "status"]))
    assert [i["key"] for p in pages for i in p] == [made[1].key, made[2].key]
    assert hook.myself()["timeZone"] == zone
    frame = issues_to_frame(pages, ["summary", "status"])
    assert frame["updated"].tolist() == [pinned[made[1].key], pinned[made[2].key]]


def test_changed_issues_dc(jira: JiraSyncHook, seeded: EmulatorProcess) -> None:
    made = jira.bulk_create([_bug("DC window")])[0]
    when = fresh_day() + timedelta(hours=9, seconds=5)
    seeded.admin("POST", "set_updated", {"key": made.key, "updated": when.isoformat()})
    pages = jira.changed_issues("SUP", None, when, when + timedelta(seconds=1), ["summary"])
    assert [i["key"] for p in pages for i in p] == [made.key]


def test_bulk_create_chunks_at_50_and_returns_the_bad_element(jira: JiraSyncHook) -> None:
    issues = [_bug(f"Bulk {n}", labels=["bulk"]) for n in range(101)]
    issues[60] = {"fields": {**issues[60], "issuetype": {"name": "Nope"}}}
    results = jira.bulk_create(issues)
    assert [r.index for r in results] == list(range(101))
    assert [n for n, r in enumerate(results) if not r.success] == [60]
    assert results[60].errors[0].fields == ("issuetype",) and results[60].errors[0].code == "400"
    assert all(r.key and r.key.startswith("SUP-") for r in results if r.success)
    assert jira.calls[f"POST {_v(jira)}/issue/bulk"] == 3


def test_bulk_create_rich_text_round_trip(jira: JiraSyncHook) -> None:
    text = "First paragraph\nwith a break\n\nSecond — ünïcödé ✓"
    key = jira.bulk_create([_bug("Rich", description=text)])[0].key
    frame = issues_to_frame(jira.search_pages(f"key = {key}", ["summary", "description"]))
    assert frame["description"].tolist() == [text]


def test_transition_walks_to_done(jira: JiraSyncHook) -> None:
    key = jira.bulk_create([_bug("Walk")])[0].key
    assert jira.transition_to(key, "Done") == ["Start Progress", "Submit for Review", "Done"]
    assert jira.transition_to(key, "done") == []
    second = jira.bulk_create([_bug("Walk 2")])[0].key
    assert jira.transition_to(second, "In Review") == ["Start Progress", "Submit for Review"]
    status = jira.search_pages(f"key = {second}", ["status"])
    assert next(iter(status))[0]["fields"]["status"]["name"] == "In Review"


def _walk_calls(hook: JiraSyncHook, before: dict[str, int]) -> dict[str, int]:
    """The workflow calls (issue reads, transitions reads and step attempts) since `before`."""
    v = _v(hook)
    names = {f"GET {v}/issue/{{key}}": "read", f"GET {v}/issue/{{key}}/transitions": "transitions",
             f"POST {v}/issue/{{key}}/transitions": "step"}
    return {short: hook.calls.get(long, 0) - before.get(long, 0) for long, short in names.items()}


def test_a_learned_workflow_walks_the_next_new_issue_without_a_read(jira: JiraSyncHook) -> None:
    first, second = (r.key for r in jira.bulk_create([_bug("Learn"), _bug("Learned")]))
    workflow = ("SUP", "Bug")
    start = jira.calls
    assert jira.transition_to(first, "Done", workflow=workflow, created=True) == [
        "Start Progress", "Submit for Review", "Done"]
    # The initial status read with its transitions, then one transitions read per new status.
    assert _walk_calls(jira, start) == {"read": 1, "transitions": 2, "step": 3}
    start = jira.calls
    assert jira.transition_to(second, "Done", workflow=workflow, created=True) == [
        "Start Progress", "Submit for Review", "Done"]
    assert _walk_calls(jira, start) == {"read": 0, "transitions": 0, "step": 3}
    assert jira.workflow_calls == {"steps": 6, "reads": 3, "rereads": 0}
    assert next(iter(jira.search_pages(f"key = {second}", ["status"])))[0]["fields"]["status"]["name"] == "Done"


def test_a_refused_learned_transition_reads_the_issue_and_walks_on(jira: JiraSyncHook) -> None:
    learn, moved = (r.key for r in jira.bulk_create([_bug("Learn"), _bug("Moved behind our back")]))
    jira.transition_to(learn, "Done", workflow=("SUP", "Bug"), created=True)
    jira.transition_to(moved, "In Progress")  # someone moved it after the caller read "To Do"
    start = jira.calls
    # The believed status' learned transition ("Start Progress") is not valid from In Progress: Jira says
    # 400, the hook reads the issue once and goes on from where it is.
    assert jira.transition_to(moved, "Done", status="To Do", workflow=("SUP", "Bug")) == [
        "Submit for Review", "Done"]
    assert _walk_calls(jira, start) == {"read": 1, "transitions": 0, "step": 3}
    assert next(iter(jira.search_pages(f"key = {moved}", ["status"])))[0]["fields"]["status"]["name"] == "Done"


def test_unreachable_status_names_the_fix(jira: JiraSyncHook) -> None:
    key = jira.bulk_create([_bug("Nowhere")])[0].key
    with pytest.raises(ApiError) as err:
        jira.transition_to(key, "Won't Do")
    assert err.value.code == "TRANSITION_UNREACHABLE" and "workflow" in err.value.fix


def test_comments(jira: JiraSyncHook) -> None:
    key = jira.bulk_create([_bug("Talk")])[0].key
    jira.add_comment(key, "From Salesforce:\nline two\n\npara ✓")
    jira.add_comment(key, "second")
    comments = jira.comments(key)
    assert [c["body"] for c in comments] == ["From Salesforce:\nline two\n\npara ✓", "second"]
    assert all(c["id"] and c["author"] for c in comments)


def test_properties_and_bulk_sfid_lookup(jira: JiraSyncHook) -> None:
    in_field, in_property, nowhere = fresh_sfid(), fresh_sfid("500"), fresh_sfid()
    made = jira.bulk_create([_bug("Prop A", customfield_10050=in_field), _bug("Prop B")])
    jira.set_property(made[1].key, "sfjira", {"sfid": in_property, "mapping": "case_to_bug"})
    assert jira.get_property(made[1].key, "sfjira") == {"sfid": in_property, "mapping": "case_to_bug"}
    assert jira.get_property(made[0].key, "sfjira") is None
    assert jira.find_by_sfids([in_field, nowhere], "customfield_10050", project="SUP") == {in_field: made[0].key}
    assert jira.find_by_sfids([in_property], "sfjira.sfid") == {in_property: made[1].key}
    frame = issues_to_frame(jira.search_pages(f"key = {made[1].key}", ["summary"], properties=["sfjira"]))
    assert frame["sfid"].tolist() == [in_property]


def test_duplicate_sfid_resolves_to_the_first_created(jira: JiraSyncHook) -> None:
    sfid = fresh_sfid()
    made = jira.bulk_create([_bug("Dup 1", customfield_10050=sfid), _bug("Dup 2", customfield_10050=sfid)])
    assert jira.find_by_sfids([sfid], "customfield_10050") == {sfid: made[0].key}


def test_find_by_sfids_in_chunks(jira: JiraSyncHook) -> None:
    sfids = [fresh_sfid("500") for _ in range(7)]
    made = jira.bulk_create([_bug(f"Chunk {n}", customfield_10050=s) for n, s in enumerate(sfids)])
    found = jira.find_by_sfids(sfids, "cf[10050]", chunk_size=3)
    assert found == {s: r.key for s, r in zip(sfids, made, strict=True)}
    assert jira.calls[f"GET {_v(jira)}/search/jql" if jira.is_cloud else f"GET {_v(jira)}/search"] == 3


def test_update_fields_and_delete(jira: JiraSyncHook) -> None:
    key = jira.bulk_create([_bug("Before")])[0].key
    jira.update_fields(key, {"summary": "After", "description": "new text", "labels": ["x"]})
    issue = next(iter(jira.search_pages(f"key = {key}", ["summary", "description", "labels"])))[0]
    assert issue["fields"]["summary"] == "After" and issue["fields"]["labels"] == ["x"]
    assert jira.delete_issue(key) is True
    assert jira.delete_issue(key) is False  # already gone: deleting is idempotent
    with pytest.raises(ApiError) as err:
        jira.update_fields(key, {"summary": "ghost"})
    assert err.value.status == 404


def test_metadata(jira: JiraSyncHook) -> None:
    assert {"customfield_10050", "summary"} <= {f["id"] for f in jira.fields()}
    meta = jira.createmeta("DEL", "Epic")
    assert meta["customfield_10055"]["required"] is True
    with pytest.raises(ApiError, match="Epic"):
        jira.createmeta("SUP", "Epic")


@pytest.mark.parametrize("fault", ["429", "503", "500", "reset"])
def test_reads_retry_injected_faults(jira: JiraSyncHook, seeded: EmulatorProcess, fault: str) -> None:
    jira.myself()
    seeded.set_faults([{"fault": fault, "path": "/search", "times": 2}])
    pages = list(jira.search_pages("project = DEL ORDER BY key", ["summary"], page_size=100))
    assert sum(map(len, pages)) >= ISSUES_PER_PROJECT
    endpoint = f"GET {_v(jira)}/search/jql" if jira.is_cloud else f"GET {_v(jira)}/search"
    assert jira.counter.retries[endpoint] == 2


def test_ambiguous_failure_of_a_comment_is_not_resent(jira: JiraSyncHook, seeded: EmulatorProcess) -> None:
    key = jira.bulk_create([_bug("Once")])[0].key
    seeded.set_faults([{"fault": "500", "path": "/comment", "method": "POST", "times": 1}])
    with pytest.raises(ApiError):
        jira.add_comment(key, "only once")
    seeded.clear_faults()
    assert jira.comments(key) == []
    assert jira.calls[f"POST {_v(jira)}/issue/{{key}}/comment"] == 1


def test_rate_limit_headers_are_exposed(jira: JiraSyncHook, seeded: EmulatorProcess) -> None:
    seeded.configure(rate_limit={"budget": 500, "window_s": 60})
    try:
        jira.myself()
        jira.fields()
    finally:
        seeded.configure(rate_limit=None)
    assert jira.rate_limit["limit"] == 500 and 0 < (jira.rate_limit["remaining"] or 0) < 500


def test_a_429_is_waited_out_for_its_retry_after(jira: JiraSyncHook, seeded: EmulatorProcess) -> None:
    jira.myself()
    seeded.configure(fault_retry_after_s=1)
    seeded.clear_calls()
    seeded.set_faults([{"fault": "429", "path": "/field$", "times": 1}])
    jira.fields()
    refused, resent = seeded.requests()
    assert (refused["fault"], resent["fault"]) == ("429", None) and refused["path"] == resent["path"]
    # The emulator's own clock: the resend came at least Retry-After after the refusal.
    assert resent["t"] - refused["t"] >= 1.0
    cost = jira.rate_limits
    assert cost["retries"] == {"HTTP 429": 1} and cost["waited_s"] >= 1.0


def test_a_spent_rate_window_is_waited_out(jira: JiraSyncHook, seeded: EmulatorProcess) -> None:
    jira.myself()
    seeded.configure(rate_limit={"budget": 3, "window_s": 1})
    try:
        for _ in range(5):
            jira.fields()
    finally:
        seeded.configure(rate_limit=None)
    cost = jira.rate_limits
    assert cost["retries"].get("HTTP 429", 0) >= 1 and cost["waited_s"] >= 1.0
    assert cost["limit"] == 3


def test_429_with_a_long_retry_after_stops(jira: JiraSyncHook, seeded: EmulatorProcess) -> None:
    jira.myself()
    seeded.configure(fault_retry_after_s=3600)
    seeded.set_faults([{"fault": "429", "path": "/search"}])
    with pytest.raises(ApiLimitExceeded) as err:
        list(jira.search_pages("project = SUP", ["summary"]))
    assert err.value.status == 429 and "3600" in str(err.value) and "fix:" in str(err.value)
    assert sum(n for k, n in jira.calls.items() if "/search" in k) == 1


def test_issues_by_key_runs_its_searches_at_once_in_key_order(jira: JiraSyncHook, seeded: EmulatorProcess) -> None:
    keys = [r.key for r in jira.bulk_create([_bug(f"By key {n}") for n in range(12)])]
    wanted = [*keys[:5], "SUP-999999", *keys[5:]]  # an unknown key: its search is asked key by key
    seeded.set_latency(300)  # long enough that the searches are surely sent before the first is answered
    try:
        seeded.clear_calls()
        one = [i["key"] for page in jira.issues_by_key(wanted, ["summary"], chunk=3) for i in page]
        assert seeded.calls()["max_in_flight"] == 1
        seeded.clear_calls()
        four = [i["key"] for page in jira.issues_by_key(wanted, ["summary"], chunk=3, workers=4) for i in page]
        assert seeded.calls()["max_in_flight"] == 4
    finally:
        seeded.set_latency(0)
    assert four == one, "the same pages in the same order"
    assert sorted(one) == sorted(keys)
