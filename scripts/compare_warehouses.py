"""Compare two warehouse files table by table: row counts and a content checksum per table.

Used to check that a change to the ETL leaves what it builds unchanged: load the same inputs into two
new warehouses, one with the code before and one with the code after, then

    .venv/bin/python scripts/compare_warehouses.py before.duckdb after.duckdb

For every table of either warehouse it prints the row count and `sum(hash(row))` on both sides (an
order-independent checksum of the rows as multisets) and whether they agree; the exit status is 1 when
any table differs or exists on one side only. Columns that record when or how fast a run went (wall
clock times, durations, the code version) differ between any two runs and are left out of the
checksum; `--ignore TABLE.COLUMN` leaves out more, `--no-default-ignores` none.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

# Columns that differ between two runs of the same code on the same inputs (or name the code's commit).
DEFAULT_IGNORES = (
    "etl_batch.started_at",
    "etl_batch.finished_at",
    "etl_batch.duration_seconds",
    "etl_batch.stage_seconds",
    "etl_batch.code_version",
    "perceptual_merge.merged_at",
    "analytics_run.created_at",
    "analytics_run.seconds",
    "analytics_run.code_version",
    "triage_run.started_at",
    "triage_run.seconds",
)


def quoted(identifier: str) -> str:
    """A DuckDB identifier in double quotes (names come from the catalogue, never from data)."""
    return '"' + identifier.replace('"', '""') + '"'


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Table name → column names, for the base tables of the main schema."""
    found: dict[str, list[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name IN "
        "(SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE') "
        "ORDER BY table_name, ordinal_position"
    ).fetchall():
        found.setdefault(table, []).append(column)
    return found


def checksum(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> tuple[int, int]:
    """(rows, sum of the hashes of the rows over `columns`) of `table`."""
    if not columns:
        row = con.execute(f"SELECT count(*), 0 FROM {quoted(table)}").fetchone()
    else:
        selected = ", ".join(quoted(column) for column in columns)
        row = con.execute(
            f"SELECT count(*), coalesce(sum(hash(s)), 0) FROM (SELECT {selected} FROM {quoted(table)}) AS s"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def compare(before: Path, after: Path, ignores: set[str]) -> bool:
    """Print one line per table; True when every table agrees."""
    left = duckdb.connect(str(before), read_only=True)
    right = duckdb.connect(str(after), read_only=True)
    left_tables, right_tables = tables(left), tables(right)
    same = True
    print(f"{'table':32} {'rows before':>12} {'rows after':>12}  checksum")
    for table in sorted(set(left_tables) | set(right_tables)):
        if table not in left_tables or table not in right_tables:
            print(f"{table:32} only in {'after' if table in right_tables else 'before'}")
            same = False
            continue
        if left_tables[table] != right_tables[table]:
            print(f"{table:32} columns differ: {left_tables[table]} vs {right_tables[table]}")
            same = False
            continue
        columns = [c for c in left_tables[table] if f"{table}.{c}" not in ignores]
        rows_left, sum_left = checksum(left, table, columns)
        rows_right, sum_right = checksum(right, table, columns)
        agree = (rows_left, sum_left) == (rows_right, sum_right)
        same &= agree
        skipped = [c for c in left_tables[table] if c not in columns]
        note = f" (without {', '.join(skipped)})" if skipped else ""
        print(f"{table:32} {rows_left:>12,} {rows_right:>12,}  {'same' if agree else 'DIFFERENT'}{note}")
    left.close()
    right.close()
    print("warehouses are the same" if same else "warehouses DIFFER")
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path, help="warehouse file built with the code before")
    parser.add_argument("after", type=Path, help="warehouse file built with the code after")
    parser.add_argument("--ignore", action="append", default=[], metavar="TABLE.COLUMN", help="leave out a column")
    parser.add_argument("--no-default-ignores", action="store_true", help="compare the run-time columns too")
    args = parser.parse_args()
    ignores = set(args.ignore) | (set() if args.no_default_ignores else set(DEFAULT_IGNORES))
    sys.exit(0 if compare(args.before, args.after, ignores) else 1)


if __name__ == "__main__":
    main()
