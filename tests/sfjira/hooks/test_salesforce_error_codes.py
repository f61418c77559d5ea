"""The Salesforce hook classifies an errorCode by the error catalog (one home): fix and retry verdict."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfjira import error_catalog
from sfjira.exceptions import ApiError
from sfjira.hooks.salesforce import SalesforceSyncHook


def _refused(code: str, status: int = 400):  # noqa: ANN202 - a callable the hook runs
    def call() -> None:
        raise SalesforceMalformedRequest("https://sf.example/x", status, "x", [{"errorCode": code, "message": "no"}])
    return call


@pytest.mark.parametrize(("code", "transient"), [("UNABLE_TO_LOCK_ROW", True), ("INVALID_FIELD", False),
                                                 ("FIELD_CUSTOM_VALIDATION_EXCEPTION", False)])
def test_an_errorcode_gets_the_catalogs_fix_and_verdict(code: str, transient: bool) -> None:
    with pytest.raises(ApiError) as raised:
        SalesforceSyncHook("unused")._call("update", _refused(code))
    assert raised.value.code == code and raised.value.transient is transient
    assert raised.value.fix == error_catalog.fix_for(code)


def test_an_errorcode_nobody_listed_follows_the_http_status() -> None:
    hook = SalesforceSyncHook("unused")
    with pytest.raises(ApiError) as raised:
        hook._call("query", _refused("SOME_NEW_CODE", 400))
    assert raised.value.transient is False and raised.value.fix
