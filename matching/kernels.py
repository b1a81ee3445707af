"""Numba kernels of the PDQ index: substring tables (build), probe-and-verify (search), brute force.

All kernels are ``nogil``: `matching.index` runs them on a thread pool, one chunk of queries (or one
substring table) per task, so batches use every core without NumPy or Numba's own thread pools.
Hashes are C-contiguous ``uint64 (n, 4)`` rows (`matching.pdq`). A substring is a run of `length`
(≤ 32) bits starting at bit `offset` of the 256 (bit 0 = least significant bit of word 0); it may
straddle two words.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_INITIAL_CAPACITY = 256
_BLOCK = 4096  # rows per cache block in brute force
_CANDIDATES = 8192  # candidates gathered before their hashes are read
_AHEAD = 16  # how many reads ahead the search kernels prefetch (random reads are most of a search's time)


def _ctpop(typingctx, value):
    """LLVM's population count (one ``popcnt`` instruction on x86-64 with the host's features)."""
    if not isinstance(value, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        function = builder.module.declare_intrinsic("llvm.ctpop", [args[0].type])
        return builder.call(function, args)

    return value(value), codegen


popcount: Any = intrinsic(_ctpop)


def _prefetch_row(typingctx, array, row):
    """LLVM's prefetch of ``array[row, 0, …]`` (a hint: no fault, no effect on results)."""
    if not isinstance(array, types.Array) or not isinstance(row, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        indices = [args[1]] + [context.get_constant(types.intp, 0)] * (array_type.ndim - 1)
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, indices)
        i32 = ir.IntType(32)
        signature_ir = ir.FunctionType(ir.VoidType(), [pointer.type, i32, i32, i32])
        function = cgutils.get_or_insert_function(builder.module, signature_ir, "llvm.prefetch.p0")
        builder.call(function, [pointer, i32(0), i32(3), i32(1)])  # read, keep in all cache levels, data
        return context.get_dummy_value()

    return types.void(array, row), codegen


prefetch_row: Any = intrinsic(_prefetch_row)


@njit(inline="always", nogil=True, cache=True)
def _substring(row: np.ndarray, offset: int, length: int):
    """Bits [offset, offset + length) of the 256-bit value `row` (4 uint64 words), as an int."""
    word = offset >> 6
    shift = np.uint64(offset & 63)
    value = row[word] >> shift
    if (offset & 63) + length > 64:
        value |= row[word + 1] << np.uint64(64 - (offset & 63))
    mask = (np.uint64(1) << np.uint64(length)) - np.uint64(1)
    return np.int64(value & mask)


@njit(inline="always", nogil=True, cache=True)
def _distance(hashes: np.ndarray, i: int, query: np.ndarray):
    return np.int64(
        popcount(hashes[i, 0] ^ query[0])
        + popcount(hashes[i, 1] ^ query[1])
        + popcount(hashes[i, 2] ^ query[2])
        + popcount(hashes[i, 3] ^ query[3])
    )


@njit(nogil=True, cache=True)
def build_table(
    hashes: np.ndarray, start: int, stop: int, offset: int, length: int, offsets: np.ndarray, order: np.ndarray
) -> None:
    """One substring's bucket table over rows [start, stop), by counting sort (two passes, O(n + 2^length)).

    Fills `offsets` (``uint32``, ``2^length + 1``: bucket `v` holds ``order[offsets[v]:offsets[v + 1]]``)
    and `order` (``uint32``, the rows relative to `start`, ascending inside each bucket).
    """
    size = 1 << length
    offsets[:] = 0
    for i in range(start, stop):
        offsets[_substring(hashes[i], offset, length) + 1] += 1
    for v in range(size):
        offsets[v + 1] += offsets[v]
    cursor = offsets[:size].copy()
    for i in range(start, stop):
        key = _substring(hashes[i], offset, length)
        order[cursor[key]] = i - start
        cursor[key] += 1


@njit(nogil=True, cache=True)
def occupied_buckets(offsets: np.ndarray) -> np.ndarray:
    """Bit i (``bits[i >> 3] >> (i & 7)``) set when ``offsets[i + 1] > offsets[i]``: bucket i holds rows.

    Over the concatenated tables; a table's last entry (its end, followed by the next table's 0) is never
    set. One bit per bucket is ~1/32 of `offsets`, small enough to stay in cache while a search tests
    every probed bucket, so empty buckets (most of them) cost no read of `offsets`.
    """
    bits = np.zeros((offsets.shape[0] + 7) >> 3, np.uint8)
    for i in range(offsets.shape[0] - 1):
        if offsets[i + 1] > offsets[i]:
            bits[i >> 3] |= np.uint8(1 << (i & 7))
    return bits


