"""Property: for every two-way field with a reversible mapping, Salesforce -> Jira -> Salesforce is the
identity (on canonical values, and on the Salesforce values written back).

The Jira frame is built the way the Jira hook would deliver what we wrote: numbers come back as
JSON floats, date-times in Jira's own format, lists as lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sfjira.mapping import Mapping, load_mapping
from sfjira.transform import by_sf_id, to_jira, to_salesforce
from tests.sfjira.mapping.conftest import SHIPPED
from tests.sfjira.transform.conftest import mapping, values

USERS = {"005A": "acc-ada", "005B": "acc-bob", "005C": "acc-cy"}
ALL_TYPES = mapping(
    {"salesforce": "Description", "jira": "description", "type": "text", "direction": "both", "owner": "latest"},
    {"salesforce": "Amount", "jira": "customfield_1", "type": "currency", "direction": "both", "owner": "salesforce"},
    {"salesforce": "Qty__c", "jira": "customfield_2", "type": "integer", "direction": "both", "owner": "salesforce"},
    {"salesforce": "Flag__c", "jira": "customfield_3", "type": "boolean", "direction": "both", "owner": "jira"},
    {"salesforce": "CloseDate", "jira": "duedate", "type": "date", "direction": "both", "owner": "jira"},
    {"salesforce": "When__c", "jira": "customfield_4", "type": "datetime", "direction": "both", "owner": "latest"},
    {"salesforce": "Priority", "jira": "priority", "type": "picklist", "direction": "both", "owner": "jira",
     "value_map": {"High": "Highest", "Medium": "Medium", "Low": "Lowest"}},
    {"salesforce": "Tags__c", "jira": "labels", "type": "multi-picklist", "direction": "both", "owner": "latest",
     "value_map": {"Gold Tier": "gold", "New": "new", "Renewal": "renewal"}},
    {"salesforce": "OwnerId", "jira": "assignee", "type": "user", "direction": "both", "owner": "jira"},
    status={"salesforce": "Status", "owner": "jira", "value_map": {"New": "To Do", "Working": "In Progress",
                                                                   "Closed": "Done"}},
)

# Text without line breaks for the summary (Jira refuses them) and within 255 UTF-16 units.
LINE = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=60)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\r"), max_size=80)
DECIMALS = st.decimals(min_value=Decimal("-99999999999.99"), max_value=Decimal("99999999999.99"), places=2,
                       allow_nan=False, allow_infinity=False)
OFFSETS = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
INSTANTS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


def _sf_datetime(moment: datetime, offset: timezone) -> str:
    local = moment.replace(tzinfo=UTC).astimezone(offset)
    sign = local.strftime("%z")
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + sign


ROW = st.fixed_dictionaries({
    "Subject": LINE.filter(lambda s: s != ""), "Description": st.one_of(st.none(), TEXT),
    "Amount": st.one_of(st.none(), DECIMALS.map(float), DECIMALS.map(str)),
    "Qty__c": st.one_of(st.none(), st.integers(-10**12, 10**12).map(float)),
    "Flag__c": st.one_of(st.none(), st.booleans()),
    "CloseDate": st.one_of(st.none(), st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}")),
    "When__c": st.one_of(st.none(), st.builds(_sf_datetime, INSTANTS, OFFSETS)),
    "Priority": st.sampled_from(["High", "Medium", "Low", None]),
    "Tags__c": st.one_of(st.none(), st.sets(st.sampled_from(["Gold Tier", "New", "Renewal"])).map(";".join)),
    "OwnerId": st.sampled_from([*USERS, None]),
    "Status": st.sampled_from(["New", "Working", "Closed"]),
})


def _sf(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame.insert(0, "Id", [f"500{i:015d}" for i in range(len(rows))])
    if "Amount" in frame:  # a column mixing JSON floats and exact strings, as parse_float=str would leave
        frame["Amount"] = frame["Amount"].astype(object)
    return frame


def _as_jira_returns_it(result, m: Mapping) -> pd.DataFrame:
    """What the Jira hook would read back after we wrote `result.target`."""
    jira = result.target.reset_index(drop=True).copy()
    for f in m.fields_for("sf_to_jira"):
        if f.type in ("number", "currency", "integer"):
            jira[f.jira] = jira[f.jira].astype("float64")  # JSON numbers arrive as floats
        if f.type == "multi-picklist":
            jira[f.jira] = [v if v is None else list(v) for v in values(jira[f.jira])]
    for f in m.fields_for("jira_to_sf"):  # fields only Jira writes: empty in a freshly written issue
        if f.jira not in jira:
            jira[f.jira] = [[] if f.type == "multi-picklist" else None] * len(jira)
    jira.insert(0, "key", [f"SUP-{i}" for i in range(len(jira))])
    jira.insert(0, "id", [str(10000 + i) for i in range(len(jira))])
    jira[m.jira.salesforce_id_field] = list(result.frame.index)
    return jira


def assert_identity(m: Mapping, sf: pd.DataFrame, **kwargs) -> None:
    there = to_jira(m, sf, **kwargs)
    assert there.rejects.empty, there.rejects.to_string()
    back = to_salesforce(m, _as_jira_returns_it(there, m), **kwargs)
    assert back.rejects.empty, back.rejects.to_string()
    two_way = [f for f in m.synced_fields if f.direction == "both"]
    came_back = by_sf_id(back)
    for f in two_way:
        assert values(came_back[f.canonical_key]) == values(there.frame[f.canonical_key]), f.canonical_key
        written = back.target[f.salesforce].set_axis(came_back.index)
        assert values(written) == values(there.frame[f.canonical_key]), f.salesforce


@given(st.lists(ROW, min_size=1, max_size=20))
@settings(max_examples=60, deadline=None)
def test_every_type_survives_the_round_trip(rows: list[dict]) -> None:
    assert_identity(ALL_TYPES, _sf(rows), user_map=USERS)


@given(st.lists(ROW, min_size=1, max_size=20))
@settings(max_examples=30, deadline=None)
def test_the_values_themselves_come_back(rows: list[dict]) -> None:
    """Beyond canonical equality: text exactly as typed, and decimals digit for digit."""
    sf = _sf(rows)
    there = to_jira(ALL_TYPES, sf, user_map=USERS)
    back = by_sf_id(to_salesforce(ALL_TYPES, _as_jira_returns_it(there, ALL_TYPES), user_map=USERS))
    for i, row in enumerate(rows):
        got = back.loc[f"500{i:015d}"]
        assert (got["Subject"] if isinstance(got["Subject"], str) else "") == row["Subject"]
        if row["Amount"] is not None:
            assert Decimal(got["Amount"]) == Decimal(str(row["Amount"]))
        if row["Description"]:
            assert got["Description"] == row["Description"]


CASE = load_mapping(SHIPPED / "case_to_bug.yaml")
CASE_ROW = st.fixed_dictionaries({
    "Subject": LINE.filter(lambda s: s.strip() != ""), "Description": st.one_of(st.none(), TEXT),
    "Priority": st.sampled_from(["High", "Medium", "Low"]), "Status": st.sampled_from(["New", "Working", "Escalated",
                                                                                      "Closed"]),
    "Contact.Email": st.one_of(st.none(), st.emails()), "Fix_Version__c": st.none(),
})


@given(st.lists(CASE_ROW, min_size=1, max_size=20))
@settings(max_examples=40, deadline=None)
def test_shipped_case_mapping_round_trips(rows: list[dict]) -> None:
    assert_identity(CASE, _sf(rows))


def test_the_catalog_amount_survives_exactly() -> None:
    opp = load_mapping(SHIPPED / "opportunity_to_epic.yaml")
    frame = pd.DataFrame({c: [None] for c in opp.salesforce_columns()})
    frame["Id"], frame["Name"], frame["Amount"], frame["StageName"] = ["006A"], ["Deal"], [1234567.89], ["Closed Won"]
    r = to_jira(opp, frame)
    assert values(r.target["customfield_10052"]) == ["1234567.89"]
    assert float(r.target["customfield_10052"].iloc[0]) == 1234567.89
