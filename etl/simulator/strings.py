"""Vectorised text building on Arrow arrays.

The simulator never formats rows one at a time: every text column is assembled from whole
arrays with Arrow compute kernels (concatenation, padding, look-ups, date casts).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL = pa.scalar(None, pa.string())


def join(*parts) -> pa.Array:
    """Concatenate string arrays and/or plain strings element-wise (null if any part is null)."""
    return pc.binary_join_element_wise(*parts, "")


def pick(options: Sequence[str], index: np.ndarray) -> pa.Array:
    """Element-wise look-up `options[index]` as a string array."""
    return pa.array(list(options), pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))


def int_strings(values: np.ndarray, width: int = 0) -> pa.Array:
    """Integers as decimal strings, zero-padded to `width`."""
    text = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(text, width, "0") if width else text


def _hex_pairs() -> np.ndarray:
    """256 entries: the two ASCII hex digits of a byte packed in native uint16 order."""
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    pairs = np.empty((256, 2), dtype=np.uint8)
    pairs[:, 0] = digits[np.arange(256) >> 4]
    pairs[:, 1] = digits[np.arange(256) & 15]
    return pairs.view(np.uint16).ravel()


_HEX_PAIRS = _hex_pairs()


def hex_strings(words: Sequence[np.ndarray], nchars: int) -> pa.Array:
    """Lower-case hex of the concatenated big-endian uint64 `words`, cut to `nchars`."""
    block = np.empty((len(words[0]), len(words)), dtype=">u8")
    for i, word in enumerate(words):
        block[:, i] = word
    raw = block.view(np.uint8).reshape(len(block), -1)
    out = _HEX_PAIRS[raw].view(np.uint8)
    out = np.ascontiguousarray(out[:, :nchars])
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(nchars), len(out), [None, pa.py_buffer(out)])
    return pc.cast(pc.cast(fixed, pa.binary()), pa.string())


def by_case(which: np.ndarray, builders: Sequence) -> pa.Array:
    """Element-wise alternatives, each built only for the rows that use it.

    `builders[k](rows)` returns a string array for the row indices `rows` (or None for nulls);
    row i of the result comes from builder `which[i]`.
    """
    which = np.asarray(which)
    parts, positions = [], []
    for k, build in enumerate(builders):
        rows = np.flatnonzero(which == k)
        if len(rows) == 0:
            continue
        part = build(rows) if build is not None else None
        parts.append(pa.nulls(len(rows), pa.string()) if part is None else part)
        positions.append(rows)
    if not parts:
        return pa.array([], pa.string())
    combined = pa.concat_arrays([p.combine_chunks() if isinstance(p, pa.ChunkedArray) else p for p in parts])
    order = np.empty(len(which), dtype=np.int64)
    order[np.concatenate(positions)] = np.arange(len(which))
    return combined.take(pa.array(order))


def null_where(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """`values` with nulls where `mask` is true (null = empty cell = missing)."""
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), NULL, values)


def choose(index: np.ndarray, *alternatives: pa.Array) -> pa.Array:
    """Element-wise pick among alternative arrays of equal length."""
    return pc.choose(pa.array(np.asarray(index, dtype=np.int8)), *alternatives)


def date_strings(epoch_days: np.ndarray) -> pa.Array:
    """Days since 1970-01-01 as `YYYY-MM-DD`."""
    return pc.cast(pa.array(np.asarray(epoch_days, dtype=np.int32), pa.date32()), pa.string())


def local_datetime_strings(epoch_seconds: np.ndarray) -> pa.Array:
    """Seconds since the epoch as `YYYY-MM-DDTHH:MM:SS` (no zone designator)."""
    text = pc.cast(pa.array(np.asarray(epoch_seconds, dtype=np.int64), pa.timestamp("s")), pa.string())
    return pc.replace_substring(text, " ", "T")


def utc_datetime_strings(epoch_seconds: np.ndarray) -> pa.Array:
    """Seconds since the epoch as ISO 8601 UTC, `YYYY-MM-DDTHH:MM:SSZ`."""
    return join(local_datetime_strings(epoch_seconds), "Z")


def bitmask_labels(masks: np.ndarray, labels: Sequence[str], sep: str = ";") -> pa.Array:
    """Turn per-row bit masks into `sep`-joined label lists (null when no bit is set)."""
    table = []
    for mask in range(1 << len(labels)):
        chosen = [label for bit, label in enumerate(labels) if mask >> bit & 1]
        table.append(sep.join(chosen) if chosen else None)
    return pa.array(table, pa.string()).take(pa.array(np.asarray(masks, dtype=np.int64)))
