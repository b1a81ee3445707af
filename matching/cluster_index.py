"""The near-duplicate index of a warehouse's media clusters, kept beside the warehouse file.

The warehouse is the truth: `perceptual_member.pdq_slot` numbers every indexed PDQ (0, 1, 2, … in the
order batches committed them) and `media_cluster.pdq` holds the hash. The index on disk is a cache of
that truth, in `<warehouse>.pdq-index/`:

- `snapshot/`: a whole `PdqIndex` (ids = slots), written now and then (`compact`);
- `journal/<first slot>-<rows>.npy`: the hashes each committed batch added after the snapshot, one
  small file per batch, written right after the batch's commit.

`ClusterIndex.open` loads the snapshot, replays the journal files that continue it, and then checks
the result against the warehouse: rows the warehouse has and the files lack (a crash between commit
and journal write) are read from the warehouse and added; an index that runs ahead of the warehouse or
disagrees with it (a restored backup, a rolled-back batch whose files were written by mistake) is
rebuilt from the warehouse. So a rolled-back batch leaves no trace, and new hashes are searchable as
soon as their batch commits (`added`, called after the commit, puts them in memory and in the journal).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from grace.progress import ProgressCallback, no_progress
from matching.index import IndexFileError, Matches, PdqIndex
from matching.pdq import as_words, parse_hex
from warehouse import read_sql

SNAPSHOT, JOURNAL = "snapshot", "journal"
# Replaying many journal files is slow and wasteful: past this many journalled rows (or this share of
# the snapshot), `compact` writes a new snapshot.
COMPACT_ROWS, COMPACT_SHARE = 250_000, 0.25
CATCH_UP_CHUNK = 500_000


def index_directory(con: duckdb.DuckDBPyConnection) -> Path | None:
    """`<warehouse file>.pdq-index` for a file warehouse; None for an in-memory one (nothing persisted)."""
    found = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    if not found or not found[0]:
        return None
    return Path(found[0] + ".pdq-index")


@dataclass(frozen=True)
class StagedRows:
    """A batch's hashes staged on top of the committed index (`ClusterIndex.staged`), not yet committed.

    `index` holds the rows of `base` (the committed index it was made from) and then `words` at slots
    `first_slot …`; `base` is unchanged.
    """

    base: PdqIndex
    index: PdqIndex
    first_slot: int
    words: np.ndarray

    def search(self, hashes: object) -> Matches:
        """Every committed or staged PDQ within the radius of each query (ids are slots; see `PdqIndex.search`)."""
        return self.index.search(hashes)


class ClusterIndex:
    """A `PdqIndex` over the warehouse's indexed PDQ hashes (id = `pdq_slot`), synchronised with it."""

    def __init__(self, index: PdqIndex, directory: Path | None, journalled: int = 0):
        self.index = index
        self.directory = directory
        self.journalled = journalled  # rows in journal files (not in the snapshot)
        self.rebuilt = False

    def __len__(self) -> int:
        return len(self.index)

    @property
    def radius(self) -> int:
        return self.index.radius

    @classmethod
    def open(
        cls,
        con: duckdb.DuckDBPyConnection,
        radius: int,
        *,
        directory: Path | str | None = "beside",
        progress: ProgressCallback = no_progress,
        read_only: bool = False,
    ) -> ClusterIndex:
        """The index of the warehouse on `con`, as of its last commit (see the module docstring). With
        `read_only` nothing is written beside the warehouse (a rebuilt index stays in memory)."""
        where = index_directory(con) if directory == "beside" else (Path(directory) if directory else None)
        committed = _committed_slots(con)
        loaded = _load_files(where, radius) if where is not None else None
        if loaded is not None and (len(loaded.index) > committed or not _agrees(con, loaded.index)):
            loaded = None  # ahead of the warehouse or not its index: rebuild
        if loaded is None:
            loaded = cls(PdqIndex(radius), where)
            loaded.rebuilt = where is not None
        loaded._catch_up(con, committed, progress)
        if read_only:
            loaded.directory = None
        elif loaded.rebuilt and where is not None:
            loaded.compact(force=True)
        return loaded

    def search(self, hashes: object) -> Matches:
        """Every indexed PDQ within the radius of each query, distances exact (ids are slots)."""
        return self.index.search(hashes)

    def staged(self, hashes: object) -> StagedRows:
        """The index with `hashes` added at the next slots, searchable now; this index is unchanged.

        For a batch before its commit: one search of the staged index finds each new hash's matches among
        the earlier hashes and among the batch's own at once (one probe per bucket table instead of two).
        After the commit, `adopt` keeps it, so its bucket tables are not built a second time.
        """
        words = as_words(hashes)
        first_slot = len(self.index)
        slots = np.arange(first_slot, first_slot + len(words), dtype=np.int64)
        index = self.index.extended(slots, words) if len(words) else self.index
        return StagedRows(self.index, index, first_slot, words)

    def adopt(self, staged: StagedRows) -> None:
        """Record a committed batch's staged hashes: the staged index replaces this one, then the journal.

        Falls back to adding the hashes again when the index changed since `staged` (not its base)."""
        if staged.base is not self.index or len(self.index) != staged.first_slot:
            self.added(staged.first_slot, staged.words)
            return
        if not len(staged.words):
            return
        self.index = staged.index
        self._journal(staged.first_slot, staged.words)

    def added(self, first_slot: int, hashes: object) -> None:
        """Record hashes a committed batch gave slots `first_slot …`: in memory, then in the journal."""
        words = as_words(hashes)
        if not len(words):
            return
        if first_slot != len(self.index):
            raise IndexFileError(f"slots must continue the index: got {first_slot}, index holds {len(self.index)}")
        self.index.add(np.arange(first_slot, first_slot + len(words), dtype=np.int64), words)
        self._journal(first_slot, words)

    def _journal(self, first_slot: int, words: np.ndarray) -> None:
        """Write the hashes given slots `first_slot …` to the journal (compacting it when it has grown)."""
        if self.directory is None:
            return
        journal = self.directory / JOURNAL
        journal.mkdir(parents=True, exist_ok=True)
        _write_atomically(journal / f"{first_slot:012d}-{len(words)}.npy", words)
        self.journalled += len(words)
        self.compact()

    def compact(self, force: bool = False) -> bool:
        """Write a new snapshot and drop the journal when the journal has grown (or `force`)."""
        if self.directory is None:
            return False
        snapshot_rows = len(self.index) - self.journalled
        if not force and self.journalled < max(COMPACT_ROWS, COMPACT_SHARE * snapshot_rows):
            return False
        self.index.save(self.directory / SNAPSHOT)
        shutil.rmtree(self.directory / JOURNAL, ignore_errors=True)
        self.journalled = 0
        return True

    def _catch_up(self, con: duckdb.DuckDBPyConnection, committed: int, progress: ProgressCallback) -> None:
        """Add the warehouse's indexed hashes from the index's end to `committed`, in slot order."""
        start = len(self.index)
        if start >= committed:
            return
        query = read_sql("matching/indexed_hashes.sql")
        for low in range(start, committed, CATCH_UP_CHUNK):
            progress("Indexing PDQ hashes", low - start, committed - start)
            high = min(low + CATCH_UP_CHUNK, committed)
            slots, hexes = _columns(con.execute(query, {"low": low, "high": high}).fetchnumpy())
            if len(slots) != high - low or (len(slots) and (slots[0] != low or slots[-1] != high - 1)):
                raise IndexFileError(f"perceptual_member: PDQ slots {low}…{high - 1} are not contiguous")
            self.index.add(slots, parse_hex(hexes))
            self.journalled += len(slots)
        progress("Indexing PDQ hashes", committed - start, committed - start)


