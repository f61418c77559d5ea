"""records_to_frame flattens parent relationships into `Parent.Field` columns."""

from __future__ import annotations

import pandas as pd

from sfjira.hooks.salesforce_frames import records_to_frame

PAGE_1 = [
    {"attributes": {"type": "Opportunity", "url": "/x/1"}, "Id": "006A", "SystemModstamp": "2026-03-01T12:00:05.000+0000",
     "Name": "Deal A", "Account": {"attributes": {"type": "Account"}, "Name": "Acme",
                                   "Owner": {"attributes": {"type": "User"}, "Email": "o@acme.test"}}},
]
PAGE_2 = [
    {"attributes": {"type": "Opportunity"}, "Id": "006B", "SystemModstamp": "2026-03-01T12:00:06.000+0000",
     "Name": "Deal B", "Account": None},
]
FIELDS = ["Name", "Account.Name", "Account.Owner.Email"]


def test_flattens_parents_and_orders_columns() -> None:
    frame = records_to_frame([PAGE_1, PAGE_2], FIELDS)
    assert list(frame.columns) == ["Id", "SystemModstamp", "Name", "Account.Name", "Account.Owner.Email"]
    assert frame["Account.Name"].tolist()[0] == "Acme"
    assert frame["Account.Owner.Email"].tolist()[0] == "o@acme.test"
    assert frame["Account.Name"].isna().tolist() == [False, True]
    assert frame["SystemModstamp"].dt.tz is not None
    assert frame["SystemModstamp"].iloc[1] == pd.Timestamp("2026-03-01T12:00:06Z")


def test_null_parent_alone_still_gives_its_columns() -> None:
    frame = records_to_frame([PAGE_2], FIELDS)
    assert list(frame.columns) == ["Id", "SystemModstamp", "Name", "Account.Name", "Account.Owner.Email"]
    assert frame["Account.Name"].isna().all()


def test_without_fields_keeps_what_records_hold_minus_attributes() -> None:
    frame = records_to_frame(iter([PAGE_1, PAGE_2]))
    assert "Account" not in frame.columns and not [c for c in frame.columns if "attributes" in c]
    assert {"Id", "Name", "Account.Name", "Account.Owner.Email"} <= set(frame.columns)


def test_no_pages_is_an_empty_frame_with_columns() -> None:
    frame = records_to_frame([], FIELDS)
    assert frame.empty and "Account.Name" in frame.columns
