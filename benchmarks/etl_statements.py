"""ETL profile by SQL statement: which of the ETL's statements take the time when it loads deliveries into a
given warehouse — to see, at 100 M referrals, which ones read whole large tables.

It loads the deliveries in --exports into --warehouse itself (in place: use a copy or a replica you can
change) in this process, through the same `run_batches` as `grace etl run`, with the connection wrapped so that
every statement is timed. Each statement is named by the file of `sql/` it was read from (the longest file
whose text it holds; a statement built in code is named by its first words). Prints the statements by total
seconds over the batches, with their share of the run, and the time outside SQL (the PDQ search, Python);
then the matching stage's parts, timed as `benchmarks/etl.py` times them (each with its own SQL), which tell
the PDQ search from the staging of the batch's hashes, the union-find and the writes.
The HMAC key comes from GRACE_HMAC_KEY, as for `grace etl run`.

With --roll-back every batch runs all its stages and is then rolled back (the pipeline's fault-injection hook
after the last stage), so the warehouse and the index beside it stay as they were: two trees can then be
profiled on the same warehouse and the same deliveries, one after the other (run this script from each).
With --relay-index K as well, the index is first rebuilt in memory as one segment of K bucket tables (0: as
many as the cost model chooses), so two layouts of the same index can be compared the same way.

    GRACE_HMAC_KEY=… .venv/bin/python benchmarks/etl_statements.py --warehouse /work/bench100m/warehouse.duckdb \\
        --exports /work/sim-2034q1/exports --top 25
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.etl import install_timer, install_timers  # noqa: E402
from classification.scoring import Scorer  # noqa: E402
from etl.pipeline import STAGES, InjectedFailure, Matching, PipelineOptions, run_batch  # noqa: E402
from etl.runner import run_batches  # noqa: E402
from etl.sources import discover_batches  # noqa: E402
from grace.config import load_pseudonym_key  # noqa: E402
from matching.cluster_index import ClusterIndex  # noqa: E402
from matching.index import PdqIndex  # noqa: E402
from warehouse import connect  # noqa: E402

SQL_DIR = REPO / "sql"
MIN_FILE_CHARS = 40  # shorter files could be found inside unrelated statements


class StatementNamer:
    """Names a statement by the longest `sql/` file whose text (comments included) it holds."""

    def __init__(self, root: Path = SQL_DIR):
        texts = {str(path.relative_to(root)): path.read_text().strip() for path in sorted(root.rglob("*.sql"))}
        self.files = sorted(
            ((name, text) for name, text in texts.items() if len(text) >= MIN_FILE_CHARS),
            key=lambda item: -len(item[1]),
        )
        self.known: dict[str, str] = {}

    def __call__(self, sql: str) -> str:
        if sql not in self.known:
            found = next((name for name, text in self.files if text in sql), None)
            self.known[sql] = found or "code: " + " ".join(sql.split()[:6])
        return self.known[sql]


class TimedConnection:
    """A DuckDB connection whose `execute` adds its seconds to `seconds[name of the statement]`."""

    def __init__(self, con, namer: StatementNamer, seconds: dict[str, float], calls: dict[str, int]):
        self._con, self._namer, self._seconds, self._calls = con, namer, seconds, calls

    def execute(self, sql, parameters=None):
        started = time.perf_counter()
        result = self._con.execute(sql, parameters) if parameters is not None else self._con.execute(sql)
        name = self._namer(sql)
        self._seconds[name] = self._seconds.get(name, 0.0) + time.perf_counter() - started
        self._calls[name] = self._calls.get(name, 0) + 1
        return result

    def __getattr__(self, attribute):
        return getattr(self._con, attribute)


def run_rolled_back(con, batches, key, matching: Matching) -> int:
    """Run every stage of each batch and roll it back (`PipelineOptions.fail_at` the last stage): nothing
    changes. Returns the batches run."""
    scorer = Scorer.active(con)
    last_stage = PipelineOptions(fail_at=STAGES[-1])
    for batch in batches:
        try:
            run_batch(con, batch, key, last_stage, matching, scorer)
        except InjectedFailure:
            continue
        raise SystemExit(f"{batch.path}: the batch was not rolled back (is it loaded already?)")
    return len(batches)


def relay(cluster: ClusterIndex, substrings: int) -> None:
    """Rebuild `cluster`'s index in memory as one segment with `substrings` bucket tables (0: the cost
    model's choice); segments built later (a batch's) are planned as usual. The old tables are let go
    first: at 100 M referrals the two sets would not fit in memory together."""
    old = cluster.index
    hashes, ids = old.hashes, old.ids  # views: they keep the arrays, not the tables
    fresh = PdqIndex(
        old.radius,
        threads=old.threads,
        buffer_size=old.buffer_size,
        merge_factor=old.merge_factor,
        substrings=substrings or None,
    )
    cluster.index = fresh
    del old
    fresh.add(ids, hashes)
    fresh.substrings = None


def report_matching(parts: dict[str, float]) -> str:
    """The matching stage's parts (`benchmarks/etl.py`'s timers), their SQL included: what of the time outside
    SQL is the PDQ search and what is the Python around it."""
    lines = ["| matching part (its SQL included) | seconds |", "|---|---:|"]
    lines += [f"| {name} | {total:.1f} |" for name, total in sorted(parts.items())]
    return "\n".join(lines)


def report(seconds: dict[str, float], calls: dict[str, int], wall: float, top: int) -> str:
    """The statements by total seconds, their calls and share of the wall time, and the time outside SQL."""
    in_sql = sum(seconds.values())
    lines = ["| statement | calls | seconds | share of the run |", "|---|---:|---:|---:|"]
    for name, total in sorted(seconds.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"| `{name}` | {calls[name]} | {total:.1f} | {total / wall:.1%} |")
    lines.append(f"| outside SQL (PDQ search, Python) | – | {wall - in_sql:.1f} | {(wall - in_sql) / wall:.1%} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="the warehouse to load into (changed)")
    parser.add_argument("--exports", type=Path, required=True, help="the deliveries to load")
    parser.add_argument("--top", type=int, default=25, help="statements to list [25]")
    parser.add_argument("--json", type=Path, help="also write every statement's seconds and calls here")
    parser.add_argument(
        "--roll-back", action="store_true", help="roll every batch back after its last stage: nothing changes"
    )
    parser.add_argument(
        "--relay-index",
        type=int,
        metavar="K",
        help="with --roll-back: first rebuild the index in memory as one segment of K bucket tables (0: the "
        "cost model's choice), to compare index layouts",
    )
    args = parser.parse_args()
    if args.relay_index is not None and not args.roll_back:
        parser.error("--relay-index needs --roll-back (the index would be journalled after a real batch)")
    if not args.warehouse.is_file():
        parser.error(f"--warehouse {args.warehouse}: no such file")
    batches = discover_batches(args.exports)
    if not batches:
        parser.error(f"--exports {args.exports}: no deliveries found")
    seconds: dict[str, float] = {}
    calls: dict[str, int] = {}
    matching_parts: dict[str, float] = {}
    install_timers(matching_parts)
    install_timer("etl.pipeline", "cluster_pending", "match (the whole stage's matching call)", matching_parts)
    con = connect(args.warehouse)
    timed, key = TimedConnection(con, StatementNamer(), seconds, calls), load_pseudonym_key(create=False)
    try:
        if args.roll_back:  # the index is opened before the clock starts (a run's first batch pays it)
            opened = time.perf_counter()
            matching = Matching.open(con)
            if args.relay_index is not None:
                relay(matching.index, args.relay_index)
                tables = [len(segment.sub_length) for segment in matching.index.index.segments]
                print(f"index rebuilt as segments of {tables} bucket tables")
            print(f"near-duplicate index opened in {time.perf_counter() - opened:.1f} s (not in the profile)")
        started = time.perf_counter()
        if args.roll_back:
            run_rolled_back(timed, batches, key, matching)
        else:
            summary = run_batches(timed, batches, key)  # type: ignore[arg-type]
        wall = time.perf_counter() - started
    finally:
        con.close()
    referrals = None
    if args.roll_back:
        print(f"{len(batches)} batch(es) run and rolled back, {wall:.1f} s")
    else:
        if not summary.ok:
            raise SystemExit(f"batches failed: {summary.failures}")
        referrals = summary.total("referrals_loaded")
        print(
            f"{referrals:,} referrals in {len(batches)} batch(es), {wall:.1f} s "
            f"({wall / max(referrals, 1) * 1e6:.0f} µs each)"
        )
    print(report(seconds, calls, wall, args.top))
    print(report_matching(matching_parts))
    if args.json:
        record = {"wall_s": wall, "referrals": referrals, "seconds": seconds, "calls": calls}
        args.json.write_text(json.dumps({**record, "matching_parts": matching_parts}, indent=2))


if __name__ == "__main__":
    main()
