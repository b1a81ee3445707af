"""Compare `PdqIndex.search` of a base commit (old) with this tree's (new): exact equality and timings.

For each index size: seeded data as in `benchmarks/matching.py` (uniform random 256-bit hashes plus
near-duplicates, copies with 0–45 bits flipped; queries are indexed hashes, fresh variants and
unrelated hashes). Then old and new run alternately (old, new, old, new, …), each in its own
interpreter so neither warms the other's caches or compiles inside the other's clock: build the index,
search every query once untimed (page faults, compilation), then time one batched search (wall and
CPU seconds) and `SINGLE` one-query searches. Every run's `Matches` must equal the first old run's array for array (values and dtypes).

The old code is `git archive`d from the base commit into a temporary directory and imported from there.

    PYTHONPATH=. .venv/bin/python scripts/compare_pdq_search.py [--base HEAD~1] [--hashes 900000 3000000]
        [--add-batch 100003]  # built in batches: several segments and a brute-forced buffer
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SINGLE = 2000  # single-query searches timed after the batch


def make_data(directory: Path, hashes: int, queries: int, seed: int) -> None:
    """Indexed hashes (70 % random, 30 % variants) and queries (30 % indexed, 40 % fresh variants, 30 % random)."""
    sys.path.insert(0, str(REPO))
    from benchmarks.matching import variants_of

    rng = np.random.default_rng(seed)
    variants = int(hashes * 0.3)
    background = hashes - variants
    data = np.empty((hashes, 4), dtype=np.uint64)
    data[:background] = rng.integers(0, 2**64, size=(background, 4), dtype=np.uint64)
    data[background:] = variants_of(rng, data[rng.integers(0, background, size=variants)])
    data = data[rng.permutation(hashes)]
    indexed, fresh = int(queries * 0.3), int(queries * 0.4)
    query = np.vstack(
        [
            data[rng.integers(0, hashes, size=indexed)],
            variants_of(rng, data[rng.integers(0, hashes, size=fresh)]),
            rng.integers(0, 2**64, size=(queries - indexed - fresh, 4), dtype=np.uint64),
        ]
    )
    np.save(directory / "hashes.npy", data)
    np.save(directory / "queries.npy", query[rng.permutation(queries)])


def run_one(directory: Path, label: str, threads: int, add_batch: int) -> None:
    """In a child interpreter: build, search untimed, search timed; write the result and the timings."""
    import matching
    from matching import PdqIndex

    hashes = np.load(directory / "hashes.npy")
    queries = np.load(directory / "queries.npy")
    index = PdqIndex(31, threads=threads)
    step = add_batch or len(hashes)
    for start in range(0, len(hashes), step):  # in batches: several segments and a buffer, as in the ETL
        index.add(np.arange(start, min(start + step, len(hashes)), dtype=np.int64), hashes[start : start + step])
    index.search(queries)  # compile, fault every page in
    wall, cpu = time.perf_counter(), time.process_time()
    found = index.search(queries)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    np.savez(directory / f"{label}.npz", query_index=found.query_index, id=found.id, distance=found.distance)
    single_wall, single_cpu = time.perf_counter(), time.process_time()
    for row in queries[:SINGLE]:  # one look-up at a time: the latency path (no table-major batch)
        index.search(row[None])
    single_wall, single_cpu = time.perf_counter() - single_wall, time.process_time() - single_cpu
    timing = {"wall": wall, "cpu": cpu, "single_wall": single_wall, "single_cpu": single_cpu}
    print(
        json.dumps(
            timing
            | {
                "pairs": len(found.id),
                "segments": len(index.segments),
                "buffered": index.buffered,
                "code": matching.__file__,
            }
        )
    )


def spawn(tree: Path, directory: Path, label: str, threads: int, add_batch: int) -> dict:
    """Run `run_one` with `tree` first on the import path (its `matching` package wins)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "NUMBA_NUM_THREADS": str(threads)}
    command = [sys.executable, str(REPO / "scripts" / "compare_pdq_search.py"), "--child", str(directory), label]
    command += ["--threads", str(threads), "--add-batch", str(add_batch)]
    out = subprocess.run(command, env=env, cwd=tree, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def same(directory: Path, first: str, other: str) -> bool:
    """Whether two runs' result arrays are identical (values, order and dtypes)."""
    a, b = np.load(directory / f"{first}.npz"), np.load(directory / f"{other}.npz")
    return all(a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]) for key in a.files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="HEAD", help="commit of the old code")
    parser.add_argument("--hashes", type=int, nargs="+", default=[900_000, 3_000_000])
    parser.add_argument("--queries", type=int, default=60_000)
    parser.add_argument("--rounds", type=int, default=2, help="old/new pairs per size")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--add-batch", type=int, default=0, help="add the hashes this many at a time (0: at once)")
    parser.add_argument("--child", nargs=2, metavar=("DIR", "LABEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(Path(args.child[0]), args.child[1], args.threads, args.add_batch)
        return
    with tempfile.TemporaryDirectory(prefix="pdq-compare-") as temp:
        old_tree = Path(temp) / "old"
        old_tree.mkdir()
        archive = subprocess.run(["git", "archive", args.base], cwd=REPO, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        failures = 0
        for hashes in args.hashes:
            directory = Path(temp) / f"data-{hashes}"
            directory.mkdir()
            make_data(directory, hashes, args.queries, args.seed)
            for round_ in range(args.rounds):
                for label, tree in (("old", old_tree), ("new", REPO)):
                    name = f"{label}-{round_}"
                    timing = spawn(tree, directory, name, args.threads, args.add_batch)
                    equal = same(directory, "old-0", name)
                    failures += not equal
                    print(
                        f"{hashes:>10,} hashes {args.queries:,} queries {name}: "
                        f"wall {timing['wall']:.3f} s, cpu {timing['cpu']:.3f} s, "
                        f"{args.queries / timing['wall']:,.0f} look-ups/s, {timing['pairs']:,} pairs; "
                        f"{SINGLE} single look-ups: wall {timing['single_wall']:.3f} s, "
                        f"cpu {timing['single_cpu']:.3f} s; "
                        f"segments {timing['segments']}, buffered {timing['buffered']}, identical to old-0: {equal} ({timing['code']})",
                        flush=True,
                    )
        if failures:
            raise SystemExit(f"{failures} run(s) differ from the old search")
        print("all runs identical")


if __name__ == "__main__":
    main()
