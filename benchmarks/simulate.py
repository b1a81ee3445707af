"""Simulator benchmark: 1 M referrals (and their files) written as CSV, against the I/O floor.

The issue asks for 1 M referrals in ≤ 60 s. The reference measured in the same run is the
"write floor": pyarrow writing the very same rows (read back from the simulator's output) to
CSV, i.e. the cost of the bytes alone, with no generation.

    .venv/bin/python benchmarks/simulate.py --write
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import machine, update_section  # noqa: E402
from benchmarks.etl import peak_rss_mb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.72, help="scale giving about 1 M referrals for one year")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()

    import pyarrow.csv as pacsv

    from etl.simulator import SimulationConfig, simulate

    with tempfile.TemporaryDirectory(prefix="grace-sim-bench-") as tmp:
        out = Path(tmp) / "sim"
        started = time.perf_counter()
        result = simulate(
            SimulationConfig(
                out=out,
                seed=args.seed,
                scale=args.scale,
                start=date(2023, 1, 1),
                end=date(2023, 12, 31),
                format="csv",
                delivery="year",
            )
        )
        simulate_seconds = time.perf_counter() - started
        peak_mb = peak_rss_mb()
        # The output holds deliberately malformed rows (a truncated file, broken encoding): skip them.
        parse = pacsv.ParseOptions(invalid_row_handler=lambda _row: "skip")
        convert = pacsv.ConvertOptions(strings_can_be_null=False, check_utf8=False)
        tables = [
            pacsv.read_csv(p, parse_options=parse, convert_options=convert)
            for p in sorted((out / "exports").rglob("*.csv"))
        ]
        started = time.perf_counter()
        for n, table in enumerate(tables):
            pacsv.write_csv(table, Path(tmp) / f"floor-{n}.csv")
        floor_seconds = time.perf_counter() - started
    row = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "referrals": result.referrals,
        "files": result.files,
        "simulate_seconds": round(simulate_seconds, 1),
        "write_floor_seconds": round(floor_seconds, 1),
        "ratio_to_floor": round(simulate_seconds / floor_seconds, 2),
        "peak_rss_mb": round(peak_mb),
    }
    print(json.dumps(row, indent=2))
    if args.write:
        update_section(
            "Simulator",
            "\n".join(
                [
                    "## Simulator (`benchmarks/simulate.py`)",
                    "",
                    f"Run {row['date']} on {row['machine']}.",
                    "Command: `.venv/bin/python benchmarks/simulate.py --write`. Target: 1 M referrals in ≤ 60 s.",
                    "Reference in the same run: pyarrow writing the same rows to CSV (the I/O floor, no generation).",
                    "",
                    "| referrals | file rows | simulate s | write floor s | simulate ÷ floor | peak RSS (MB) |",
                    "|---:|---:|---:|---:|---:|---:|",
                    f"| {row['referrals']:,} | {row['files']:,} | {row['simulate_seconds']} | {row['write_floor_seconds']} | "
                    f"{row['ratio_to_floor']} | {row['peak_rss_mb']:,} |",
                    "",
                ]
            ),
        )


if __name__ == "__main__":
    main()
