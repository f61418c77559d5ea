"""SalesforceSyncHook against the Salesforce emulator process over HTTPS (simple_salesforce underneath)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from emulators.common.process import EmulatorProcess
from emulators.salesforce.testing import token_response
from sfjira.exceptions import ApiError, ApiLimitExceeded, AuthError
from sfjira.hooks.salesforce import SalesforceSyncHook, records_to_frame

pytestmark = pytest.mark.integration

TOKEN = "POST /services/oauth2/token"
QUERY, QUERY_MORE = "GET /services/data/v62.0/query", "GET /services/data/v62.0/query/{locator}"
OPPORTUNITIES = 5200


@pytest.fixture(scope="module")
def seeded(sf_emulator: EmulatorProcess) -> Iterator[EmulatorProcess]:
    """One reset + seed per module: 5,200 opportunities (10 soft-deleted) over 100 accounts."""
    sf_emulator.reset()
    sf_emulator.seed(seed=3, accounts=100, opportunities=OPPORTUNITIES, deleted=10)
    yield sf_emulator
    sf_emulator.clear_faults()
    sf_emulator.reset()  # the emulator is shared by the session: leave no lowered limits behind


@pytest.fixture
def sf(seeded: EmulatorProcess, sf_conn) -> Iterator[SalesforceSyncHook]:  # noqa: ANN001
    seeded.clear_faults()
    seeded.configure(token_ttl_s=7200, api_daily_max=100_000)
    yield SalesforceSyncHook(sf_conn("client_credentials"))
    seeded.clear_faults()


def _server_now(sf: SalesforceSyncHook) -> datetime:
    created = sf.create_collection("Account", [{"Name": "clock probe"}])[0]
    stamp = sf.conn.query(f"SELECT SystemModstamp FROM Account WHERE Id = '{created.id}'")["records"][0]
    return datetime.fromisoformat(stamp["SystemModstamp"])


def test_hook_is_lazy() -> None:
    hook = SalesforceSyncHook("no_such_connection")  # no connection lookup, no network in __init__
    assert hook.calls == {} and hook.api_usage == {"used": None, "max": None}


@pytest.mark.parametrize("grant", ["client_credentials", "password", "jwt_bearer"])
def test_each_grant_authenticates_at_the_connection_token_url(seeded: EmulatorProcess, sf_conn, grant: str) -> None:  # noqa: ANN001
    hook = SalesforceSyncHook(sf_conn(grant))
    pages = list(hook.query_pages("SELECT Id, Name FROM Account ORDER BY Name LIMIT 5"))
    assert [len(p) for p in pages] == [5]
    assert hook.calls[TOKEN] == 1
    assert hook.api_usage["max"] == 100_000 and hook.api_usage["used"] >= 1


def test_refresh_token_grant_keeps_the_rotated_token_for_reauth(seeded: EmulatorProcess, sf_conn) -> None:  # noqa: ANN001
    issued = token_response(seeded.url, seeded.ca_bundle, grant_type="password").json()["refresh_token"]
    hook = SalesforceSyncHook(sf_conn("refresh_token", refresh_token=issued))
    assert list(hook.query_pages("SELECT Id FROM User LIMIT 1"))
    # The emulator, like an org with rotation on, burns a refresh token on use: a second
    # authentication only works with the rotated token the hook kept in memory.
    seeded.set_faults([{"fault": "expired_session", "path": "/query", "times": 1}])
    assert list(hook.query_pages("SELECT Id FROM User LIMIT 1"))
    assert hook.calls[TOKEN] == 2


def test_bad_credentials_give_an_auth_error_with_a_fix(seeded: EmulatorProcess, sf_conn) -> None:  # noqa: ANN001
    hook = SalesforceSyncHook(sf_conn("client_credentials", client_secret="wrong"))
    with pytest.raises(AuthError) as err:
        hook.describe("Account")
    assert err.value.status == 400 and "client_credentials" in str(err.value) and "fix:" in str(err.value)


def test_reauth_once_on_invalid_session_id(sf: SalesforceSyncHook, seeded: EmulatorProcess) -> None:
    assert sf.describe("Case")["name"] == "Case"
    seeded.set_faults([{"fault": "expired_session", "path": "/query", "times": 1}])
    pages = list(sf.query_pages("SELECT Id FROM Case LIMIT 3"))
    assert sum(map(len, pages)) == 3
    assert sf.calls[TOKEN] == 2 and sf.calls[QUERY] == 2


def test_reauth_after_the_token_expires(sf: SalesforceSyncHook, seeded: EmulatorProcess) -> None:
    seeded.configure(token_ttl_s=1)
    sf.describe("Account")
    time.sleep(1.2)
    assert sf.describe("Contact")["name"] == "Contact"  # 401 INVALID_SESSION_ID -> new token -> same call again
    assert sf.calls[TOKEN] == 2


def test_paging_over_5000_records(sf: SalesforceSyncHook) -> None:
    expected = sf.conn.query("SELECT COUNT() FROM Opportunity")["totalSize"]
    assert expected > 5000
    pages = list(sf.query_pages("SELECT Id, Name, Account.Name FROM Opportunity", batch_size=2000))
    assert [len(p) for p in pages] == [2000, 2000, expected - 4000]
    ids = [r["Id"] for page in pages for r in page]
    assert len(set(ids)) == expected
    assert (sf.calls[QUERY], sf.calls[QUERY_MORE]) == (2, 2)  # COUNT() + first page, then two more
    frame = records_to_frame(pages, ["Name", "Account.Name"])
    assert len(frame) == expected and frame["Account.Name"].notna().all()


def test_query_all_includes_deleted(sf: SalesforceSyncHook) -> None:
    live = sum(map(len, sf.query_pages("SELECT Id FROM Opportunity")))
    everything = sum(map(len, sf.query_pages("SELECT Id FROM Opportunity", include_deleted=True)))
    assert everything - live == 10


def test_incremental_window_edges(sf: SalesforceSyncHook, seeded: EmulatorProcess) -> None:
    account = sf.create_collection("Account", [{"Name": "Edge Account"}])[0].id
    made = sf.create_collection("Opportunity", [
        {"Name": f"Edge {n}", "StageName": "Prospecting", "CloseDate": "2027-01-01", "AccountId": account}
        for n in range(4)])
    base = datetime(2027, 6, 1, 8, 0, 0, tzinfo=UTC)  # after every seeded stamp
    for n, result in enumerate(made):
        seeded.admin("POST", "backdate", {"id": result.id, "SystemModstamp": (base + timedelta(seconds=n)).isoformat()})

    def names(since: datetime, until: datetime) -> list[str]:
        pages = sf.changed_records("Opportunity", ["Name", "Account.Name"], since, until, where="Name LIKE 'Edge %'")
        return records_to_frame(pages, ["Name", "Account.Name"])["Name"].tolist()

    assert names(base + timedelta(seconds=1), base + timedelta(seconds=3)) == ["Edge 1", "Edge 2"]  # [since, until)
    # Fractional bounds widen to whole seconds (floor the start, ceil the end): nothing in them is lost.
    assert names(base + timedelta(milliseconds=500), base + timedelta(seconds=1, milliseconds=1)) == ["Edge 0", "Edge 1"]
    assert names(base, base + timedelta(seconds=10)) == ["Edge 0", "Edge 1", "Edge 2", "Edge 3"]  # ordered
    frame = records_to_frame(sf.changed_records("Opportunity", ["Account.Name"], base, base + timedelta(seconds=1)),
                             ["Account.Name"])
    assert frame.columns.tolist() == ["Id", "SystemModstamp", "Account.Name"]
    assert frame["Account.Name"].tolist() == ["Edge Account"]
    assert frame["SystemModstamp"].tolist() == [base]


def test_deleted_ids_from_feed_and_from_query_all(sf: SalesforceSyncHook, seeded: EmulatorProcess) -> None:
    now = _server_now(sf)
    made = sf.create_collection("Case", [{"Subject": f"Doomed {n}"} for n in range(3)])
    for result in made:
        sf.conn.Case.delete(result.id)
    recent, old, outside = (r.id for r in made)
    seeded.admin("POST", "backdate", {"id": old, "SystemModstamp": (now - timedelta(days=30)).isoformat()})
    seeded.admin("POST", "backdate", {"id": outside, "SystemModstamp": (now - timedelta(days=60)).isoformat()})

    assert recent in sf.deleted_ids("Case", now - timedelta(hours=1), now + timedelta(minutes=5))
    assert sf.calls["GET /services/data/v62.0/sobjects/Case/deleted"] == 1
    older = sf.deleted_ids("Case", now - timedelta(days=40), now - timedelta(days=20))
    assert older == [old]  # past the feed's 15 days: queryAll with IsDeleted = true
    assert sf.calls["GET /services/data/v62.0/sobjects/Case/deleted"] == 1
    assert sf.calls["GET /services/data/v62.0/queryAll"] >= 1


def test_upsert_chunks_at_200_and_reports_a_bad_record_without_raising(sf: SalesforceSyncHook) -> None:
    records = [{"Name": f"Upsert {n}", "StageName": "Prospecting", "CloseDate": "2027-02-01",
                "Jira_Key__c": f"UPS-{n}"} for n in range(402)]
    records[250]["StageName"] = "Bogus"
    records[300]["Jira_Key__c"] = None
    results = sf.upsert_collection("Opportunity", "Jira_Key__c", records)
    assert [r.index for r in results] == list(range(402))
    assert [n for n, r in enumerate(results) if not r.success] == [250, 300]
    assert results[250].errors[0].code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert results[300].errors[0].code == "MISSING_EXTERNAL_ID"
    assert all(r.created for r in results if r.success)
    assert sf.calls["PATCH /services/data/v62.0/composite/sobjects/Opportunity/Jira_Key__c"] == 3  # 401 sent: 200 + 200 + 1
    again = sf.upsert_collection("Opportunity", "Jira_Key__c", records[:5])
    assert [r.created for r in again] == [False] * 5  # idempotent by external id: updates now
    assert [r.id for r in again] == [r.id for r in results[:5]]


def test_a_record_that_breaks_the_whole_request_is_isolated(sf: SalesforceSyncHook) -> None:
    records = [{"Name": f"Iso {n}", "StageName": "Prospecting", "CloseDate": "2027-02-01"} for n in range(6)]
    records[4]["No_Such_Field__c"] = "x"  # Salesforce refuses the whole request for this
    results = sf.create_collection("Opportunity", records)
    assert [r.success for r in results] == [True, True, True, True, False, True]
    assert results[4].errors[0].code == "INVALID_FIELD"
    landed = sf.conn.query("SELECT COUNT() FROM Opportunity WHERE Name LIKE 'Iso %'")["totalSize"]
    assert landed == 5


def test_update_collection(sf: SalesforceSyncHook) -> None:
    made = sf.create_collection("Case", [{"Subject": "Upd A"}, {"Subject": "Upd B"}])
    results = sf.update_collection([{"Id": made[0].id, "Status": "Working"}, {"Id": made[1].id, "Status": "Nope"},
                                    {"Status": "Closed"}], sobject="Case")
    assert [r.success for r in results] == [True, False, False]
    assert results[2].errors[0].code == "MISSING_ID"
    status = sf.conn.query(f"SELECT Status FROM Case WHERE Id = '{made[0].id}'")["records"][0]["Status"]
    assert status == "Working"


def test_limits_agree_with_the_usage_header(sf: SalesforceSyncHook) -> None:
    daily = sf.limits()["DailyApiRequests"]
    assert daily["Max"] == sf.api_usage["max"]
    assert daily["Max"] - daily["Remaining"] in (sf.api_usage["used"], (sf.api_usage["used"] or 0) - 1)


def test_describe(sf: SalesforceSyncHook) -> None:
    fields = {f["name"]: f for f in sf.describe("Opportunity")["fields"]}
    assert fields["Jira_Key__c"]["externalId"] is True
    with pytest.raises(ApiError) as err:
        sf.describe("NoSuchObject__c")
    assert err.value.status == 404


def test_bad_soql_is_an_api_error_with_the_salesforce_code(sf: SalesforceSyncHook) -> None:
    with pytest.raises(ApiError) as err:
        list(sf.query_pages("SELECT Nope__c FROM Account"))
    assert err.value.code == "INVALID_FIELD" and "describe" in err.value.fix


@pytest.mark.parametrize("fault", ["503", "500", "reset"])
def test_reads_retry_injected_faults(sf: SalesforceSyncHook, seeded: EmulatorProcess, fault: str) -> None:
    sf.describe("Account")  # authenticate first: the fault targets the query
    seeded.set_faults([{"fault": fault, "path": "/query", "times": 2}])
    assert sum(map(len, sf.query_pages("SELECT Id FROM Account LIMIT 7"))) == 7
    assert sf.calls[QUERY] == 3 and sf.counter.retries[QUERY] == 2


@pytest.mark.parametrize("fault", ["500", "reset", "lost_response"])
def test_the_token_grant_is_sent_again_after_a_server_error_or_a_dropped_connection(
        sf: SalesforceSyncHook, seeded: EmulatorProcess, fault: str) -> None:
    # A grant creates nothing in the org: unlike other POSTs it may be resent after an ambiguous failure.
    seeded.set_faults([{"fault": fault, "path": "/oauth2/token$", "method": "POST", "times": 2}])
    assert sum(map(len, sf.query_pages("SELECT Id FROM Account LIMIT 3"))) == 3
    assert sf.calls[TOKEN] == 3


def test_a_token_grant_failing_on_every_try_is_a_transient_auth_error(sf: SalesforceSyncHook,
                                                                       seeded: EmulatorProcess) -> None:
    seeded.set_faults([{"fault": "reset", "path": "/oauth2/token$", "method": "POST"}])
    with pytest.raises(AuthError) as err:
        sf.describe("Account")
    assert err.value.code == "CONNECTION_FAILED" and err.value.transient
    assert sf.calls[TOKEN] == 4


def test_ambiguous_failure_of_a_create_is_not_resent(sf: SalesforceSyncHook, seeded: EmulatorProcess) -> None:
    sf.describe("Account")
    seeded.set_faults([{"fault": "500", "path": "/composite/sobjects", "method": "POST", "times": 1}])
    with pytest.raises(ApiError) as err:
        sf.create_collection("Account", [{"Name": "Maybe twice"}])
    assert err.value.status == 500
    assert sf.calls["POST /services/data/v62.0/composite/sobjects"] == 1


def test_request_limit_exceeded_stops_instead_of_hammering(sf: SalesforceSyncHook, seeded: EmulatorProcess) -> None:
    sf.describe("Account")
    used = int(sf.api_usage["used"] or 0)
    seeded.configure(api_daily_max=used + 1)
    sf.describe("Contact")  # the last call the budget allows
    with pytest.raises(ApiLimitExceeded) as err:
        list(sf.query_pages("SELECT Id FROM Account"))
    assert err.value.code == "REQUEST_LIMIT_EXCEEDED" and err.value.status == 403
    assert f"of {used + 1}" in str(err.value) and "fix:" in str(err.value)
    assert sf.calls[QUERY] == 1  # refused once, not retried


def test_deleted_ids_fall_back_when_the_feed_refuses_the_start(sf: SalesforceSyncHook, seeded: EmulatorProcess) -> None:
    now = _server_now(sf)
    doomed = sf.create_collection("Case", [{"Subject": "Doomed early"}])[0].id
    sf.conn.Case.delete(doomed)
    seeded.admin("POST", "backdate", {"id": doomed, "SystemModstamp": (now - timedelta(days=2)).isoformat()})
    seeded.configure(deleted_reach_days=1)  # an org that purged its delete log early
    try:
        assert sf.deleted_ids("Case", now - timedelta(days=3), now - timedelta(days=1)) == [doomed]
    finally:
        seeded.configure(deleted_reach_days=15)
    assert sf.calls["GET /services/data/v62.0/sobjects/Case/deleted"] == 1  # tried, refused, then queryAll


def test_deleted_ids_within_one_minute(sf: SalesforceSyncHook, seeded: EmulatorProcess) -> None:
    # The feed ignores seconds and needs a minute between start and end: a shorter window must still work.
    minute = _server_now(sf).replace(second=0, microsecond=0) - timedelta(minutes=3)
    made = sf.create_collection("Case", [{"Subject": "Doomed in a minute"}, {"Subject": "Doomed just before"}])
    for result, second in zip(made, (20, 5), strict=True):
        sf.conn.Case.delete(result.id)
        seeded.admin("POST", "backdate", {"id": result.id,
                                          "SystemModstamp": (minute + timedelta(seconds=second)).isoformat()})
    assert sf.deleted_ids("Case", minute + timedelta(seconds=10), minute + timedelta(seconds=40)) == [made[0].id]
    assert sf.deleted_ids("Case", minute, minute + timedelta(minutes=1)) == sorted(r.id for r in made)
