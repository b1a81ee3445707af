"""Near-duplicate index for PDQ hashes: every indexed hash within Hamming distance T of a query, exactly.

Algorithm: multi-index hashing (Norouzi, Punjani & Fleet, "Fast search in Hamming space with
multi-index hashing", CVPR 2012) with per-substring search radii (the "generalised pigeonhole" of
Qin et al., ICDE 2018), then exact verification.

* The 256 bits are cut into m contiguous substrings of b = 256/m bits (b ≤ 26). For each substring
  the index keeps a bucket table: rows sorted by their substring value, stored as CSR (``offsets``
  of length 2^b + 1, ``order`` of n row numbers, both ``uint32``), built by a counting sort.
* Pigeonhole: if two hashes differ in at most T bits, then for any radii r_1 … r_m with
  Σ (r_k + 1) ≥ T + 1 some substring k differs in at most r_k bits (else the distance would be at
  least Σ (r_k + 1) > T). So a query probes, in table k, every bucket whose key lies within r_k bits of
  the query's substring (r_k = -1: table not probed), and every hash within T of the query is among
  the candidates. For m = 16 and T = 31 this is "each 16-bit substring exact or one flip"; at 10 M
  hashes the index uses m = 11 (23- and 24-bit substrings, r_k = 2 in ten tables, 1 in one), from
  ~42 M hashes in a segment m = 10 (25- and 26-bit substrings).
* Each candidate's full 256-bit distance is computed (four ``popcnt``), so precision is 1 by
  construction and recall is 1 up to the radius (no approximation anywhere). A match is reported only
  from the first probed table that can reach it (its substring distances in earlier probed tables are
  checked), so there is no candidate set and no duplicate.

Why these choices (measured, see docs/MATCHING.md and docs/BENCHMARKS.md): the cost of a query is the
random memory reads, about one per probed bucket and one per candidate. With n hashes and substrings of
b bits a query probes P = Σ_k Σ_{i ≤ r_k} C(b, i) buckets and reads about P · n / 2^b candidates. At
10 M hashes and T = 31, m = 16 (b = 16) means 272 probes but ~41,000 candidates per query; m = 11
(b ≈ 23) means ~2,800 probes and ~3,000 candidates; m = 10 (b ≈ 26) needs 2 GB of bucket tables and
~8,600 probes, which pays only in segments of more than ~42 M hashes (at 80 M: ~12,000 candidates
against ~23,000 with m = 11).
`plan_substrings` chooses m for each segment from this cost model (a probe weighs `PROBE_COST`
candidates), and `probe_radii` spreads Σ (r_k + 1) = T + 1 over the tables greedily by marginal cost;
a segment whose probing would cost more than reading it whole is brute-forced instead.

Incremental adds (an LSM-style layout): hashes and ids live in append-only arrays. The newest rows
(fewer than `buffer_size`) are a buffer searched by brute force, so an added hash is searchable at
once. A full buffer is sealed into a segment with its own tables; the last segment is merged into the
one before it while that one is smaller than `merge_factor` times it, so segment sizes shrink
geometrically (O(log n) segments) and each hash is re-tabled O(log n) times.

Search is batched: a batch is cut into tasks that run on a thread pool (`threads`, default every core
this process may use); the Numba kernels release the GIL. A large batch (`TABLE_MAJOR_QUERIES`) is
searched table by table, one task per bucket table with every query sorted by that table's substring
(its probes then sweep the table nearly in order); a small one in chunks of queries. Results are sorted by query, then
distance, then id, so they do not depend on thread timing or on how the index was built.

Persistence: a directory of ``.npy`` files plus ``manifest.json``, written to a temporary sibling
directory and renamed into place; a failed save leaves the previous index untouched.

Adds (and saves) are serialised by a writer lock. A search takes a snapshot (arrays, row count, segment
list) and runs without any lock, seeing the index as it was when it started: an add writes only past the
count and builds a new segment aside, then publishes the new count or segment list in one step; rows
below the count and sealed segments are never modified, only replaced. Searches never wait for a merge.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from grace.errors import GraceError
from matching import kernels
from matching.pdq import DEFAULT_RADIUS, HASH_BITS, HASH_WORDS, as_words

FORMAT = "grace-pdq-index"
FORMAT_VERSION = 1
# Bucket tables of 2^26 + 1 uint32 (256 MB) at most. The cost model keeps 23-24 bits (m = 11) up to
# ~42 M hashes per segment and takes 25-26 (m = 10) beyond, where they measured 1.2-1.4x faster (docs/MATCHING.md).
MAX_SUBSTRING_BITS = 26
MIN_SUBSTRING_BITS = 8
PROBE_COST = 1.0  # one probed bucket costs about as much as one verified candidate (both a random read)
BRUTE_COST = 0.2  # one brute-forced row, relative to one candidate (sequential, in cache)
MAX_PROBES = 2**20  # beyond this modelled cost a segment is brute-forced (keeps the probe masks small)
MAX_ROWS_PER_SEGMENT = 2**32 - 1  # uint32 row numbers in the bucket tables
CHUNKS_PER_THREAD = 4  # query chunks per thread in a batched search (balances threads on a shared machine)
# From this many queries a batch is searched table by table: one task per bucket table, each with every
# query (sorted by its substring, the more queries the closer its probes); fewer go in chunks of queries.
TABLE_MAJOR_QUERIES = 1024


class MatchingError(GraceError, ValueError):
    """An invalid argument to the index (radius, ids, options)."""


class IndexFileError(GraceError):
    """A saved index directory is missing, incomplete or of another format; the message names the file."""


class Matches(NamedTuple):
    """Search results, one row per (query, indexed hash) pair within the radius.

    Sorted by `query_index`, then `distance`, then `id`.
    """

    query_index: np.ndarray  # int64: position of the query in the batch
    id: np.ndarray  # int64: the id given to `add`
    distance: np.ndarray  # int32: exact Hamming distance


@dataclass(frozen=True)
class Segment:
    """Rows [start, stop) of the index with one bucket table per substring."""

    start: int
    stop: int
    sub_offset: np.ndarray  # int64 (m,): first bit of each substring
    sub_length: np.ndarray  # int64 (m,): bits of each substring
    table_base: np.ndarray  # int64 (m + 1,): where table k's offsets start in `offsets`
    offsets: np.ndarray  # uint32: the m CSR offset arrays, concatenated
    order: np.ndarray  # uint32 (m, stop - start): rows relative to start, grouped by bucket
    occupied: np.ndarray  # uint8: one bit per entry of `offsets`, set when that bucket holds rows

    @property
    def size(self) -> int:
        return self.stop - self.start


def split_bits(parts: int) -> tuple[np.ndarray, np.ndarray]:
    """256 bits in `parts` contiguous substrings as equal as possible: (offsets, lengths)."""
    lengths = np.full(parts, HASH_BITS // parts, dtype=np.int64)
    lengths[: HASH_BITS % parts] += 1
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return offsets, lengths


def probe_radii(lengths: Sequence[int] | np.ndarray, rows: int, radius: int) -> tuple[np.ndarray, float]:
    """Per-table probe radii r_k with Σ (r_k + 1) = radius + 1, greedily by least added cost.

    Returns the radii (``int64``, -1 = table not probed) and the modelled cost of one query (in
    candidate-verifications).
    """
    lengths = [int(length) for length in lengths]
    radii = np.full(len(lengths), -1, dtype=np.int64)
    cost = 0.0
    for _ in range(radius + 1):
        best, best_cost = -1, math.inf
        for k, length in enumerate(lengths):
            reach = int(radii[k]) + 1
            if reach > length:
                continue
            added = math.comb(length, reach) * (PROBE_COST + rows / 2.0**length)
            if added < best_cost:
                best, best_cost = k, added
        if best < 0:  # every table probed whole: the radius exceeds what substrings can express
            return radii, math.inf
        radii[best] += 1
        cost += best_cost
    return radii, cost


@functools.lru_cache(maxsize=256)
def _masks(length: int, reach: int) -> np.ndarray:
    """Every `length`-bit mask with at most `reach` bits set, by number of bits set (read-only)."""
    masks = [
        sum(1 << bit for bit in bits)
        for flips in range(reach + 1)
        for bits in itertools.combinations(range(length), flips)
    ]
    array = np.array(masks, dtype=np.int64)
    array.flags.writeable = False
    return array


def probe_masks(
    lengths: Sequence[int] | np.ndarray, radii: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The masks each table is probed with, concatenated, and where each table's masks start."""
    parts = [_masks(int(length), int(reach)) for length, reach in zip(lengths, radii)]
    base = np.concatenate([[0], np.cumsum([len(part) for part in parts])]).astype(np.int64)
    return np.concatenate(parts), base


