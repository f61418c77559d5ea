"""Stable hashes of canonical values: per record (echo suppression, change detection) and per field
(which fields changed since the last sync, for conflict resolution).

Python's hash() is salted per process and pandas' hash_pandas_object is an implementation detail,
so the definition here is plain SHA-256 over a documented serialisation (version 1), reproducible
in any language and stable across processes, machines and library upgrades:

  text(v)   UTF-8 bytes of the canonical value; booleans are "true" / "false"
  len(v)    4-byte little-endian signed length of text(v); -1 when the value is missing
  record    b"sfjira-record-v1\\n" + "\\n".join(keys) + b"\\n"
            + len(v_1) + ... + len(v_k) + text(v_1) + ... + text(v_k)      (keys sorted)
  field     b"sfjira-field-v1\\n" + key + b"\\n" + len(v) + text(v)
  hash      the first 32 hex digits (128 bits) of sha256(...); for the `keyed` columns of
            field_hashes (a mapping's PII fields) of HMAC-SHA256(hmac_key, ...) instead, so a list of
            candidate values cannot be hashed to find which one a stored hash is

The state store's agreed record hash (sfjira_synced_state.hash, written by the sync's loads and by
auto-heal) is this same `record` hash, taken over the row's agreed field hashes as the values
(`agreed_record_hashes`). It is kept for reading, not compared: changes are found per field, from
the field hashes; rows written with the older sha256-of-JSON form need no migration.

The lengths up front make the concatenation unambiguous whatever the values contain, and keys
are sorted so column order does not matter. The serialisation is built column-wise with Arrow and
numpy; only the SHA-256 call runs per row (per distinct value for field hashes).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sfjira.values.arrowcol import STR_DTYPE, STRING, combine, null_mask, reuse_memory

HASH_CHARS = 32
BLOCK_ROWS = 1 << 17
BINARY = pa.large_binary()


def record_hash(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.Series:
    """One hash per row over `columns` (default: all) of a canonical frame, indexed like the frame."""
    reuse_memory()
    keys = sorted(columns if columns is not None else frame.columns)
    head = ("sfjira-record-v1\n" + "\n".join(keys) + "\n").encode()
    if not keys:  # no values: the serialisation is the header alone
        empty = hashlib.sha256(head).hexdigest()[:HASH_CHARS]
        return pd.Series([empty] * len(frame), index=frame.index, name="record_hash", dtype=STR_DTYPE)
    header = pa.scalar(head, BINARY)
    arrays = [_chunked(frame[key]) for key in keys]

    def serialise(start: int) -> pa.Array:  # block by block: the serialisation stays small
        texts = [_text(array.slice(start, BLOCK_ROWS)) for array in arrays]
        size = min(BLOCK_ROWS, len(frame) - start)
        return pc.binary_join_element_wise(header, _lengths(texts, size), *texts, pa.scalar(b"", BINARY),
                                           null_handling="replace", null_replacement="")

    # Serialising (Arrow, GIL released) the next block overlaps hashing (Python) this one. One block (a
    # load's chunk, most calls) is serialised here: a thread started per call costs more than its rows.
    starts = list(range(0, len(frame), BLOCK_ROWS))
    if len(starts) <= 1:
        hashed = [_sha(serialise(start)) for start in starts]
    else:
        hashed = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sfjira-hash") as pool:
            ahead = pool.submit(serialise, starts[0])
            for i in range(len(starts)):
                serial = ahead.result()
                if i + 1 < len(starts):
                    ahead = pool.submit(serialise, starts[i + 1])
                hashed.append(_sha(serial))
    hashes = pa.chunked_array(hashed, STRING)
    return pd.Series(pd.array(hashes, dtype=STR_DTYPE), index=frame.index, name="record_hash")


def agreed_record_hashes(field_hashes: Sequence[Mapping[str, str]]) -> list[str]:
    """`record_hash` of each row of agreed field hashes ({field key: hash}), over exactly its own keys:
    rows are grouped by key set, so a row hashes the same whatever rows come with it."""
    out = [""] * len(field_hashes)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, row in enumerate(field_hashes):
        groups.setdefault(tuple(sorted(row)), []).append(i)
    for keys, rows in groups.items():
        frame = pd.DataFrame([[field_hashes[i][k] for k in keys] for i in rows], columns=list(keys), dtype=object,
                             index=range(len(rows)))
        for i, value in zip(rows, record_hash(frame).tolist(), strict=True):
            out[i] = str(value)
    return out


def field_hashes(frame: pd.DataFrame, columns: Sequence[str] | None = None, *, keyed: Collection[str] = (),
                 hmac_key: bytes | None = None) -> pd.DataFrame:
    """One hash per cell of `columns` (default: all); equal values of a field hash equally in any run.
    Columns in `keyed` are hashed with HMAC-SHA256 under `hmac_key` (required for them)."""
    reuse_memory()
    out = {}
    for key in columns if columns is not None else frame.columns:
        secret = hmac_key if key in keyed else None
        if key in keyed and not hmac_key:
            raise ValueError(f"column {key!r} is to be hashed with a key (PII) but no hmac_key was given")
        encoded = pc.dictionary_encode(_text(_chunked(frame[key])))  # hash each distinct value once
        distinct = encoded.dictionary
        prefix = pa.scalar(f"sfjira-field-v1\n{key}\n".encode(), BINARY)
        serial = pc.binary_join_element_wise(prefix, _lengths([distinct], len(distinct)), distinct,
                                             pa.scalar(b"", BINARY))
        missing = pc.binary_join_element_wise(prefix, _lengths([pa.nulls(1, BINARY)], 1), pa.scalar(b"", BINARY))
        hashed = _sha(pa.concat_arrays([serial, missing]), secret)
        indices = pc.fill_null(encoded.indices, len(distinct))  # missing values -> the last hash
        out[key] = pd.Series(pd.array(hashed.take(indices), dtype=STR_DTYPE), index=frame.index)
    return pd.DataFrame(out, index=frame.index)


def _chunked(series: pd.Series) -> pa.ChunkedArray:
    array = pa.array(series.array, from_pandas=True)
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def _text(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    array = combine(array)
    if pa.types.is_boolean(array.type):
        array = pc.if_else(array, "true", "false")
    return array.cast(STRING).cast(BINARY)


def _lengths(texts: list[pa.Array], n: int) -> pa.Array:
    """Each row's value lengths (-1 for missing) as one binary value of 4 * len(texts) bytes."""
    width = 4 * len(texts)
    lengths = np.empty((n, len(texts)), dtype="<i4")
    for j, text in enumerate(texts):
        offsets = np.frombuffer(text.buffers()[1], dtype=np.int64, count=n + 1, offset=text.offset * 8)
        np.subtract(offsets[1:], offsets[:-1], out=lengths[:, j], casting="unsafe")
        if text.null_count:
            lengths[null_mask(text), j] = -1
    starts = np.arange(0, width * (n + 1), width, dtype=np.int64)  # zero-copy view of the matrix rows
    return pa.LargeBinaryArray.from_buffers(BINARY, n, [None, pa.py_buffer(starts), pa.py_buffer(lengths)])


def _sha(serial: pa.Array, hmac_key: bytes | None = None) -> pa.Array:
    """sha256 (HMAC-SHA256 with a key) of each value, as 32 hex digits, returned as an Arrow string array
    without per-row objects."""
    n = len(serial)
    offsets = np.frombuffer(serial.buffers()[1], dtype=np.int64, count=n + 1, offset=serial.offset * 8)
    data = memoryview(serial.buffers()[2])
    bounds = zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)
    if hmac_key:
        mac = hmac.digest
        digests = b"".join([mac(hmac_key, data[a:b], "sha256")[:16] for a, b in bounds])
    else:
        sha = hashlib.sha256
        digests = b"".join([sha(data[a:b]).digest()[:16] for a, b in bounds])
    hexed = digests.hex().encode()
    starts = np.arange(0, HASH_CHARS * (n + 1), HASH_CHARS, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(starts), pa.py_buffer(hexed))