def _grown(array: np.ndarray, count: int) -> np.ndarray:
    bigger = np.empty(2 * array.shape[0], array.dtype)
    bigger[:count] = array[:count]
    return bigger


_grown_jit = njit(nogil=True, cache=True)(_grown)


@njit(nogil=True, cache=True)
def _grown_outputs(out_query, out_row, out_distance, count):
    """A search's three output arrays at twice their size, their first `count` entries kept."""
    return _grown_jit(out_query, count), _grown_jit(out_row, count), _grown_jit(out_distance, count)


@njit(inline="always", nogil=True, cache=True)
def _first_reach(hashes, row, query, k, xor, sub_offset, sub_length, probe_radius) -> bool:
    """Whether table k is the first probed table whose probe reaches `row` (so it is emitted from there)."""
    for w in range(4):
        xor[w] = hashes[row, w] ^ query[w]
    for j in range(k):
        if probe_radius[j] >= 0 and popcount(_substring(xor, sub_offset[j], sub_length[j])) <= probe_radius[j]:
            return False
    return True


@njit(nogil=True, cache=True)
def _verify(
    qi, query, hashes, start, candidates, n, k, sub_offset, sub_length, probe_radius, radius, xor, out_query, out_row,
    out_distance, count,
):  # fmt: skip
    """Exact distances of n candidates from table k; matches appended from `count`. Returns the new count, -1 if full."""
    for c in range(n):
        if c + _AHEAD < n:
            prefetch_row(hashes, start + candidates[c + _AHEAD])
        row = start + candidates[c]
        distance = _distance(hashes, row, query)
        if distance <= radius and _first_reach(hashes, row, query, k, xor, sub_offset, sub_length, probe_radius):
            if count == out_query.shape[0]:
                return -1
            out_query[count] = qi
            out_row[count] = row
            out_distance[count] = distance
            count += 1
    return count


@njit(nogil=True, cache=True)
def _probe_table(
    qi, query, k, hashes, start, sub_offset, sub_length, table_base, offsets, occupied, order, probe_radius, masks,
    mask_base, radius, low, high, candidates, xor, out_query, out_row, out_distance, count,
):  # fmt: skip
    """One query against table k of one segment; returns the new count, or -1 when the output is full.

    In three passes, so that the random reads of each pass are independent of one another and the CPU
    overlaps them: every probed bucket's bit in `occupied` and, for the occupied ones only, its bounds;
    then the rows in those buckets; then their hashes. Each pass prefetches the reads it will make
    (`_AHEAD` ahead, or all bucket bounds at once): the search is bound by memory latency, and this took
    ~22 % off its CPU time on 1 M simulated PDQs (2026-12-06). Most probed buckets are empty (a table
    has 2-5 buckets per row), so the bitmap, which stays in cache, saves most reads of `offsets`.
    """
    key = _substring(query, sub_offset[k], sub_length[k])
    base = table_base[k]
    probes = 0
    for probe in range(mask_base[k], mask_base[k + 1]):
        bucket = base + (key ^ masks[probe])
        if (occupied[bucket >> 3] >> (bucket & 7)) & 1:
            low[probes] = bucket  # the bucket, for now
            prefetch_row(offsets, bucket)
            probes += 1
    for probe in range(probes):
        bucket = low[probe]
        low[probe] = offsets[bucket]
        high[probe] = offsets[bucket + 1]
    n = 0
    capacity = candidates.shape[0]
    for probe in range(probes):
        if probe + _AHEAD < probes:
            prefetch_row(order[k], low[probe + _AHEAD])
        for position in range(low[probe], high[probe]):
            if n == capacity:
                count = _verify(
                    qi, query, hashes, start, candidates, n, k, sub_offset, sub_length, probe_radius, radius, xor,
                    out_query, out_row, out_distance, count,
                )  # fmt: skip
                if count < 0:
                    return -1
                n = 0
            candidates[n] = order[k, position]
            n += 1
    return _verify(
        qi, query, hashes, start, candidates, n, k, sub_offset, sub_length, probe_radius, radius, xor, out_query,
        out_row, out_distance, count,
    )  # fmt: skip


@njit(nogil=True, cache=True)
def _by_substring(queries: np.ndarray, offset: int, length: int) -> np.ndarray:
    """The queries' positions, sorted by their substring [offset, offset + length)."""
    keys = np.empty(queries.shape[0], np.int64)
    for qi in range(queries.shape[0]):
        keys[qi] = _substring(queries[qi], offset, length)
    return np.argsort(keys)


