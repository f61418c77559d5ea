"""The transform's frames through Parquet and back: the plan made from them is the plan made in one go,
PII columns are sealed at rest, and refused records leave with their rejects."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sfjira.mapping import load_mapping
from sfjira.pii import PiiProtection
from sfjira.storage import SEALED_KEY
from sfjira.sync.plan import build_plan, plan_transformed
from sfjira.sync.transformed import read_result, transform_side, without, write_result
from tests.sfjira.mapping.conftest import SHIPPED
from tests.sfjira.reconcile.world import jira_frame, jira_issue, links_frame, sf_frame, sf_record

CASE_A, CASE_B, CASE_C = "500000000000001AAA", "500000000000002AAA", "500000000000003AAA"
NO_DELETES = pd.DataFrame({"Id": pd.Series(dtype=object)})
NO_STATE = pd.DataFrame(columns=["sf_id", "direction", "hash", "field_hashes"])


def _case(sf_id: str, subject: str, **extra: object) -> dict:
    values = {"Subject": subject, "Description": "It broke", "Priority": "High", "Status": "New",
              "Contact.Email": f"{subject.lower()}@example.com", **extra}
    return sf_record(sf_id, "Case", **values)


@pytest.fixture
def sides():  # noqa: ANN201
    mapping = load_mapping(SHIPPED / "case_to_bug.yaml")
    records = sf_frame(mapping, [_case(CASE_A, "Alpha"), _case(CASE_B, "Beta", Priority="Nonsense"),
                                 _case(CASE_C, "Gamma", Jira_Key__c="SUP-7")])
    issues = jira_frame(mapping, [jira_issue(7, "SUP-7", sfid=CASE_C, mapping_name=mapping.name, summary="Old",
                                             status="To Do", priority="High", customfield_10054="g@example.com")])
    return mapping, records, issues


def test_the_plan_from_frames_read_back_is_the_plan_made_in_one_go(sides, tmp_path: Path) -> None:  # noqa: ANN001
    mapping, records, issues = sides
    pii = PiiProtection.for_mapping(mapping)
    links = links_frame([(CASE_C, "7", "SUP-7")])
    direct = build_plan(mapping, records, NO_DELETES, issues, links, NO_STATE, run_id="r1", pii=pii)
    paths = {side: write_result(str(tmp_path), side, transform_side(mapping, side, frame), pii)
             for side, frame in (("salesforce", records), ("jira", issues))}
    read = plan_transformed(mapping, read_result(mapping, "salesforce", paths["salesforce"]),
                            read_result(mapping, "jira", paths["jira"]), NO_DELETES, links, NO_STATE, run_id="r1",
                            pii=pii)
    assert direct.counts() == read.counts()
    assert direct.counts()["rejects"] >= 1 and direct.counts()["jira_create"] == 1  # Beta's priority is unmapped
    for name, table in direct.tables.items():
        pd.testing.assert_frame_equal(read.tables[name], table, check_dtype=False, obj=name)


def test_pii_columns_are_sealed_at_rest_and_hash_alike_once_read(sides, tmp_path: Path) -> None:  # noqa: ANN001
    mapping, records, _ = sides
    pii = PiiProtection.for_mapping(mapping)
    result = transform_side(mapping, "salesforce", records)
    paths = write_result(str(tmp_path), "salesforce", result, pii)
    stored = pq.read_table(paths["frame"])
    assert SEALED_KEY in (stored.schema.metadata or {})
    assert "alpha@example.com" not in str(stored.to_pydict())
    back = read_result(mapping, "salesforce", paths)
    pd.testing.assert_frame_equal(pii.field_hashes(back.frame), pii.field_hashes(result.frame))
    assert back.frame.index.name == "sf_id" and list(back.frame.index) == list(result.frame.index)


def test_without_drops_the_records_and_their_rejects(sides) -> None:  # noqa: ANN001
    mapping, records, _ = sides
    result = transform_side(mapping, "salesforce", records)
    assert CASE_B in set(result.rejects["record_id"])
    kept = without(result, [CASE_A, CASE_B])
    assert list(kept.frame.index) == [CASE_C] and list(kept.meta.index) == [CASE_C]
    assert not len(kept.rejects)
