"""Record and field hashes: the documented SHA-256 serialisation, and the same value in every process."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
from collections.abc import Iterator

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfjira.values.hashing import agreed_record_hashes, field_hashes, record_hash
from tests.sfjira.mapping.conftest import REPO

TEXT = st.one_of(st.none(), st.text(st.characters(codec="utf-8"), max_size=12))
ROWS = st.lists(st.tuples(TEXT, TEXT, st.one_of(st.none(), st.booleans())), min_size=1, max_size=25)


def frame_of(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame({"b_text": pd.array([r[0] for r in rows], dtype="str"),
                         "a_text": pd.array([r[1] for r in rows], dtype="str"),
                         "flag": pd.array([r[2] for r in rows], dtype="boolean")},
                        index=pd.Index([f"id{i}" for i in range(len(rows))], name="sf_id"))


def _text(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _length(text: str | None) -> bytes:
    return struct.pack("<i", -1 if text is None else len(text.encode()))


def reference_record_hash(row: dict) -> str:
    """The serialisation exactly as hashing.py documents it, written independently."""
    keys = sorted(row)
    texts = [_text(row[k]) for k in keys]
    serial = (("sfjira-record-v1\n" + "\n".join(keys) + "\n").encode() + b"".join(_length(t) for t in texts)
              + b"".join((t or "").encode() for t in texts))
    return hashlib.sha256(serial).hexdigest()[:32]


def reference_field_hash(key: str, value: object) -> str:
    text = _text(value)
    serial = f"sfjira-field-v1\n{key}\n".encode() + _length(text) + (text or "").encode()
    return hashlib.sha256(serial).hexdigest()[:32]


@given(ROWS)
@settings(max_examples=60, deadline=None)
def test_hashes_follow_the_documented_serialisation(rows: list[tuple]) -> None:
    frame = frame_of(rows)
    assert frame["a_text"].isna().tolist() == [r[1] is None for r in rows]  # the frame holds the drawn values
    plain = frame.astype(object).to_dict("index")
    assert record_hash(frame).tolist() == [reference_record_hash(plain[i]) for i in frame.index]
    got = field_hashes(frame)
    for key in frame.columns:
        assert got[key].tolist() == [reference_field_hash(key, plain[i][key]) for i in frame.index]


def test_properties_of_the_hash() -> None:
    frame = frame_of([("x", "y", True), ("x", "y", True), (None, "y", True), ("", "y", True), ("xy", "", True)])
    h = record_hash(frame).tolist()
    assert h[0] == h[1]
    assert len({h[0], h[2], h[3], h[4]}) == 4  # missing != empty, and "x"+"y" != "xy"+""
    assert record_hash(frame[["flag", "a_text", "b_text"]]).tolist() == h  # column order does not matter
    assert record_hash(frame, ["a_text"]).tolist() != record_hash(frame, ["b_text"]).tolist()
    assert all(len(v) == 32 and int(v, 16) >= 0 for v in h)


_WORKER = r"""
import json, sys
import pandas as pd
from sfjira.values.hashing import agreed_record_hashes, field_hashes, record_hash
for line in sys.stdin:
    data = json.loads(line)
    frame = pd.DataFrame({"b_text": pd.array(data["b"], dtype="str"), "a_text": pd.array(data["a"], dtype="str"),
                          "flag": pd.array(data["f"], dtype="boolean")},
                         index=pd.Index([f"id{i}" for i in range(len(data["a"]))], name="sf_id"))
    out = {"record": record_hash(frame).tolist(), "fields": field_hashes(frame).to_numpy().tolist()}
    print(json.dumps(out), flush=True)
"""


@pytest.fixture(scope="module")
def other_process() -> Iterator[subprocess.Popen]:
    """A separate interpreter with its own hash seed, fed frames over a pipe."""
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"}
    proc = subprocess.Popen([sys.executable, "-c", _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env)
    yield proc
    proc.stdin.close()
    proc.wait(timeout=30)


@given(ROWS)
@settings(max_examples=40, deadline=None)
def test_hashes_are_identical_in_another_process(other_process: subprocess.Popen, rows: list[tuple]) -> None:
    frame = frame_of(rows)
    message = {"b": [r[0] for r in rows], "a": [r[1] for r in rows], "f": [r[2] for r in rows]}
    other_process.stdin.write(json.dumps(message) + "\n")
    other_process.stdin.flush()
    theirs = json.loads(other_process.stdout.readline())
    assert theirs["record"] == record_hash(frame).tolist()
    assert theirs["fields"] == field_hashes(frame).to_numpy().tolist()


def test_the_agreed_record_hash_is_the_record_hash_over_the_field_hashes() -> None:
    """One record hash everywhere: the synced state's is `record_hash` over the agreed field hashes, and a
    row hashes the same whatever rows are hashed with it (rows with other fields included)."""
    one = {"Amount": "a" * 32, "Name": "b" * 32}
    other = {"Name": "c" * 32}
    alone = agreed_record_hashes([one])
    together = agreed_record_hashes([other, one, {}])
    assert together[1] == alone[0] == record_hash(pd.DataFrame([one], dtype=object)).iloc[0]
    assert together[0] == record_hash(pd.DataFrame([other], dtype=object)).iloc[0] != alone[0]
    assert len(set(together)) == 3
