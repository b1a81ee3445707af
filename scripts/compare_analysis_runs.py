"""Compare the stored results of two `grace analyse` runs, table by table (issue 14: speed-ups keep results).

Every `analytics_*` table keyed by `run_id` (trends, change points, anomalies, forecasts and their
candidates, the derived tables, alerts, model monitoring) is read for each run without its `run_id`,
sorted on every column, and compared row by row: text, dates and flags exactly, numbers to a relative
and absolute tolerance (default 1e-12; 0 asks for bit-for-bit equality). The runs may live in two
warehouses (e.g. the same demo warehouse copied before a code change) or in one.

    .venv/bin/python scripts/compare_analysis_runs.py A.duckdb B.duckdb            # latest run of each
    .venv/bin/python scripts/compare_analysis_runs.py W.duckdb W.duckdb --a-run ID1 --b-run ID2

Exit code 0 when every table matches, 1 otherwise (the differences are printed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def result_tables(con) -> list[str]:
    """The analytics tables with a run_id column, except the run table itself."""
    rows = con.execute(
        "SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'main' "
        "AND column_name = 'run_id' AND table_name LIKE 'analytics_%' AND table_name <> 'analytics_run' "
        "ORDER BY table_name"
    ).fetchall()
    return [name for (name,) in rows]


def latest_run(con) -> str:
    row = con.execute("SELECT run_id FROM analytics_run ORDER BY created_at DESC LIMIT 1").fetchone()
    if row is None:
        raise SystemExit("no analytics run in the warehouse")
    return row[0]


def run_rows(con, table: str, run_id: str) -> pd.DataFrame:
    frame = con.execute(f'SELECT * FROM "{table}" WHERE run_id = ?', [run_id]).fetchdf().drop(columns=["run_id"])
    if frame.empty:
        return frame.reset_index(drop=True)
    order = list(frame.columns)
    return frame.sort_values(order, kind="mergesort", na_position="last").reset_index(drop=True)


def compare_frames(a: pd.DataFrame, b: pd.DataFrame, tolerance: float) -> list[str]:
    """Differences between two sorted result frames (empty when they match)."""
    if list(a.columns) != list(b.columns):
        return [f"columns differ: {list(a.columns)} vs {list(b.columns)}"]
    if len(a) != len(b):
        return [f"{len(a)} rows vs {len(b)}"]
    problems = []
    for column in a.columns:
        x, y = a[column], b[column]
        if pd.api.types.is_float_dtype(x) and pd.api.types.is_float_dtype(y):
            xv, yv = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
            same_nan = np.isnan(xv) & np.isnan(yv)
            close = np.isclose(xv, yv, rtol=tolerance, atol=tolerance) | same_nan
            if tolerance == 0:
                close = (xv == yv) | same_nan
            if not close.all():
                worst = np.nanmax(np.abs(xv - yv)[~close]) if (~close).any() else float("nan")
                problems.append(f"{column}: {int((~close).sum())} value(s) differ (largest |difference| {worst:.3g})")
        else:
            differ = ~((x == y) | (x.isna() & y.isna()))
            if differ.any():
                first = int(np.flatnonzero(differ.to_numpy())[0])
                problems.append(
                    f"{column}: {int(differ.sum())} value(s) differ (first: {x.iloc[first]!r} vs {y.iloc[first]!r})"
                )
    return problems


def compare_runs(con_a, run_a: str, con_b, run_b: str, tolerance: float = 1e-12) -> dict[str, list[str]]:
    """{table: differences} over every result table either warehouse has; {} when the runs match."""
    differences: dict[str, list[str]] = {}
    for table in sorted(set(result_tables(con_a)) | set(result_tables(con_b))):
        problems = compare_frames(run_rows(con_a, table, run_a), run_rows(con_b, table, run_b), tolerance)
        if problems:
            differences[table] = problems
    return differences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path, help="warehouse of the first run")
    parser.add_argument("b", type=Path, help="warehouse of the second run")
    parser.add_argument("--a-run", help="run id in A [default: its latest]")
    parser.add_argument("--b-run", help="run id in B [default: its latest]")
    parser.add_argument("--tolerance", type=float, default=1e-12, help="relative and absolute [default: 1e-12]")
    args = parser.parse_args()

    from warehouse import connect

    con_a = connect(args.a, read_only=True)
    con_b = con_a if args.b.resolve() == args.a.resolve() else connect(args.b, read_only=True)
    try:
        run_a, run_b = args.a_run or latest_run(con_a), args.b_run or latest_run(con_b)
        differences = compare_runs(con_a, run_a, con_b, run_b, args.tolerance)
        counts = {t: len(run_rows(con_a, t, run_a)) for t in result_tables(con_a)}
    finally:
        con_a.close()
        if con_b is not con_a:
            con_b.close()
    print(f"A {args.a} run {run_a}; B {args.b} run {run_b}; tolerance {args.tolerance:g}")
    for table, count in counts.items():
        status = "differs" if table in differences else "same"
        print(f"  {table}: {count:,} rows, {status}")
        for problem in differences.get(table, []):
            print(f"      {problem}")
    print("identical" if not differences else f"{len(differences)} table(s) differ")
    return 0 if not differences else 1


if __name__ == "__main__":
    raise SystemExit(main())
