"""ETL profile by SQL statement: which of the ETL's statements take the time when it loads deliveries into a
given warehouse — to see, at 100 M referrals, which ones read whole large tables.

It loads the deliveries in --exports into --warehouse itself (in place: use a copy or a replica you can
change) in this process, through the same `run_batches` as `grace etl run`, with the connection wrapped so that
every statement is timed. Each statement is named by the file of `sql/` it was read from (the longest file
whose text it holds; a statement built in code is named by its first words). Prints the statements by total
seconds over the batches, with their share of the run, and the time outside SQL (the PDQ search, Python).
The HMAC key comes from GRACE_HMAC_KEY, as for `grace etl run`.

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

from etl.runner import run_batches  # noqa: E402
from etl.sources import discover_batches  # noqa: E402
from grace.config import load_pseudonym_key  # noqa: E402
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
    args = parser.parse_args()
    if not args.warehouse.is_file():
        parser.error(f"--warehouse {args.warehouse}: no such file")
    batches = discover_batches(args.exports)
    if not batches:
        parser.error(f"--exports {args.exports}: no deliveries found")
    seconds: dict[str, float] = {}
    calls: dict[str, int] = {}
    con = connect(args.warehouse)
    try:
        started = time.perf_counter()
        summary = run_batches(
            TimedConnection(con, StatementNamer(), seconds, calls), batches, load_pseudonym_key(create=False)
        )  # type: ignore[arg-type]
        wall = time.perf_counter() - started
    finally:
        con.close()
    if not summary.ok:
        raise SystemExit(f"batches failed: {summary.failures}")
    referrals = summary.total("referrals_loaded")
    print(
        f"{referrals:,} referrals in {len(batches)} batch(es), {wall:.1f} s ({wall / max(referrals, 1) * 1e6:.0f} µs each)"
    )
    print(report(seconds, calls, wall, args.top))
    if args.json:
        args.json.write_text(
            json.dumps({"wall_s": wall, "referrals": referrals, "seconds": seconds, "calls": calls}, indent=2)
        )


if __name__ == "__main__":
    main()
