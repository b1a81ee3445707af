"""ETL benchmark: 1 M referrals (and their files) through the full pipeline vs a plain DuckDB load.

Simulates a case-system export once (Parquet and CSV, yearly deliveries), then, each in a fresh
subprocess so peak memory is its own:
  * full   — `etl.runner.run_batches` into a new warehouse (validate, anonymise, dedupe, cluster,
             load facts, perceptual matching, dimensions, rollups, lineage; one transaction per delivery);
  * plain  — the same files read by DuckDB into tables as they are (no validation, no transforms),
             one transaction per delivery: the reference the issue asks for.
Perceptual matching is always on in the ETL. Its cost is measured inside the full run: the `match`
stage (from `etl_batch.stage_seconds`, summed over batches), the perceptual rollup (timed within the
`rollup` stage by wrapping `etl.pipeline.refresh_rollup`) and the index update after each
commit (`PerceptualBatch.commit_to`); the parts of `etl.perceptual.cluster_pending` are timed the same
way. "Without matching" is an estimate: the full time minus those three, not a run with matching off.
Prints a JSON result and, with --write, updates the ETL section of docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/etl.py --referrals 1000000 --write
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import machine, update_section  # noqa: E402

# At scale 1.0 the simulator yields roughly this many referrals for the EU-27 in one year (measured
# once per run below: the actual count is read from the manifest, not assumed).
YEAR = 2023


def simulate(out: Path, referrals: int, fmt: str, seed: int) -> dict:
    from etl.simulator import SimulationConfig
    from etl.simulator import simulate as run

    probe = run(
        SimulationConfig(
            out=out / "probe",
            seed=seed,
            scale=0.01,
            start=date(YEAR, 1, 1),
            end=date(YEAR, 12, 31),
            format=fmt,
            delivery="year",
        )
    )
    per_unit_scale = probe.referrals / 0.01
    scale = min(referrals / per_unit_scale, 20.0)
    result = run(
        SimulationConfig(
            out=out / fmt,
            seed=seed,
            scale=scale,
            start=date(YEAR, 1, 1),
            end=date(YEAR, 12, 31),
            format=fmt,
            delivery="quarter",
        )
    )
    return {"scale": round(scale, 4), "referrals": result.referrals, "files": result.files}


# What is timed inside the full run, by wrapping module attributes (the calls go through them):
# (module, attribute, key). Wrapping adds one clock read per call, a few per batch. `period_rollups`
# (the weekly and monthly rollups, inside the `rollup` stage) is not matching; it is timed here too.
MATCHING_TIMERS = (
    ("etl.pipeline", "refresh_rollup", "perceptual_rollup"),
    ("etl.pipeline", "refresh_period_rollups", "period_rollups"),
    ("etl.pipeline", "record_bank_matches", "match.bank_matches"),
    ("etl.perceptual", "_pending", "match.pending_query"),
    ("etl.perceptual", "_stage", "match.stage_index"),
    ("etl.perceptual", "_search", "match.search"),
    ("etl.perceptual", "_slot_owners", "match.slot_owners_query"),
    ("etl.perceptual", "_components", "match.union_find"),
    ("etl.perceptual", "_write", "match.write"),
)


def _timed(function, key: str, timings: dict[str, float]):
    """`function`, adding the seconds of each call to `timings[key]`."""

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            timings[key] = timings.get(key, 0.0) + time.perf_counter() - started

    return wrapper


def install_timer(module_name: str, attribute: str, key: str, timings: dict[str, float]) -> None:
    """Wrap `module_name.attribute` (when the code measured has it) so its calls add to `timings[key]`."""
    import importlib

    module = importlib.import_module(module_name)
    if hasattr(module, attribute):  # absent in older code measured with this script
        setattr(module, attribute, _timed(getattr(module, attribute), key, timings))


def install_timers(timings: dict[str, float]) -> None:
    """Wrap the MATCHING_TIMERS functions and the post-commit index update so each adds its seconds to
    `timings`."""
    from etl.perceptual import PerceptualBatch

    for module_name, attribute, key in MATCHING_TIMERS:
        install_timer(module_name, attribute, key, timings)
    PerceptualBatch.commit_to = _timed(PerceptualBatch.commit_to, "index_after_commit", timings)  # type: ignore[method-assign]


def phase_full(inputs: Path, warehouse: Path) -> dict:
    from etl.runner import run_batches
    from etl.sources import discover_batches
    from grace.config import load_pseudonym_key
    from warehouse import connect, ensure_schema

    timings: dict[str, float] = {}
    install_timers(timings)
    con = connect(warehouse)
    ensure_schema(con)
    batches = discover_batches(inputs / "exports")
    started, cpu_started = time.perf_counter(), time.process_time()
    summary = run_batches(con, batches, load_pseudonym_key())
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    stages: dict[str, float] = {}
    for (text,) in con.execute("SELECT stage_seconds FROM etl_batch WHERE status = 'loaded'").fetchall():
        for stage, value in json.loads(text).items():
            stages[stage] = stages.get(stage, 0.0) + value
    clusters = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE pdq_slot IS NOT NULL), count(DISTINCT perceptual_id) "
        "FROM perceptual_member"
    ).fetchone()
    con.close()
    assert summary.ok, summary.failures
    matching = stages.get("match", 0.0) + timings.get("perceptual_rollup", 0.0) + timings.get("index_after_commit", 0.0)
    return {
        "seconds": seconds,
        "cpu_seconds": round(cpu_seconds, 2),  # every thread of the process: less sensitive to other jobs
        "referrals_in": summary.total("referrals_in"),
        "loaded": summary.total("referrals_loaded"),
        "files_loaded": summary.total("files_loaded"),
        "batches": len(summary.reports),
        "media_clusters": clusters[0],
        "indexed_pdqs": clusters[1],
        "perceptual_clusters": clusters[2],
        "stage_seconds": {stage: round(value, 2) for stage, value in stages.items()},
        "matching_seconds": {key: round(value, 2) for key, value in sorted(timings.items())},
        "matching_total_seconds": round(matching, 2),
        "without_matching_seconds": round(seconds - matching, 2),
    }


def phase_plain(inputs: Path, warehouse: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(warehouse))
    con.execute("SET enable_progress_bar = false")
    started = time.perf_counter()
    for folder in sorted(p for p in (inputs / "exports").iterdir() if p.is_dir()):
        con.execute("BEGIN TRANSACTION")
        for dataset in ("referrals", "files"):
            path = next(folder.glob(f"{dataset}.*"))
            reader = (
                f"read_parquet('{path}')"
                if path.suffix == ".parquet"
                else f"read_csv('{path}', all_varchar = true, header = true, ignore_errors = true)"
            )
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [f"raw_{dataset}"]
            ).fetchone()[0]
            if exists:
                con.execute(f"INSERT INTO raw_{dataset} SELECT * FROM {reader}")
            else:
                con.execute(f"CREATE TABLE raw_{dataset} AS SELECT * FROM {reader}")
        con.execute("COMMIT")
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM raw_referrals").fetchone()[0]
    con.close()
    return {"seconds": seconds, "referrals_in": rows}


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: reset by exec, unlike ru_maxrss after fork)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_phase(phase: str, inputs: Path, warehouse: Path) -> dict:
    """Run one phase in a fresh interpreter; returns its result with peak RSS."""
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--inputs", str(inputs), "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    parser.add_argument("--phase", choices=["full", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        os.environ.setdefault("GRACE_HMAC_KEY", "benchmark-key-not-secret-0123456789")
        result = (phase_full if args.phase == "full" else phase_plain)(args.inputs, args.warehouse)
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return

    results = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "target_referrals": args.referrals,
        "load_average": round(os.getloadavg()[0], 1),
        "formats": {},
    }
    with tempfile.TemporaryDirectory(prefix="grace-bench-") as tmp:
        tmp = Path(tmp)
        for fmt in args.formats.split(","):
            sim_started = time.perf_counter()
            sim = simulate(tmp / "sim", args.referrals, fmt, args.seed)
            sim["seconds"] = round(time.perf_counter() - sim_started, 1)
            inputs = tmp / "sim" / fmt
            full = run_phase("full", inputs, tmp / f"full-{fmt}.duckdb")
            plain = run_phase("plain", inputs, tmp / f"plain-{fmt}.duckdb")
            results["formats"][fmt] = {
                "simulation": sim,
                "full": full,
                "plain": plain,
                "referrals_per_second": round(full["referrals_in"] / full["seconds"]),
                "ratio_full_to_plain": round(full["seconds"] / plain["seconds"], 2),
                "ratio_without_matching_to_plain": round(full["without_matching_seconds"] / plain["seconds"], 2),
            }
            print(json.dumps({fmt: results["formats"][fmt]}, indent=2), flush=True)
    if args.write:
        write_markdown(results)


def write_markdown(results: dict) -> None:
    lines = [
        "## ETL (`benchmarks/etl.py`)",
        "",
        f"Run {results['date']} on {results['machine']}; load average {results['load_average']} when it started "
        "(other jobs on the machine).",
        f"Command: `.venv/bin/python benchmarks/etl.py --referrals {results['target_referrals']} --write`.",
        "Full = every stage of `grace etl run` (validate, anonymise, dedupe, cluster, load, perceptual matching,",
        "rollups, lineage; one transaction per quarterly delivery). Plain = DuckDB reading the same files into tables",
        "as they are, no validation or transforms, same deliveries and transactions, measured in the same run.",
        "Targets: ≥ 100 k referrals/s end to end, within 5× of the plain load (with matching on), peak memory ≤ 4 GB.",
        "",
        "| format | referrals in | files loaded | full s | full CPU s | referrals/s | plain s | full ÷ plain | "
        "matching s | without matching ÷ plain (estimate) | peak RSS full (MB) | peak RSS plain (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fmt, r in results["formats"].items():
        full = r["full"]
        lines.append(
            f"| {fmt} | {full['referrals_in']:,} | {full['files_loaded']:,} | {full['seconds']:.1f} | "
            f"{full.get('cpu_seconds', float('nan')):.1f} | "
            f"{r['referrals_per_second']:,} | {r['plain']['seconds']:.1f} | {r['ratio_full_to_plain']:.2f} | "
            f"{full['matching_total_seconds']:.1f} | {r['ratio_without_matching_to_plain']:.2f} | "
            f"{full['peak_rss_mb']:.0f} | {r['plain']['peak_rss_mb']:.0f} |"
        )
    formats = list(results["formats"])
    lines += [
        "",
        "Full CPU s = CPU time of the full run's process (all its threads): less sensitive than wall time to other",
        "jobs on the machine, though a memory-bound search still slows when they compete for memory.",
        "Matching s = the `match` stage (`etl_batch.stage_seconds`, summed over the batches) + the perceptual rollup",
        "(timed inside the `rollup` stage) + the index update after each commit. *Without matching* is an",
        "estimate, full minus matching s, not a run with matching switched off (the ETL has no such switch).",
        "",
        "Seconds per stage, summed over the batches (`etl_batch.stage_seconds`), the parts of matching and the",
        "weekly and monthly period rollups (timed inside the `rollup` stage):",
        "",
        "| stage | " + " | ".join(formats) + " |",
        "|---|" + "---:|" * len(formats),
    ]
    stages = list(dict.fromkeys(s for r in results["formats"].values() for s in r["full"]["stage_seconds"]))
    parts = list(dict.fromkeys(k for r in results["formats"].values() for k in r["full"]["matching_seconds"]))
    for stage in stages:
        cells = [f"{r['full']['stage_seconds'].get(stage, 0.0):.1f}" for r in results["formats"].values()]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    for part in parts:
        cells = [f"{r['full']['matching_seconds'].get(part, 0.0):.1f}" for r in results["formats"].values()]
        label = part.replace("match.", "match: ").replace("_", " ")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    clusters = "; ".join(
        f"{fmt}: {r['full']['media_clusters']:,} media clusters ({r['full']['indexed_pdqs']:,} PDQs indexed) in "
        f"{r['full']['perceptual_clusters']:,} perceptual clusters, {r['full']['batches']} batches"
        for fmt, r in results["formats"].items()
    )
    sims = "; ".join(
        f"{fmt}: {r['simulation']['referrals']:,} referrals, {r['simulation']['files']:,} files in "
        f"{r['simulation']['seconds']} s (scale {r['simulation']['scale']})"
        for fmt, r in results["formats"].items()
    )
    lines += ["", f"Matched: {clusters}.", "", f"Simulation of the inputs (not part of the ETL timing): {sims}.", ""]
    update_section("ETL", "\n".join(lines))


if __name__ == "__main__":
    main()
