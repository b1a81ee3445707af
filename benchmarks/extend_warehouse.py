"""Grow a benchmark warehouse past its build: more simulated years, each loaded by the real ETL.

`benchmarks/dashboard.py --build-only --work DIR` builds ~10 M referrals (2019-2025, quarterly deliveries).
This script adds the years after it, one at a time and with the same scale and seeding (`grace simulate`
with seed SEED + year, Parquet, quarterly deliveries, then `grace etl run`, then the inputs deleted), until
the warehouse holds `--referrals` or the next year would end after `--deadline` (judged by the last year's
time). Each year's timings and the warehouse's size after it go to DIR/extend.json, so a stopped run
resumes at the next year. Then, unless --no-analyse, `grace analyse --metrics default`, as the build did.

The stamp the dashboard benchmark reuses a warehouse by is marked as extended, so that benchmark rebuilds
instead of presenting the grown warehouse as its 10 M one; `benchmarks/scale.py --warehouse` and
`benchmarks/etl_increment.py --warehouse` measure it as it is.

    .venv/bin/python benchmarks/extend_warehouse.py --work /work/bench10m --referrals 50000000 --deadline 09:40
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import referral_count  # noqa: E402
from benchmarks.dashboard import LAST_YEAR, SEED, bench_env, etl_run, grace_cmd, log, simulate  # noqa: E402

EXTENDED = "extended:"  # prefix of a grown warehouse's stamp (benchmarks/dashboard.py then rebuilds)


def stage_totals(etl_report: dict) -> dict[str, float]:
    """Seconds per ETL stage over a `grace etl run --json` report's batches."""
    totals: dict[str, float] = {}
    for batch in etl_report["batches"]:
        for stage, seconds in (batch.get("stage_seconds") or {}).items():
            totals[stage] = totals.get(stage, 0.0) + seconds
    return {stage: round(seconds, 2) for stage, seconds in totals.items()}


def deadline_at(text: str | None, now: datetime) -> datetime | None:
    """`--deadline HH:MM` as today's local time (tomorrow's if that has passed); None without one."""
    if not text:
        return None
    try:
        clock = datetime.strptime(text, "%H:%M").time()
    except ValueError:
        raise SystemExit(f"--deadline: {text!r} is not HH:MM") from None
    when = datetime.combine(now.date(), clock)
    return when if when > now else when + timedelta(days=1)


def next_year_fits(years: dict, deadline: datetime | None, now: datetime) -> bool:
    """Whether another year, taking as long as the last one did, ends before the deadline."""
    if deadline is None or not years:
        return deadline is None or now < deadline
    last = years[max(years)]
    return now.timestamp() + last["simulate_s"] + last["etl_s"] <= deadline.timestamp()


def mark_extended(stamp_file: Path, record: dict) -> None:
    """Mark the build's stamp as grown, and say by how much, so the 10 M benchmark no longer reuses it."""
    stamp = json.loads(stamp_file.read_text())
    if not str(stamp.get("stamp", "")).startswith(EXTENDED):
        stamp["stamp"] = EXTENDED + str(stamp.get("stamp", ""))
    stamp["extended"] = {"years": sorted(record["years"]), "fact_referral": record.get("fact_referral")}
    stamp_file.write_text(json.dumps(stamp, indent=2))


def extend(work: Path, referrals: int, deadline: datetime | None, analyse: bool) -> dict:
    """Add simulated years to WORK/warehouse.duckdb (see the module docstring); returns the record."""
    warehouse, stamp_file, record_file = work / "warehouse.duckdb", work / "stamp.json", work / "extend.json"
    if not warehouse.is_file() or not stamp_file.is_file():
        raise SystemExit(f"{work}: no warehouse.duckdb and stamp.json; build it with benchmarks/dashboard.py first")
    scale = float(json.loads(stamp_file.read_text())["scale"])
    home = work / "home"
    home.mkdir(exist_ok=True)
    env = bench_env(home)
    record = json.loads(record_file.read_text()) if record_file.is_file() else {"scale": scale, "years": {}}
    loaded = referral_count(warehouse)
    record.setdefault("fact_referral_before", loaded)
    year = max([LAST_YEAR, *map(int, record["years"])]) + 1
    log(f"{loaded:,} referrals in {warehouse}; target {referrals:,}")
    while loaded < referrals and next_year_fits(record["years"], deadline, datetime.now()):
        inputs = work / f"sim-{year}"
        t0 = time.perf_counter()
        simulated = simulate(inputs, SEED + year, scale, f"{year}-01-01", f"{year}-12-31", "quarter", env)
        t1 = time.perf_counter()
        report = etl_run(warehouse, inputs / "exports", env)
        t2 = time.perf_counter()
        shutil.rmtree(inputs)
        before, loaded = loaded, referral_count(warehouse)
        record["years"][str(year)] = {
            "simulated": simulated,
            "loaded": loaded - before,
            "fact_referral_after": loaded,
            "simulate_s": round(t1 - t0, 1),
            "etl_s": round(t2 - t1, 1),
            "stage_seconds": stage_totals(json.loads(report)),
        }
        record["fact_referral"] = loaded
        record_file.write_text(json.dumps(record, indent=2))
        mark_extended(stamp_file, record)
        log(
            f"{year}: {loaded - before:,} referrals in {t2 - t1:.0f} s ({(loaded - before) / (t2 - t1):,.0f}/s); {loaded:,} in all"
        )
        year += 1
    if loaded < referrals:
        log(f"stopped at {loaded:,} referrals: the next year would pass the deadline")
    if analyse:
        t0 = time.perf_counter()
        subprocess.run(
            grace_cmd("analyse", "--warehouse", str(warehouse), "--metrics", "default", "--quiet"), check=True, env=env
        )
        record["analyse_s"] = round(time.perf_counter() - t0, 1)
        record_file.write_text(json.dumps(record, indent=2))
        log(f"analysed in {record['analyse_s']:.0f} s")
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--work", type=Path, required=True, help="a benchmarks/dashboard.py build folder (grown in place)"
    )
    parser.add_argument("--referrals", type=int, default=50_000_000, help="stop once it holds this many [50,000,000]")
    parser.add_argument("--deadline", help="local HH:MM: start no year that would end after it")
    parser.add_argument("--no-analyse", action="store_true", help="skip the final grace analyse")
    args = parser.parse_args()
    extend(args.work, args.referrals, deadline_at(args.deadline, datetime.now()), not args.no_analyse)


if __name__ == "__main__":
    main()