def _columns(found: dict) -> tuple[np.ndarray, list[str]]:
    return np.asarray(found["pdq_slot"], dtype=np.int64), [str(value) for value in found["pdq"]]


def _committed_slots(con: duckdb.DuckDBPyConnection) -> int:
    """How many PDQs the warehouse has indexed (slots are 0 … n-1)."""
    found = con.execute("SELECT coalesce(max(pdq_slot) + 1, 0) FROM perceptual_member").fetchone()
    return int(found[0]) if found else 0


def _agrees(con: duckdb.DuckDBPyConnection, index: PdqIndex) -> bool:
    """Spot-check that the index holds the warehouse's hashes: its first and last slots match."""
    if not len(index):
        return True
    probes = sorted({0, len(index) // 2, len(index) - 1})
    found = dict(
        con.execute(
            "SELECT pm.pdq_slot, mc.pdq FROM perceptual_member AS pm JOIN media_cluster AS mc USING (cluster_id) "
            "WHERE pm.pdq_slot IN (SELECT unnest($slots))",
            {"slots": probes},
        ).fetchall()
    )
    if set(found) != set(probes):
        return False
    ids = index.ids
    return all(int(ids[slot]) == slot for slot in probes) and bool(
        np.array_equal(index.hashes[probes], parse_hex([found[slot] for slot in probes]))
    )


def _load_files(directory: Path, radius: int) -> ClusterIndex | None:
    """Snapshot plus the journal files that continue it; None when nothing usable is there."""
    snapshot = directory / SNAPSHOT
    try:
        index = PdqIndex.load(snapshot) if (snapshot / "manifest.json").exists() else PdqIndex(radius)
    except IndexFileError:
        return None
    if index.radius != radius:
        return None
    loaded = ClusterIndex(index, directory)
    for path in sorted((directory / JOURNAL).glob("*.npy")) if (directory / JOURNAL).is_dir() else []:
        first, _, rows = path.stem.partition("-")
        if not (first.isdigit() and rows.isdigit()):
            continue
        if int(first) + int(rows) <= len(index):
            continue  # already in the snapshot
        if int(first) != len(index):
            break  # a gap: the warehouse fills in the rest
        try:
            words = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            break
        if words.shape != (int(rows), 4) or words.dtype != np.uint64:
            break
        index.add(np.arange(int(first), int(first) + int(rows), dtype=np.int64), words)
        loaded.journalled += int(rows)
    return loaded


def _write_atomically(path: Path, array: np.ndarray) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            np.save(out, array, allow_pickle=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
