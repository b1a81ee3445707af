"""Scale benchmark: one node's warehouse of up to 100 M referrals, built through the real ETL, and what the
dashboard, `grace analyse` and exports do on it.

Steps (each prints progress):
  1. build — resumable: `grace simulate` one month at a time (the simulator holds a whole run in memory:
     ~2.6 GB per million referrals, so a month of a 100 M warehouse is the largest piece that fits), every
     EU country and its agency, Parquet, each month loaded with `grace etl run` and its inputs deleted.
     WORK/progress.json records the months loaded and their timings, so an interrupted build resumes at
     the next month (a month loaded twice would be skipped by its checksum anyway). Then `grace analyse`.
     Or --warehouse: measure an existing warehouse (upgraded in place to this code's schema first).
  2. dashboard — in a child process, so its peak RSS is the dashboard's own: every page and every
     callback of `benchmarks/dashboard.py` (the same views, warm-up, repetitions and raw-SQL reference).
     With --memory-limits, measured again under each DuckDB memory limit given (peak RSS, worst p95).
  3. `grace analyse --metrics default --grain month,week` — wall, CPU and peak RSS of its process tree.
  4. exports — the CSV export of three Trend explorer views (`benchmarks/exports.py`'s function), seconds.
  5. size on disk — the warehouse file, its WAL and the near-duplicate index beside it.
  6. ETL growth — the ETL's microseconds per referral, by stage, as the warehouse grew (from `etl_batch`,
     so it describes however the warehouse was built, here or by another run).
With --write, the results go into the "Scale" section of docs/BENCHMARKS.md.

Targets (issue 14, at 100 M): page loads ≤ 2 s; callback p95 ≤ 300 ms; dashboard RSS ≤ 3 GB.

    .venv/bin/python benchmarks/scale.py --referrals 100000000 --work /data/grace-scale --write
    .venv/bin/python benchmarks/scale.py --warehouse /tmp/bench/warehouse.duckdb --reps 5 --write
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import machine, update_section  # noqa: E402
from benchmarks.dashboard import (  # noqa: E402
    BENCH_KEY,
    bench_env,
    grace_cmd,
    log,
    measure_dashboard,
    probe_scale,
    results_of,
    simulate,
    warehouse_record,
)
from grace.settings import reader_memory_limit  # noqa: E402

SEED = 23
TARGET_LOAD_S, TARGET_CALLBACK_P95_MS, TARGET_RSS_GB = 2.0, 300.0, 3.0
EXPORT_VIEWS = (
    "metric=referrals&grain=month",
    "metric=referrals&grain=week&split=country",
    "metric=files&split=platform",
)


# ---------------------------------------------------------------------------------------------
# 1. The warehouse
# ---------------------------------------------------------------------------------------------


def months(first_year: int, last_year: int) -> list[tuple[date, date]]:
    """(first day, last day) of every month of the years."""
    out = []
    for year in range(first_year, last_year + 1):
        for month in range(1, 13):
            following = date(year + (month == 12), month % 12 + 1, 1)
            out.append((date(year, month, 1), date.fromordinal(following.toordinal() - 1)))
    return out


def build(work: Path, referrals: int, first_year: int, last_year: int) -> dict:
    """Build (or resume building) the warehouse month by month; returns the progress record."""
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    home.mkdir(exist_ok=True)
    env = bench_env(home)
    warehouse = work / "warehouse.duckdb"
    progress_file = work / "progress.json"
    options = {"referrals": referrals, "seed": SEED, "years": [first_year, last_year]}
    progress = json.loads(progress_file.read_text()) if progress_file.exists() else {}
    if progress.get("options") != options:
        log("new build (no progress file, or other options)")
        for path in (warehouse, Path(f"{warehouse}.wal")):
            path.unlink(missing_ok=True)
        shutil.rmtree(Path(f"{warehouse}.pdq-index"), ignore_errors=True)
        scale = probe_scale(work, referrals, env, first_year, last_year)
        progress = {"options": options, "scale": round(scale, 6), "months": {}}
        progress_file.write_text(json.dumps(progress, indent=2))
    periods = months(first_year, last_year)
    for index, (first, last) in enumerate(periods):
        key = first.isoformat()[:7]
        if key in progress["months"]:
            continue
        inputs = work / f"sim-{key}"
        t0 = time.perf_counter()
        simulated = simulate(inputs, SEED + index, progress["scale"], first.isoformat(), last.isoformat(), "month", env)
        t1 = time.perf_counter()
        subprocess.run(
            grace_cmd("etl", "run", "--warehouse", str(warehouse), "--quiet", str(inputs / "exports")),
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        t2 = time.perf_counter()
        shutil.rmtree(inputs)
        progress["months"][key] = {"simulated": simulated, "simulate_s": round(t1 - t0, 1), "etl_s": round(t2 - t1, 1)}
        progress_file.write_text(json.dumps(progress, indent=2))
        loaded = sum(m["simulated"] for m in progress["months"].values())
        etl = sum(m["etl_s"] for m in progress["months"].values())
        log(
            f"{key}: {simulated:,} referrals loaded in {t2 - t1:.0f} s "
            f"({len(progress['months'])}/{len(periods)} months, {loaded:,} referrals, ETL {loaded / etl:,.0f}/s)"
        )
    return progress


# ---------------------------------------------------------------------------------------------
# 2.-5. Measurements
# ---------------------------------------------------------------------------------------------


def dashboard_child(warehouse: Path, home: Path, reps: int, out: Path) -> None:
    """Run in the child process: every page and callback, then this process's peak RSS."""
    measured = measure_dashboard(warehouse, home, reps)
    results = results_of(measured)
    results["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    out.write_text(json.dumps(results, indent=2))


def measure_in_child(warehouse: Path, work: Path, reps: int, memory_limit: str | None = None) -> dict:
    """The dashboard measured in a child process (its own peak RSS), under DuckDB memory limit `memory_limit`
    (`GRACE_READER_MEMORY_LIMIT`; None: as configured, 1GB by default)."""
    out = work / "dashboard-results.json"
    command = [sys.executable, __file__, "--dashboard-child", str(warehouse), "--work", str(work), "--reps", str(reps)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if memory_limit:
        env["GRACE_READER_MEMORY_LIMIT"] = memory_limit
    subprocess.run(command, check=True, env=env)
    return json.loads(out.read_text())


def dashboard_summary(dashboard: dict) -> dict:
    """Peak RSS, the worst callback p95 and the slowest first page load p95 of one dashboard measurement."""
    worst = max(dashboard["callbacks"], key=lambda c: c["p95_ms"])
    slowest = max(dashboard["loads"], key=lambda load: load["p95_ms"])
    return {
        "peak_rss_gb": round(dashboard["peak_rss_gb"], 2),
        "worst_callback": worst["callback"],
        "worst_callback_p95_ms": round(worst["p95_ms"], 1),
        "slowest_load": slowest["page"],
        "slowest_load_p95_s": round(slowest["p95_ms"] / 1000, 2),
        "callbacks_above_target": sum(1 for c in dashboard["callbacks"] if c["p95_ms"] > TARGET_CALLBACK_P95_MS),
    }


# Runs the command given as its arguments and prints the peak RSS (KiB) of its process tree: a process's
# RUSAGE_CHILDREN peak is the largest of every child it waited for, so the measuring process must be new.
PEAK_RSS_OF = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def timed_analyse(warehouse: Path, home: Path) -> dict:
    """`grace analyse` on the default metrics, month and week: wall, CPU and peak RSS of its processes (measured
    by a fresh intermediate process, so the dashboard child measured before does not count)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            PEAK_RSS_OF,
            *grace_cmd(
                "analyse", "--warehouse", str(warehouse), "--metrics", "default", "--grain", "month,week", "--quiet"
            ),
        ],
        check=True,
        env=bench_env(home),
        capture_output=True,
        text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 1),
        "peak_rss_gb": round(int(out.stdout.split()[-1]) / 1024**2, 2),
    }


def timed_exports(warehouse: Path, home: Path) -> list[dict]:
    os.environ.update(GRACE_HOME=str(home), GRACE_HMAC_KEY=BENCH_KEY)
    from benchmarks.exports import export_seconds

    rows = []
    for query in EXPORT_VIEWS:
        seconds, suppressed, body = export_seconds(warehouse, query, dense=False)
        rows.append({"view": query, "seconds": round(seconds, 2), "suppressed": suppressed, "bytes": len(body)})
        log(f"export {query}: {seconds:.2f} s")
    return rows


def size_on_disk(warehouse: Path) -> dict:
    index = Path(f"{warehouse}.pdq-index")
    wal = Path(f"{warehouse}.wal")
    return {
        "warehouse_gb": round(warehouse.stat().st_size / 1e9, 2),
        "wal_gb": round(wal.stat().st_size / 1e9, 2) if wal.exists() else 0.0,
        "pdq_index_gb": round(sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 1e9, 2)
        if index.exists()
        else 0.0,
    }


GROWTH_GROUPS = 10
GROWTH_STAGES = ("match", "rollup")


def etl_growth(warehouse: Path, groups: int = GROWTH_GROUPS) -> list[dict]:
    """The ETL's cost per referral as the warehouse grew, from its own batch records (`etl_batch`).

    The loaded batches, in the order they ran, are cut into `groups` runs of about equal referrals read;
    each row gives the warehouse's size when its run started and the run's microseconds per referral read
    (loaded, quarantined or a duplicate: each costs the stages their work):
    in all, in the stages whose cost grows with the warehouse (GROWTH_STAGES: the PDQ search among every
    indexed hash, the rollups) and in the rest. The first run includes compiling the Numba kernels (a few
    seconds per `grace etl run` process)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        batches = con.execute(
            "SELECT referrals_in, referrals_loaded, files_loaded, duration_seconds, stage_seconds FROM etl_batch "
            "WHERE status = 'loaded' ORDER BY started_at, batch_id"
        ).fetchall()
    total = sum(row[0] for row in batches)
    rows: list[dict] = []
    read_before = referrals_before = files_before = 0
    current: dict | None = None
    for read, referrals, files, seconds, stages in batches:
        group = min(groups - 1, read_before * groups // max(total, 1))
        if current is None or current["group"] != group:
            current = {
                "group": group,
                "referrals_before": referrals_before,
                "files_before": files_before,
                "batches": 0,
                "referrals": 0,
                "seconds": 0.0,
                **dict.fromkeys(GROWTH_STAGES, 0.0),
            }
            rows.append(current)
        parts = json.loads(stages)
        current["batches"] += 1
        current["referrals"] += read
        current["seconds"] += seconds
        for stage in GROWTH_STAGES:
            current[stage] += parts.get(stage, 0.0)
        read_before += read
        referrals_before += referrals
        files_before += files
    for row in rows:
        per = 1e6 / max(row["referrals"], 1)
        row["us_per_referral"] = round(row["seconds"] * per, 1)
        for stage in GROWTH_STAGES:
            row[f"{stage}_us"] = round(row[stage] * per, 1)
        row["rest_us"] = round((row["seconds"] - sum(row[stage] for stage in GROWTH_STAGES)) * per, 1)
    return rows


def upgrade(warehouse: Path, home: Path) -> None:
    subprocess.run(grace_cmd("warehouse", "upgrade", "--warehouse", str(warehouse)), check=True, env=bench_env(home))


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def write_markdown(results: dict) -> None:
    dash = results["dashboard"]
    record = results["warehouse"]
    worst_load = max(dash["loads"], key=lambda load: load["p95_ms"])
    slow = [c for c in dash["callbacks"] if c["p95_ms"] > TARGET_CALLBACK_P95_MS]
    callbacks = sorted(dash["callbacks"], key=lambda c: -c["p95_ms"])
    size = results["size"]
    lines = [
        f"## Scale (`benchmarks/scale.py`, {results['date']})",
        "",
        f"Run {results['date']} on {results['machine']}; load average {results['load']}.",
        f"Command: `{results['command']}`.",
        f"Warehouse: {record['fact_referral']:,} referrals and {record['fact_file_occurrence']:,} file rows; "
        f"{size['warehouse_gb']} GB on disk (+ WAL {size['wal_gb']} GB, near-duplicate index {size['pdq_index_gb']} GB).",
        "",
        f"Targets (issue 14, at 100 M referrals): page load ≤ {TARGET_LOAD_S:g} s, callback p95 ≤ "
        f"{TARGET_CALLBACK_P95_MS:g} ms, dashboard RSS ≤ {TARGET_RSS_GB:g} GB. At this size:",
        "",
        f"- first page load p95, worst page: {worst_load['page']} {worst_load['p95_ms'] / 1000:.2f} s — "
        f"{verdict(worst_load['p95_ms'] <= TARGET_LOAD_S * 1000)}",
        f"- callbacks above {TARGET_CALLBACK_P95_MS:g} ms p95: {len(slow)} of {len(callbacks)} — {verdict(not slow)}",
        f"- dashboard process peak RSS: {dash['peak_rss_gb']:.2f} GB — {verdict(dash['peak_rss_gb'] <= TARGET_RSS_GB)}",
        f"- `grace analyse --metrics default --grain month,week`: {results['analyse']['wall_s']} s wall, "
        f"{results['analyse']['cpu_s']} s CPU, peak RSS {results['analyse']['peak_rss_gb']} GB",
        "",
        "| callback | p50 ms | p95 ms | worst view |",
        "|---|---:|---:|---|",
        *(f"| `{c['callback']}` | {c['p50_ms']:.0f} | {c['p95_ms']:.0f} | {c['worst_view']} |" for c in callbacks[:12]),
        "",
        "| page | first load p50 s | p95 s |",
        "|---|---:|---:|",
        *(f"| `{p['page']}` | {p['p50_ms'] / 1000:.2f} | {p['p95_ms'] / 1000:.2f} |" for p in dash["loads"]),
        "",
        "| export (CSV, Trend explorer) | seconds | suppressed cells |",
        "|---|---:|---:|",
        *(f"| `{e['view']}` | {e['seconds']:.2f} | {e['suppressed']:,} |" for e in results["exports"]),
        "",
        "The ETL's cost per referral as the warehouse grew (from its `etl_batch` records: the loaded batches in the",
        f"order they ran, in {GROWTH_GROUPS} runs of about equal referrals; the first includes compiling the kernels):",
        "",
        "| referrals before (M) | file rows before (M) | batches | referrals read | µs per referral | match µs | "
        "rollup µs | rest µs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {g['referrals_before'] / 1e6:.2f} | {g['files_before'] / 1e6:.2f} | {g['batches']} | "
            f"{g['referrals']:,} | {g['us_per_referral']:.0f} | {g['match_us']:.0f} | {g['rollup_us']:.0f} | "
            f"{g['rest_us']:.0f} |"
            for g in results.get("etl_growth", [])
        ),
    ]
    limits = results.get("memory_limits", [])
    if limits:
        lines += [
            "",
            "The dashboard under each DuckDB memory limit (`GRACE_READER_MEMORY_LIMIT`; one child process each, the",
            "same views and repetitions; the first row is the run above):",
            "",
            "| memory limit | peak RSS GB | worst callback p95 ms | callbacks above target | slowest first load p95 s |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {m['limit']} | {m['peak_rss_gb']:.2f} | {m['worst_callback_p95_ms']:.0f} "
                f"(`{m['worst_callback']}`) | {m['callbacks_above_target']} | {m['slowest_load_p95_s']:.2f} |"
                for m in limits
            ),
        ]
    update_section("Scale", "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--referrals", type=int, default=100_000_000, help="target referrals [100,000,000]")
    parser.add_argument("--years", default="2016-2025", help="simulated years, FIRST-LAST [2016-2025]")
    parser.add_argument("--work", type=Path, default=Path("/tmp/grace-bench-scale"), help="build folder (kept)")
    parser.add_argument("--warehouse", type=Path, help="measure this existing warehouse instead (no build)")
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions per dashboard view [5]")
    parser.add_argument("--build-only", action="store_true", help="build (or resume) and stop")
    parser.add_argument("--write", action="store_true", help="update the Scale section of docs/BENCHMARKS.md")
    parser.add_argument(
        "--memory-limits",
        default="",
        help="also measure the dashboard under these DuckDB memory limits, comma-separated (e.g. 3GB,512MB)",
    )
    parser.add_argument("--dashboard-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    home = args.work / "home"
    home.mkdir(exist_ok=True)
    if args.dashboard_child:
        dashboard_child(args.dashboard_child, home, args.reps, args.work / "dashboard-results.json")
        return
    if args.warehouse:
        warehouse = args.warehouse
        upgrade(warehouse, home)
        record = warehouse_record(warehouse)
    else:
        first, last = (int(part) for part in args.years.split("-"))
        build(args.work, args.referrals, first, last)
        warehouse = args.work / "warehouse.duckdb"
        if args.build_only:
            return
        record = warehouse_record(warehouse)
    log(f"measuring {record['fact_referral']:,} referrals")
    load = os.getloadavg()[0]
    dashboard = measure_in_child(warehouse, args.work, args.reps)
    log(f"dashboard measured; peak RSS {dashboard['peak_rss_gb']:.2f} GB")
    memory_limits = [{"limit": reader_memory_limit(), **dashboard_summary(dashboard)}]
    for limit in filter(None, (part.strip() for part in args.memory_limits.split(","))):
        measured = dashboard_summary(measure_in_child(warehouse, args.work, args.reps, limit))
        memory_limits.append({"limit": limit, **measured})
        log(f"dashboard under a {limit} memory limit: {measured}")
    analyse = timed_analyse(warehouse, home)
    log(f"grace analyse: {analyse}")
    results = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "load": f"{load:.1f} → {os.getloadavg()[0]:.1f}",
        "command": " ".join([".venv/bin/python benchmarks/scale.py", *sys.argv[1:]]),
        "warehouse": record,
        "size": size_on_disk(warehouse),
        "dashboard": dashboard,
        "analyse": analyse,
        "exports": timed_exports(warehouse, home),
        "etl_growth": etl_growth(warehouse),
        "memory_limits": memory_limits if len(memory_limits) > 1 else [],
    }
    (args.work / "scale-results.json").write_text(json.dumps(results, indent=2))
    if args.write:
        write_markdown(results)


if __name__ == "__main__":
    main()