def plan_substrings(rows: int, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """The substring split (offsets, lengths) with the lowest modelled query cost for `rows` hashes.

    Candidate splits have substrings of MIN_SUBSTRING_BITS … MAX_SUBSTRING_BITS bits and tables of at
    most 2^b ≤ 4·rows buckets (no table much larger than the rows it holds).
    """
    best: tuple[float, int] | None = None
    for parts in range(math.ceil(HASH_BITS / MAX_SUBSTRING_BITS), HASH_BITS // MIN_SUBSTRING_BITS + 1):
        _, lengths = split_bits(parts)
        shortest = int(lengths.min())
        if shortest > MIN_SUBSTRING_BITS and 2**shortest > 4 * max(rows, 1):
            continue
        _, cost = probe_radii(lengths, rows, radius)
        if best is None or cost < best[0]:
            best = (cost, parts)
    parts = best[1] if best else HASH_BITS // MIN_SUBSTRING_BITS
    return split_bits(parts)


@functools.lru_cache(maxsize=1024)
def _segment_plan(lengths: tuple[int, ...], rows: int, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    probe, cost = probe_radii(lengths, rows, radius)
    if cost > BRUTE_COST * rows or cost > MAX_PROBES:
        return None
    masks, base = probe_masks(lengths, probe)
    return probe, masks, base  # shared by every search of such a segment: never written to


def _default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class PdqIndex:
    """Exact range search over 256-bit PDQ hashes (see the module docstring for the algorithm).

    >>> index = PdqIndex()                       # radius 31
    >>> index.add(ids, hashes)                   # int64 ids; hex strings or uint64 (n, 4) / uint8 (n, 32)
    >>> matches = index.search(queries)          # Matches(query_index, id, distance), sorted
    >>> index.save(path); PdqIndex.load(path)
    """

    def __init__(
        self,
        radius: int = DEFAULT_RADIUS,
        *,
        threads: int | None = None,
        buffer_size: int = 4096,
        merge_factor: int = 4,
        substrings: int | None = None,
    ):
        self.radius = _check_radius(radius)
        lowest, highest = math.ceil(HASH_BITS / MAX_SUBSTRING_BITS), HASH_BITS // MIN_SUBSTRING_BITS
        if substrings is not None and not lowest <= substrings <= highest:
            raise MatchingError(f"substrings must be from {lowest} to {highest} (or None: chosen per segment)")
        self.substrings = substrings
        if threads is not None and threads < 1:
            raise MatchingError(f"threads must be at least 1, got {threads}")
        if buffer_size < 1 or merge_factor < 2:
            raise MatchingError(f"buffer_size must be ≥ 1 and merge_factor ≥ 2, got {buffer_size} and {merge_factor}")
        self.threads = threads or _default_threads()
        self.buffer_size = buffer_size
        self.merge_factor = merge_factor
        self._hashes = np.empty((0, HASH_WORDS), dtype=np.uint64)
        self._ids = np.empty(0, dtype=np.int64)
        self._count = 0
        self._segments: list[Segment] = []
        self._writer = threading.Lock()  # one add (or save) at a time
        self._state = threading.Lock()  # what a search snapshots: arrays, count, segments

    # --- size and contents -------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    @property
    def hashes(self) -> np.ndarray:
        """The indexed hashes, ``uint64 (n, 4)``, in the order added (read-only view)."""
        view = self._hashes[: self._count]
        view.flags.writeable = False
        return view

    @property
    def ids(self) -> np.ndarray:
        """The ids, in the order added (read-only view)."""
        view = self._ids[: self._count]
        view.flags.writeable = False
        return view

    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(self._segments)

    @property
    def buffered(self) -> int:
        """Rows not yet in a segment's tables (searched by brute force)."""
        return self._count - (self._segments[-1].stop if self._segments else 0)

    def nbytes(self) -> int:
        """Memory held by the hashes, ids and bucket tables (the rows in use: room to grow is not written, so
        it takes no memory)."""
        return int(
            self._hashes[: self._count].nbytes
            + self._ids[: self._count].nbytes
            + sum(segment.offsets.nbytes + segment.order.nbytes + segment.occupied.nbytes for segment in self._segments)
        )

    # --- adding ----------------------------------------------------------------------------------

    def add(self, ids: object, hashes: object) -> None:
        """Append hashes with their ids (``int64``); they are searchable as soon as this returns."""
        words = as_words(hashes)
        id_array = np.asarray(ids)
        if id_array.ndim == 0:
            id_array = id_array.reshape(1)
        if id_array.ndim != 1 or (id_array.size and id_array.dtype.kind not in "iu"):
            raise MatchingError(f"ids must be a 1-d array of integers, got {id_array.dtype} {id_array.shape}")
        if id_array.dtype == np.uint64 and id_array.size and int(id_array.max()) > np.iinfo(np.int64).max:
            raise MatchingError("ids must fit in int64")
        if len(id_array) != len(words):
            raise MatchingError(f"{len(id_array)} ids for {len(words)} hashes")
        if not len(words):
            return
        with self._writer:
            self._append(id_array.astype(np.int64, copy=False), words)
            if self.buffered >= self.buffer_size:
                self._seal()

    def _append(self, ids: np.ndarray, words: np.ndarray) -> None:
        """Write the rows past the count (no search reads there), then publish the new count."""
        hashes, id_store, count = self._hashes, self._ids, self._count
        needed = count + len(words)
        if needed > len(hashes) or not hashes.flags.writeable or not id_store.flags.writeable:
            capacity = _grown_capacity(len(hashes) if count else 0, needed)
            hashes = np.empty((capacity, HASH_WORDS), dtype=np.uint64)
            hashes[:count] = self._hashes[:count]
            id_store = np.empty(capacity, dtype=np.int64)
            id_store[:count] = self._ids[:count]
        hashes[count:needed] = words
        id_store[count:needed] = ids
        with self._state:
            self._hashes, self._ids, self._count = hashes, id_store, needed

    def _seal(self) -> None:
        """Table the buffer as a segment (merging smaller segments into it), then publish the segment list."""
        start = self._segments[-1].stop if self._segments else 0
        segments = [*self._segments]
        while len(segments) >= 1 and segments[-1].size < self.merge_factor * (self._count - start):
            start = segments.pop().start  # merge: the new segment takes the smaller one's rows too
        segments.append(self._build(start, self._count))
        with self._state:
            self._segments = segments

    def _build(self, start: int, stop: int) -> Segment:
        if stop - start > MAX_ROWS_PER_SEGMENT:
            raise MatchingError(f"a segment holds at most {MAX_ROWS_PER_SEGMENT:,} hashes")
        parts = self.substrings or len(plan_substrings(stop - start, self.radius)[0])
        sub_offset, sub_length = split_bits(parts)
        table_base = np.concatenate([[0], np.cumsum((1 << sub_length) + 1)]).astype(np.int64)
        offsets = np.empty(int(table_base[-1]), dtype=np.uint32)
        order = np.empty((len(sub_offset), stop - start), dtype=np.uint32)

        def build(k: int) -> None:
            kernels.build_table(
                self._hashes,
                start,
                stop,
                int(sub_offset[k]),
                int(sub_length[k]),
                offsets[table_base[k] : table_base[k + 1]],
                order[k],
            )

        self._map(build, range(len(sub_offset)))
        occupied = kernels.occupied_buckets(offsets)
        return Segment(start, stop, sub_offset, sub_length, table_base, offsets, order, occupied)

    def extended(self, ids: object, hashes: object) -> PdqIndex:
        """A new index holding this one's rows and then these, built as `add` would build it; this one is unchanged.

        The new index shares this one's sealed segments and arrays: `add` writes only past the row count,
        which this index never reads, so it stays as it was. Lets a caller search rows it may still
        discard (an ETL batch before its commit) together with the committed ones in one pass, and keep
        the result, segments already built, if it commits. Adding to this index while the new one is in
        use would overwrite the new one's rows (the same place past the count): keep or drop it first.
        """
        fork = PdqIndex(
            self.radius,
            threads=self.threads,
            buffer_size=self.buffer_size,
            merge_factor=self.merge_factor,
            substrings=self.substrings,
        )
        with self._state:
            fork._hashes, fork._ids, fork._count, fork._segments = (
                self._hashes,
                self._ids,
                self._count,
                [*self._segments],
            )
        fork.add(ids, hashes)
        return fork

    # --- searching -------------------------------------------------------------------------------

    def search(self, hashes: object, radius: int | None = None) -> Matches:
        """Every indexed hash within `radius` (default: the index's) of each query, exactly.

        Returns `Matches` sorted by query index, distance, id.
        """
        queries = as_words(hashes)
        if not queries.flags.writeable:  # Numba types read-only arrays apart: one more compiled variant each
            queries = queries.copy()
        radius = self.radius if radius is None else _check_radius(radius)
        with self._state:  # a snapshot: rows below the count and sealed segments never change
            hashes_now, ids_now, count, segments = self._hashes, self._ids, self._count, self._segments
        plans = [self._plan(segment, radius) for segment in segments]
        buffer_start = segments[-1].stop if segments else 0
        chunk = max(16, math.ceil(len(queries) / (CHUNKS_PER_THREAD * self.threads)))
        starts = range(0, len(queries), chunk)
        by_table = len(queries) >= TABLE_MAJOR_QUERIES

        def run(chunk_queries: np.ndarray, tabled: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            """One chunk of queries against the brute-forced rows and, when `tabled`, the tabled segments."""
            parts = []
            for segment, probe in zip(segments, plans):
                if probe is None:
                    parts.append(kernels.search_brute(chunk_queries, hashes_now, segment.start, segment.stop, radius))
                elif tabled:
                    tables = len(segment.sub_length)
                    parts.append(_search_tables(chunk_queries, hashes_now, segment, probe, radius, 0, tables))
            if count > buffer_start:
                parts.append(kernels.search_brute(chunk_queries, hashes_now, buffer_start, count, radius))
            if not parts:
                return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32)
            query_index, rows, distance = (np.concatenate(column) for column in zip(*parts))
            return query_index, rows, distance

        # (first query, search): one task per bucket table with every query, or per chunk with every table
        tasks: list[tuple[int, Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]]]] = []
        if by_table:
            for segment, probe in zip(segments, plans):
                if probe is None:
                    continue
                for k in np.flatnonzero(probe[0] >= 0).tolist():
                    task = functools.partial(_search_tables, queries, hashes_now, segment, probe, radius, k, k + 1)
                    tasks.append((0, task))
        if not by_table or count > buffer_start or any(probe is None for probe in plans):
            tasks += [(i, functools.partial(run, queries[i : i + chunk], not by_table)) for i in starts]
        results = self._map(lambda task: task[1](), tasks)
        query_index = np.concatenate(
            [result[0] + first for (first, _), result in zip(tasks, results)] or [np.empty(0, np.int64)]
        )
        rows = np.concatenate([result[1] for result in results] or [np.empty(0, np.int64)])
        distance = np.concatenate([result[2] for result in results] or [np.empty(0, np.int32)])
        ids = ids_now[rows]
        order = np.lexsort((ids, distance, query_index))
        return Matches(query_index[order], ids[order], distance[order])

    @staticmethod
    def _plan(segment: Segment, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Probe radii and masks for a segment, or None where reading every row is cheaper."""
        return _segment_plan(tuple(int(length) for length in segment.sub_length), segment.size, radius)

    def _map(self, function, items) -> list:
        items = list(items)
        if self.threads == 1 or len(items) < 2:
            return [function(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.threads, len(items))) as pool:
            return list(pool.map(function, items))

    # --- persistence -----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the index to directory `path` atomically (temp directory, then rename).

        If anything fails, the directory already at `path` (a previous save) is left as it was.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._writer:
            temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
            try:
                self._write(temp)
                _fsync_dir(temp)
                if target.exists():
                    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                    old.rmdir()
                    os.replace(target, old)
                    os.replace(temp, target)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    os.replace(temp, target)
                _fsync_dir(target.parent)
            except BaseException:
                shutil.rmtree(temp, ignore_errors=True)
                raise

    def _write(self, directory: Path) -> None:
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "radius": self.radius,
            "count": self._count,
            "buffer_size": self.buffer_size,
            "merge_factor": self.merge_factor,
            "substrings": self.substrings,
            "segments": [
                {"start": s.start, "stop": s.stop, "substring_bits": [int(b) for b in s.sub_length]}
                for s in self._segments
            ],
        }
        _save_array(directory / "hashes.npy", self._hashes[: self._count])
        _save_array(directory / "ids.npy", self._ids[: self._count])
        for n, segment in enumerate(self._segments):
            _save_array(directory / f"segment-{n}-offsets.npy", segment.offsets)
            _save_array(directory / f"segment-{n}-order.npy", segment.order)
        with open(directory / "manifest.json", "w") as handle:
            json.dump(manifest, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())

    @classmethod
    def load(cls, path: str | os.PathLike, *, threads: int | None = None, mmap: bool = False) -> PdqIndex:
        """Read an index saved by `save`. With `mmap`, arrays are memory-mapped copy-on-write (the files never change)."""
        directory = Path(path)
        manifest_path = directory / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text())
        except FileNotFoundError:
            raise IndexFileError(f"{manifest_path}: no saved PDQ index here (manifest.json missing)") from None
        except (OSError, ValueError) as error:
            raise IndexFileError(f"{manifest_path}: unreadable manifest ({error})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise IndexFileError(f"{manifest_path}: not a {FORMAT} manifest")
        if manifest.get("version") != FORMAT_VERSION:
            raise IndexFileError(
                f"{manifest_path}: format version {manifest.get('version')}, expected {FORMAT_VERSION}"
            )
        try:
            index = cls(
                manifest["radius"],
                threads=threads,
                buffer_size=manifest["buffer_size"],
                merge_factor=manifest["merge_factor"],
                substrings=manifest["substrings"],
            )
            count = int(manifest["count"])
            mode = "c" if mmap else None  # copy-on-write: writable arrays, so the kernels need no read-only variant
            # Read into arrays with room to grow, as `_append` would grow them: the next batch's hashes then go
            # past the count instead of into a copy of every row (at 88 M hashes, 3.5 GB copied and held twice).
            spare = 0 if mmap else _grown_capacity(count, count) - count
            hashes = _load_array(directory / "hashes.npy", np.uint64, (count, HASH_WORDS), mode, spare)
            ids = _load_array(directory / "ids.npy", np.int64, (count,), mode, spare)
            segments, previous = [], 0
            for n, entry in enumerate(manifest["segments"]):
                start, stop = int(entry["start"]), int(entry["stop"])
                sub_offset, sub_length = split_bits(len(entry["substring_bits"]))
                if start != previous or stop <= start or stop > count or list(sub_length) != entry["substring_bits"]:
                    raise IndexFileError(f"{manifest_path}: segment {n} is inconsistent ({entry})")
                table_base = np.concatenate([[0], np.cumsum((1 << sub_length) + 1)]).astype(np.int64)
                offsets = _load_array(directory / f"segment-{n}-offsets.npy", np.uint32, (int(table_base[-1]),), mode)
                order = _load_array(
                    directory / f"segment-{n}-order.npy", np.uint32, (len(sub_length), stop - start), mode
                )
                ends = offsets[table_base[1:] - 1]
                if np.any(ends != stop - start):
                    raise IndexFileError(f"{directory / f'segment-{n}-offsets.npy'}: bucket tables do not add up")
                occupied = kernels.occupied_buckets(offsets)
                segments.append(Segment(start, stop, sub_offset, sub_length, table_base, offsets, order, occupied))
                previous = stop
        except (KeyError, TypeError, ValueError) as error:
            raise IndexFileError(f"{manifest_path}: malformed manifest ({error!r})") from None
        index._hashes, index._ids, index._count, index._segments = hashes, ids, count, segments
        return index


def _search_tables(
    queries: np.ndarray,
    hashes: np.ndarray,
    segment: Segment,
    probe: tuple[np.ndarray, np.ndarray, np.ndarray],
    radius: int,
    first_table: int,
    stop_table: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`kernels.search_tables` over one segment's tables [first_table, stop_table)."""
    return kernels.search_tables(
        queries,
        hashes,
        segment.start,
        segment.sub_offset,
        segment.sub_length,
        segment.table_base,
        segment.offsets,
        segment.occupied,
        segment.order,
        *probe,
        radius,
        first_table,
        stop_table,
    )


def _check_radius(radius: object) -> int:
    if isinstance(radius, bool) or not isinstance(radius, int | np.integer) or not 0 <= int(radius) <= HASH_BITS:
        raise MatchingError(f"radius must be an integer from 0 to {HASH_BITS}, got {radius!r}")
    return int(radius)


def _save_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())


def _grown_capacity(capacity: int, needed: int) -> int:
    """Rows to allocate when `needed` rows no longer fit in `capacity`: half as many again, so that adding
    batch after batch copies each row a bounded number of times."""
    return max(needed, capacity + capacity // 2)


def _load_array(path: Path, dtype, shape: tuple[int, ...], mode, spare_rows: int = 0) -> np.ndarray:
    """The array saved at `path`, checked against `dtype` and `shape`: memory-mapped with `mode`; else, with
    `spare_rows`, read into the first rows of a larger new array, which is returned whole (its last rows are
    uninitialised room to grow, taking no memory until written)."""
    try:
        if spare_rows and mode is None:
            return _read_with_spare_rows(path, np.dtype(dtype), shape, spare_rows)
        array = np.load(path, mmap_mode=mode, allow_pickle=False)
    except FileNotFoundError:
        raise IndexFileError(f"{path}: missing from the saved index") from None
    except (OSError, ValueError) as error:
        raise IndexFileError(f"{path}: unreadable ({error})") from None
    _check_array(path, array.dtype, array.shape, dtype, shape)
    return array


def _check_array(path: Path, found_dtype, found_shape: tuple[int, ...], dtype, shape: tuple[int, ...]) -> None:
    if found_dtype != dtype or tuple(found_shape) != shape:
        raise IndexFileError(f"{path}: expected {np.dtype(dtype)} {shape}, found {found_dtype} {tuple(found_shape)}")


def _read_with_spare_rows(path: Path, dtype: np.dtype, shape: tuple[int, ...], spare_rows: int) -> np.ndarray:
    """A `.npy` file of `dtype` and `shape` (C order, as `_save_array` writes) read into the first rows of a
    new array with `spare_rows` more."""
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        found_shape, fortran, found_dtype = read_header(handle)
        _check_array(path, found_dtype, found_shape, dtype, shape)
        if fortran and len(shape) > 1:
            raise IndexFileError(f"{path}: stored in Fortran order, expected C order")
        store = np.empty((shape[0] + spare_rows, *shape[1:]), dtype=dtype)
        target = store[: shape[0]].reshape(-1).view(np.uint8).data
        filled = 0
        while filled < len(target):  # one read(2) returns at most ~2 GB
            got = handle.readinto(target[filled:])
            if not got:
                raise IndexFileError(f"{path}: the file ends after {filled:,} of {len(target):,} bytes of data")
            filled += got
    return store


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
