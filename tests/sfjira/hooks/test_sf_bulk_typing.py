"""A Bulk API 2.0 result set (CSV) typed column by column gives exactly the frame the cell-by-cell typing gave,
which is `records_to_frame` of the REST-shaped records: same columns, dtypes and values (None against NaN,
Python against numpy bools, int against float), over blanks, booleans, numbers, datetimes, relationship
columns and columns with no value at all. No emulator: the describes are given."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sfjira.hooks.salesforce import records_to_frame
from sfjira.hooks.salesforce_bulk import SalesforceBulk

TYPES = {
    "Opportunity": {"Id": "id", "Name": "string", "Amount": "currency", "Probability": "percent",
                    "TotalOpportunityQuantity": "double", "Employees__c": "int", "Big__c": "long",
                    "IsDeleted": "boolean", "IsWon": "boolean", "CloseDate": "date", "SystemModstamp": "datetime",
                    "LastActivity__c": "datetime", "Description": "textarea", "Empty_Int__c": "int",
                    "Empty_Bool__c": "boolean", "Empty_Text__c": "string", "Empty_Double__c": "double",
                    "AccountId": "reference"},
    "Account": {"Name": "string", "NumberOfEmployees": "int", "IsActive__c": "boolean", "CreatedDate": "datetime"},
}

CSV = '''"Id","SystemModstamp","Name","Amount","Probability","TotalOpportunityQuantity","Employees__c","Big__c","IsDeleted","IsWon","CloseDate","LastActivity__c","Description","Empty_Int__c","Empty_Bool__c","Empty_Text__c","Empty_Double__c","AccountId","Account.Name","Account.NumberOfEmployees","Account.IsActive__c","Account.CreatedDate"
"006A","2026-05-01T10:00:00.000Z","Deal, big","12.5","10","0.1","7","9007199254740993","false","true","2026-05-01","2026-05-01T10:00:00.000Z","multi
line ""quoted""","","","","","001A","Acme","12","true","2025-01-01T00:00:00.000Z"
"006B","2026-05-02T11:30:00.123Z","","","","1e-7","-3.5","12","true","","","","","","","","","","","","",""
"006C","2026-05-03T12:00:00.000Z","Small","1234567.891","99.5","","","","false","false","2026-05-03","2026-05-03T12:00:00.000+0000"," spaced ","","","","","001B","Beta","","false",""
'''
FIELDS = ["Name", "Amount", "IsWon", "LastActivity__c", "Account.Name", "Account.NumberOfEmployees",
          "Account.IsActive__c", "Not_In_The_Csv__c", "IsDeleted"]
_NUMBERS = {"int": int, "double": float, "currency": float, "percent": float, "long": int}


class _Hook:
    """The one call SalesforceBulk makes to type a result set: describe."""

    def describe(self, sobject: str) -> dict[str, Any]:
        fields = [{"name": name, "type": kind} for name, kind in TYPES[sobject].items()]
        if sobject == "Opportunity":
            fields.append({"name": "Account__ref", "type": "reference", "relationshipName": "Account",
                           "referenceTo": ["Account"]})
        return {"fields": fields}


def _cell_by_cell(sobject: str, text: str, fields: list[str] | None) -> pd.DataFrame:
    """The typing before it went column by column: each cell converted, then `records_to_frame` of the rows."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        return pd.DataFrame()
    kinds = {column: _kind(sobject, column) for column in rows[0]}

    def convert(value: str, kind: str) -> Any:
        if value == "":
            return None
        if kind == "boolean":
            return value == "true"
        if kind in _NUMBERS:
            number = float(value)
            return int(number) if _NUMBERS[kind] is int else number
        if kind == "datetime" and value.endswith("Z"):
            return value[:-1] + "+0000"
        return value

    return records_to_frame([[{c: convert(v, kinds[c]) for c, v in row.items()} for row in rows]], fields)


def _kind(sobject: str, column: str) -> str:
    parent, _, name = column.rpartition(".")
    return TYPES["Account" if parent else sobject].get(name, "string")


@pytest.fixture
def bulk() -> SalesforceBulk:
    return SalesforceBulk(_Hook())  # type: ignore[arg-type]


def _assert_same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    for column in old.columns:  # assert_frame_equal takes np.True_ for True and NaN for None in object columns
        assert [type(v) for v in new[column].array] == [type(v) for v in old[column].array], column


@pytest.mark.parametrize("fields", [None, FIELDS], ids=["every column", "the extract's fields"])
def test_a_result_set_is_typed_as_the_cell_by_cell_typing_typed_it(bulk: SalesforceBulk,
                                                                   fields: list[str] | None) -> None:
    new = bulk.result_frame("Opportunity", CSV, fields)
    old = _cell_by_cell("Opportunity", CSV, fields)
    _assert_same(new, old)
    # The cases the comparison is about, spelled out.
    assert new["Name"].tolist()[:2] == ["Deal, big", np.nan] and new["IsWon"].tolist() == [True, None, False]
    assert new["IsDeleted"].dtype == bool and new["Account.NumberOfEmployees"].dtype == "float64"
    assert new["Account.Name"].tolist() == ["Acme", np.nan, "Beta"], "dotted headers stay flat columns"
    assert new["LastActivity__c"].tolist() == ["2026-05-01T10:00:00.000+0000", np.nan, "2026-05-03T12:00:00.000+0000"]
    if fields is None:
        assert new["Empty_Int__c"].tolist() == [None] * 3 and new["Empty_Int__c"].dtype == object
        assert new["Employees__c"].tolist()[:2] == [7.0, -3.0] and new["Big__c"].tolist()[0] == 9007199254740992
        assert new["Description"].tolist()[0] == 'multi\nline "quoted"'


def test_a_result_set_without_nulls_keeps_ints_and_numpy_bools(bulk: SalesforceBulk) -> None:
    text = '"Id","Employees__c","IsWon","Amount","Account.NumberOfEmployees"\n"006A","3","true","1.25","4"\n' \
           '"006B","-2","false","2","5"\n'
    new = bulk.result_frame("Opportunity", text)
    _assert_same(new, _cell_by_cell("Opportunity", text, None))
    assert new.dtypes.to_dict() == {"Id": "str", "Employees__c": "int64", "IsWon": "bool", "Amount": "float64",
                                    "Account.NumberOfEmployees": "int64"}


def test_numbers_parse_as_float_of_each_cell(bulk: SalesforceBulk) -> None:
    rng = np.random.default_rng(14)
    values = [repr(float(v)) for v in rng.normal(0, 1e6, 500)] + ["0.1", "1E+3", "-0.4", "3.000000000000001"]
    text = "Amount,Employees__c\n" + "".join(f"{v},{v}\n" for v in values)
    new = bulk.result_frame("Opportunity", text)
    _assert_same(new, _cell_by_cell("Opportunity", text, None))
    assert new["Amount"].tolist() == [float(v) for v in values]


def test_a_result_set_without_records_is_a_frame_without_rows(bulk: SalesforceBulk) -> None:
    assert len(bulk.result_frame("Opportunity", '"Id","Name"\n')) == 0
    assert len(bulk.result_frame("Opportunity", "")) == 0
