"""ETL threads versus memory limit: the full `grace etl` pipeline under each combination of DuckDB's worker
threads (`GRACE_DUCKDB_THREADS`) and memory limit (`GRACE_DUCKDB_MEMORY_LIMIT`), on the same inputs.

Simulates one export (Parquet, yearly delivery, `benchmarks/etl.py`'s `simulate`), then runs
`benchmarks/etl.py`'s full phase — `etl.runner.run_batches` into a new warehouse, in a fresh interpreter
so its peak memory is its own — once per setting and pass. Passes alternate the order of the settings
(forward, then backward), so a slow spell of a shared machine does not fall on one setting only. Reports,
per setting, the median over passes of wall seconds, CPU seconds and peak RSS, each as a ratio against the
default setting (every core, 3GB) measured in the same run. The PDQ search's own threads are not changed
(they follow the cores the process may use). With --write, the results go into the "ETL threads versus
memory limit" section of docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/etl_settings.py --referrals 300000 --threads 1,2 --memory 1GB,3GB,6GB --write
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import machine, update_section  # noqa: E402
from benchmarks.etl import run_phase, simulate  # noqa: E402

DEFAULT = ("", "3GB")  # every core, the shipped memory limit: the reference of the ratios
TITLE = "ETL threads versus memory limit"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def settings_grid(threads: list[str], memory: list[str]) -> list[tuple[str, str]]:
    """Every (threads, memory limit) pair, the default first; '' threads = every core."""
    grid = [(t, m) for t in threads for m in memory]
    return [DEFAULT] + [pair for pair in grid if pair != DEFAULT]


def run_setting(inputs: Path, warehouse: Path, threads: str, memory: str) -> dict:
    """One full ETL run under the setting, in its own interpreter (`benchmarks/etl.py --phase full`)."""
    saved = {name: os.environ.get(name) for name in ("GRACE_DUCKDB_THREADS", "GRACE_DUCKDB_MEMORY_LIMIT")}
    try:
        os.environ.pop("GRACE_DUCKDB_THREADS", None)
        if threads:
            os.environ["GRACE_DUCKDB_THREADS"] = threads
        os.environ["GRACE_DUCKDB_MEMORY_LIMIT"] = memory
        return run_phase("full", inputs, warehouse)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def summarise(runs: dict[tuple[str, str], list[dict]]) -> list[dict]:
    """Per setting: medians over passes, and their ratios against the default setting's medians."""
    medians = {
        setting: {
            key: statistics.median(run[key] for run in found) for key in ("seconds", "cpu_seconds", "peak_rss_mb")
        }
        for setting, found in runs.items()
    }
    reference = medians[DEFAULT]
    rows = []
    for (threads, memory), values in medians.items():
        rows.append(
            {
                "threads": threads or "every core",
                "memory_limit": memory,
                "passes": len(runs[(threads, memory)]),
                **{key: round(value, 1) for key, value in values.items()},
                **{f"{key}_ratio": round(values[key] / reference[key], 2) for key in values},
            }
        )
    return rows


def write_markdown(results: dict) -> None:
    lines = [
        f"## {TITLE} (`benchmarks/etl_settings.py`)",
        "",
        f"Run {results['date']} on {results['machine']}; load average {results['load_average']} when it started.",
        f"Command: `{results['command']}`.",
        f"Inputs: {results['referrals_in']:,} simulated referrals (Parquet, one yearly delivery), loaded by the full "
        "pipeline (`etl.runner.run_batches`, perceptual matching included) into a new warehouse per run, each run in "
        f"its own interpreter; {results['passes']} passes, the settings' order reversed on every other pass; medians "
        "over passes. Ratios are against the default (every core, 3GB) in the same run. The PDQ search keeps its own "
        "threads (one per core) in every run.",
        "",
        "| DuckDB threads | memory limit | wall s | ÷ default | CPU s | ÷ default | peak RSS MB | ÷ default |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['threads']} | {row['memory_limit']} | {row['seconds']} | {row['seconds_ratio']} | "
            f"{row['cpu_seconds']} | {row['cpu_seconds_ratio']} | {row['peak_rss_mb']:.0f} | "
            f"{row['peak_rss_mb_ratio']} |"
        )
    update_section(TITLE, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--referrals", type=int, default=300_000, help="simulated referrals [300,000]")
    parser.add_argument("--threads", default="1,2", help="DuckDB threads to try, comma-separated [1,2]")
    parser.add_argument("--memory", default="1GB,3GB,6GB", help="memory limits to try [1GB,3GB,6GB]")
    parser.add_argument("--passes", type=int, default=2, help="runs of every setting [2]")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    os.environ.setdefault("GRACE_HMAC_KEY", "benchmark-key-not-secret-0123456789")
    grid = settings_grid([t.strip() for t in args.threads.split(",")], [m.strip() for m in args.memory.split(",")])
    results: dict = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "load_average": round(os.getloadavg()[0], 1),
        "command": "benchmarks/etl_settings.py " + " ".join(sys.argv[1:]),
        "passes": args.passes,
    }
    runs: dict[tuple[str, str], list[dict]] = {setting: [] for setting in grid}
    with tempfile.TemporaryDirectory(prefix="grace-etl-settings-") as tmp:
        work = Path(tmp)
        log(f"simulating {args.referrals:,} referrals")
        simulate(work / "sim", args.referrals, "parquet", args.seed)
        inputs = work / "sim" / "parquet"
        for number in range(args.passes):
            for threads, memory in grid if number % 2 == 0 else list(reversed(grid)):
                folder = work / "run"  # a new warehouse (and PDQ index beside it) for every run
                shutil.rmtree(folder, ignore_errors=True)
                warehouse = folder / "warehouse.duckdb"
                run = run_setting(inputs, warehouse, threads, memory)
                runs[(threads, memory)].append(run)
                results["referrals_in"] = run["referrals_in"]
                log(
                    f"pass {number + 1}, threads {threads or 'every core'}, {memory}: {run['seconds']:.1f} s, "
                    f"{run['cpu_seconds']:.1f} s CPU, {run['peak_rss_mb']:.0f} MB"
                )
    results["rows"] = summarise(runs)
    print(json.dumps(results, indent=2))
    if args.write:
        write_markdown(results)


if __name__ == "__main__":
    main()