@njit(nogil=True, cache=True)
def search_tables(
    queries: np.ndarray,
    hashes: np.ndarray,
    start: int,
    sub_offset: np.ndarray,
    sub_length: np.ndarray,
    table_base: np.ndarray,
    offsets: np.ndarray,
    occupied: np.ndarray,
    order: np.ndarray,
    probe_radius: np.ndarray,
    masks: np.ndarray,
    mask_base: np.ndarray,
    radius: int,
    first_table: int,
    stop_table: int,
):
    """Every row of one segment within `radius` of each query found by tables [first_table, stop_table).

    Probe, verify exactly, emit once; all of a segment's probed tables together find every such row.

    Table k is probed at the query's substring XOR each of ``masks[mask_base[k]:mask_base[k + 1]]``
    (every key within ``probe_radius[k]`` bits; an empty range and ``-1`` = not probed). With
    ``sum(probe_radius + 1) > radius`` every row within `radius` shares at least one probed bucket
    (pigeonhole). `occupied` has bit i set when bucket i of `offsets` holds rows (`occupied_buckets`);
    only those buckets are read. Each candidate's full 256-bit distance is computed; a match is emitted
    only from the first probed table that reaches it, so nothing is emitted twice and no candidate set
    is kept.

    Table by table, and in each table the queries in the order of their substring: the probes then
    sweep the table's bucket bits and bounds in (nearly) ascending order and one table's bits stay in
    cache. Tables are independent (a match's first reaching table depends on the match alone), so the
    tables of one segment can be searched by separate calls, on separate threads, in any order.

    Returns (query index, global row, distance) arrays, by table, then substring, then probe.
    """
    count = 0
    out_query = np.empty(_INITIAL_CAPACITY, np.int64)
    out_row = np.empty(_INITIAL_CAPACITY, np.int64)
    out_distance = np.empty(_INITIAL_CAPACITY, np.int32)
    widest = 0
    for k in range(sub_offset.shape[0]):
        widest = max(widest, mask_base[k + 1] - mask_base[k])
    low = np.empty(widest, np.int64)
    high = np.empty(widest, np.int64)
    candidates = np.empty(_CANDIDATES, np.int64)
    xor = np.empty(4, np.uint64)
    for k in range(first_table, stop_table):
        if probe_radius[k] < 0:
            continue
        for qi in _by_substring(queries, sub_offset[k], sub_length[k]):
            while True:
                after = _probe_table(
                    qi, queries[qi], k, hashes, start, sub_offset, sub_length, table_base, offsets, occupied, order,
                    probe_radius, masks, mask_base, radius, low, high, candidates, xor, out_query, out_row,
                    out_distance, count,
                )  # fmt: skip
                if after >= 0:
                    count = after
                    break
                out_query, out_row, out_distance = _grown_outputs(out_query, out_row, out_distance, count)
    return out_query[:count], out_row[:count], out_distance[:count]


@njit(nogil=True, cache=True)
def _brute_block(queries, hashes, block, block_stop, radius, out_query, out_row, out_distance, count):
    capacity = out_query.shape[0]
    for qi in range(queries.shape[0]):
        query = queries[qi]
        for row in range(block, block_stop):
            distance = _distance(hashes, row, query)
            if distance <= radius:
                if count == capacity:
                    return -1
                out_query[count] = qi
                out_row[count] = row
                out_distance[count] = distance
                count += 1
    return count


@njit(nogil=True, cache=True)
def search_brute(queries: np.ndarray, hashes: np.ndarray, start: int, stop: int, radius: int):
    """Every row in [start, stop) within `radius` of each query, by computing every distance.

    Rows are read in blocks of `_BLOCK` (128 KB) that stay in cache while every query passes over them.
    """
    count = 0
    out_query = np.empty(_INITIAL_CAPACITY, np.int64)
    out_row = np.empty(_INITIAL_CAPACITY, np.int64)
    out_distance = np.empty(_INITIAL_CAPACITY, np.int32)
    for block in range(start, stop, _BLOCK):
        block_stop = min(block + _BLOCK, stop)
        while True:
            after = _brute_block(queries, hashes, block, block_stop, radius, out_query, out_row, out_distance, count)
            if after >= 0:
                count = after
                break
            out_query, out_row, out_distance = _grown_outputs(out_query, out_row, out_distance, count)
    return out_query[:count], out_row[:count], out_distance[:count]
