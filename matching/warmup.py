"""Compile the PDQ search kernels ahead of the first real search, into Numba's on-disk cache.

Numba compiles a kernel the first time it runs with a given argument signature and, with `cache=True`, keeps
the machine code beside the source (`matching/__pycache__/*.nbc`). A fresh clone has none, so without this the
first ETL batch (the demo's, when `python app.py` starts with nothing configured) spends several seconds
compiling before it can match. `compile_kernels` drives a small index through every path the ETL takes — a
tabled segment and the brute-forced buffer, a search in chunks and one table by table, an extended index, an
index saved and loaded — so each kernel meets the argument types it meets in use. Setup runs it once
(`grace compile`); later processes load the cached code.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from matching.index import TABLE_MAJOR_QUERIES, PdqIndex
from matching.pdq import HASH_WORDS

SEGMENT_ROWS = 4096  # enough rows for a tabled segment (probing beats reading the segment whole)
BUFFER_ROWS = 64  # rows left in the buffer, searched by brute force


def compile_kernels() -> None:
    """Run every PDQ search kernel once on random hashes (seeded), compiling or loading each from the cache."""
    rng = np.random.default_rng(0)
    words = rng.integers(0, np.iinfo(np.uint64).max, size=(SEGMENT_ROWS + 2 * BUFFER_ROWS, HASH_WORDS), dtype=np.uint64)
    ids = np.arange(len(words), dtype=np.int64)
    index = PdqIndex(threads=1, buffer_size=SEGMENT_ROWS)
    index.add(ids[:SEGMENT_ROWS], words[:SEGMENT_ROWS])  # sealed into a segment with bucket tables
    index.add(ids[SEGMENT_ROWS:-BUFFER_ROWS], words[SEGMENT_ROWS:-BUFFER_ROWS])  # stays in the buffer
    queries = words[:TABLE_MAJOR_QUERIES]
    index.search(queries[:1])  # in chunks: every table, then the buffer
    index.search(queries)  # table by table
    staged = index.extended(ids[-BUFFER_ROWS:], words[-BUFFER_ROWS:])
    staged.search(queries[:1])
    with tempfile.TemporaryDirectory(prefix="grace-compile-") as folder:
        staged.save(Path(folder) / "index")
        PdqIndex.load(Path(folder) / "index").search(queries[:1])
