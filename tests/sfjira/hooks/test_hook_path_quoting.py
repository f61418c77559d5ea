"""No path built from data can reach another resource: both hooks refuse a malformed key or id before
any call, and percent-encode every data segment whole (over HTTPS to the emulators)."""

from __future__ import annotations

import pytest

from emulators.common.process import EmulatorProcess
from emulators.jira.testing import JiraRest
from sfjira.exceptions import ApiError
from sfjira.hooks.jira import JiraSyncHook
from sfjira.hooks.salesforce import SalesforceSyncHook
from sfjira.identity.keys import IdentityError

pytestmark = pytest.mark.integration


def _issue(hook: JiraSyncHook, project: str, kind: str, summary: str) -> str:
    (made,) = hook.bulk_create([{"project": {"key": project}, "issuetype": {"name": kind}, "summary": summary}])
    assert made.success, made.errors
    return str(made.key)


def test_a_traversal_key_never_reaches_another_issue(jira_emulator: EmulatorProcess, jira_conn) -> None:  # noqa: ANN001
    jira_emulator.reset()
    hook = JiraSyncHook(jira_conn("cloud"))
    sup, epic = _issue(hook, "SUP", "Bug", "the entry"), _issue(hook, "DEL", "Task", "the target")
    rest = JiraRest(jira_emulator.url, jira_emulator.ca_bundle)
    before = rest.issue(epic)
    sneaky = f"{sup}/../{epic}"
    jira_emulator.clear_calls()
    calls = [lambda: hook.update_fields(sneaky, {"summary": "overwritten"}),
             lambda: hook.transition_to(sneaky, "Done"), lambda: hook.add_comment(sneaky, "hi"),
             lambda: hook.add_labels(sneaky, ["x"]), lambda: hook.delete_issue(sneaky),
             lambda: hook.set_property(sneaky, "sfjira", {"sfid": "x"}), lambda: hook.comments(sneaky),
             lambda: hook.get_property(sneaky, "sfjira"),
             lambda: hook.issue_identity(sneaky, ["project"])]
    for call in calls:
        with pytest.raises(IdentityError):
            call()
    assert jira_emulator.calls()["total"] == 0  # refused before anything was sent
    # A data segment that is not a key is encoded whole: the property key cannot climb out of /properties.
    assert hook.get_property(sup, f"../../{epic}") is None
    with pytest.raises(ApiError):
        hook.createmeta(f"SUP/../../issue/{epic}", "Bug")
    assert rest.issue(epic) == before
    hook.add_labels(sup, ["checked"])  # the quoted label call still works on a real key
    assert rest.issue(sup, fields="labels")["fields"]["labels"] == ["checked"]
    jira_emulator.reset()


def test_salesforce_ids_and_names_in_paths(sf_emulator: EmulatorProcess, sf_conn) -> None:  # noqa: ANN001
    hook = SalesforceSyncHook(sf_conn("client_credentials"))
    (result,) = hook.update_collection([{"Id": "500Kj0000000001/../001", "Subject": "x"}], "Case")
    assert not result.success and result.errors[0].code == "MALFORMED_ID"
    assert not any("composite" in endpoint for endpoint in hook.calls)  # nothing was sent for it
    assert hook.key_prefix("Case") == "500" and hook.key_prefix("Case") == "500"
    assert sum(n for endpoint, n in hook.calls.items() if endpoint.endswith("/describe")) == 1  # asked once
    with pytest.raises(ValueError):
        hook.describe("Case/../Account")
