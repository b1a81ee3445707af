"""ETL increment benchmark: one more simulated year of deliveries loaded into a copy of a large warehouse by
this tree and into another copy by a reference revision, in the same run: seconds per stage per batch,
this tree ÷ the reference, and whether the two copies end with the same rows.

What it shows: how much a batch costs once the warehouse is large (the stages whose work follows the
warehouse's size rather than the batch's), which a build from empty averages away.

Steps (each prints progress):
  1. inputs — `grace simulate` of --year (Parquet, quarterly deliveries) at the warehouse's own scale (from
     the `stamp.json` beside it, which `benchmarks/dashboard.py` writes; or --scale) and seed, kept under
     --work and reused while the options are the same.
  2. loads — for the reference (a fresh worktree of --reference with this checkout's venv, its kernels
     compiled first by its own `grace compile`) and then this tree: the warehouse and its near-duplicate
     index copied under --work, and `grace etl run --json` of the year's deliveries into the copy.
  3. compare — both copies attached to one DuckDB: every table's rows in one and not the other (EXCEPT ALL
     both ways), leaving out the columns that record when or by which code a row was written.
With --write, the results go into the "ETL increment at scale" section of docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/etl_increment.py --warehouse /tmp/bench/warehouse.duckdb --reference 0b1fa39 --write
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import machine, update_section  # noqa: E402
from benchmarks.dashboard import SEED, bench_env, grace_cmd, log, simulate  # noqa: E402
from benchmarks.first_start import fresh_tree, remove_tree, setup_compile  # noqa: E402
from etl.pipeline import STAGES  # noqa: E402

# Written by the load itself, so they differ between any two loads: when, by which code, how long.
VOLATILE_TABLES = ("etl_batch", "warehouse_meta")
VOLATILE_COLUMNS = ("code_version", "duration_seconds", "stage_seconds")  # and every "..._at" timestamp


def year_inputs(work: Path, year: int, scale: float, home: Path) -> Path:
    """The year's deliveries under `work` (simulated once per options); returns their exports folder."""
    inputs = work / f"sim-{year}"
    options = {"year": year, "scale": round(scale, 6), "seed": SEED + year, "format": "parquet"}
    stamp = inputs / "options.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == options:
        log(f"reusing the simulated {year} in {inputs}")
        return inputs / "exports"
    referrals = simulate(inputs, SEED + year, scale, f"{year}-01-01", f"{year}-12-31", "quarter", bench_env(home))
    stamp.write_text(json.dumps(options))
    log(f"simulated {year}: {referrals:,} referrals")
    return inputs / "exports"


def copy_warehouse(warehouse: Path, target: Path) -> Path:
    """The warehouse file and the near-duplicate index beside it, copied into folder `target`."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    copy = target / warehouse.name
    shutil.copy2(warehouse, copy)
    index = Path(str(warehouse) + ".pdq-index")
    if index.exists():
        shutil.copytree(index, Path(str(copy) + ".pdq-index"))
    return copy


def load_year(tree: Path, warehouse: Path, exports: Path, home: Path) -> dict:
    """`grace etl run --json` of the year into `warehouse` with `tree`'s code: wall seconds and batch reports."""
    env = {**bench_env(home), "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    out = subprocess.run(
        grace_cmd("etl", "run", "--warehouse", str(warehouse), "--json", "--quiet", str(exports)),
        check=True,
        env=env,
        capture_output=True,
        text=True,
        cwd=tree,
    )
    wall = time.perf_counter() - started
    batches = json.loads(out.stdout)["batches"]
    return {
        "wall_s": round(wall, 1),
        "batches": [
            {
                "path": Path(b["source_path"]).name,
                "referrals": b["referrals_loaded"],
                "stage_seconds": b["stage_seconds"],
            }
            for b in batches
        ],
    }


def differing_rows(reference: Path, current: Path) -> dict[str, int]:
    """Per table of the current copy: rows in one copy and not the other (both ways), volatile columns left out."""
    import duckdb

    con = duckdb.connect()
    con.execute("ATTACH ? AS a (READ_ONLY)", [str(reference)])
    con.execute("ATTACH ? AS b (READ_ONLY)", [str(current)])
    tables = [
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'b' AND schema_name = 'main' "
            "ORDER BY table_name"
        ).fetchall()
        if row[0] not in VOLATILE_TABLES
    ]
    found = {}
    for table in tables:
        columns = [
            row[0]
            for row in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = 'b' AND schema_name = 'main' "
                "AND table_name = ? ORDER BY column_index",
                [table],
            ).fetchall()
            if row[0] not in VOLATILE_COLUMNS and not row[0].endswith("_at")
        ]
        # Names come from the catalogue of our own warehouse, quoted; nothing here is outside input.
        listed = ", ".join(f'"{c}"' for c in columns)
        one, other = f'SELECT {listed} FROM a."{table}"', f'SELECT {listed} FROM b."{table}"'
        row = con.execute(
            f"SELECT (SELECT count(*) FROM ({one} EXCEPT ALL {other})) + (SELECT count(*) FROM ({other} EXCEPT ALL {one}))"
        ).fetchone()
        found[table] = int(row[0]) if row else 0
    con.close()
    return found


def stage_totals(run: dict) -> dict[str, float]:
    return {s: round(sum(b["stage_seconds"].get(s, 0.0) for b in run["batches"]), 2) for s in STAGES}


def write_markdown(results: dict) -> None:
    reference, current = results["reference"], results["current"]
    then, now = stage_totals(reference), stage_totals(current)
    referrals = sum(b["referrals"] for b in current["batches"])
    lines = [
        f"## ETL increment at scale ({results['date']})",
        "",
        f"Machine: {results['machine']}. `benchmarks/etl_increment.py`: the simulated {results['year']} "
        f"({referrals:,} referrals, {len(current['batches'])} quarterly deliveries, Parquet) loaded into copies "
        f"of a warehouse of {results['warehouse_referrals']:,} referrals, by this tree ({results['revision']}) "
        f"and by the reference ({results['reference_revision']}) in the same run. Seconds per stage, the "
        "year's batches summed:",
        "",
        "| Stage | Reference (s) | This tree (s) | This tree ÷ reference |",
        "|---|---:|---:|---:|",
    ]
    for stage in STAGES:
        ratio = f"{now[stage] / then[stage]:.2f}" if then[stage] else "–"
        lines.append(f"| {stage} | {then[stage]:.1f} | {now[stage]:.1f} | {ratio} |")
    total_then, total_now = sum(then.values()), sum(now.values())
    lines.append(f"| **all stages** | {total_then:.1f} | {total_now:.1f} | {total_now / total_then:.2f} |")
    lines += [
        "",
        f"Wall time of `grace etl run`: reference {reference['wall_s']:.0f} s, this tree {current['wall_s']:.0f} s "
        f"({referrals / current['wall_s']:,.0f} referrals/s).",
        "",
        "Rollup stage per batch (s): "
        + ", ".join(
            f"{a['path']} {a['stage_seconds'].get('rollup', 0):.1f} → {b['stage_seconds'].get('rollup', 0):.1f}"
            for a, b in zip(reference["batches"], current["batches"], strict=True)
        )
        + ".",
        "",
    ]
    differing = {t: n for t, n in results["differing_rows"].items() if n}
    lines.append(
        f"Same rows: the two copies agree on all {len(results['differing_rows'])} tables compared (every table "
        f"but {', '.join(VOLATILE_TABLES)}; columns recording when or by which code a row was written left out)."
        if not differing
        else "**The copies differ**: " + ", ".join(f"{t} {n:,} rows" for t, n in sorted(differing.items())) + "."
    )
    update_section("ETL increment at scale", "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, help="the large warehouse (left as it is)")
    parser.add_argument("--reference", help="git revision to compare with")
    parser.add_argument("--year", type=int, default=2026, help="simulated year to load [2026]")
    parser.add_argument("--scale", type=float, help="simulation scale [the warehouse's stamp.json]")
    parser.add_argument("--work", type=Path, default=Path("/tmp/grace-bench-increment"), help="scratch folder")
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    parser.add_argument(
        "--report-only", action="store_true", help="write docs/BENCHMARKS.md from WORK/results.json (no loads)"
    )
    args = parser.parse_args()
    if args.report_only:
        write_markdown(json.loads((args.work / "results.json").read_text()))
        log("wrote docs/BENCHMARKS.md from " + str(args.work / "results.json"))
        return
    if not args.warehouse or not args.reference:
        parser.error("--warehouse and --reference are required (except with --report-only)")
    stamp = args.warehouse.parent / "stamp.json"
    scale = args.scale or (json.loads(stamp.read_text())["scale"] if stamp.is_file() else None)
    if scale is None:
        raise SystemExit(f"no --scale given and no {stamp} to read it from")
    args.work.mkdir(parents=True, exist_ok=True)
    home = args.work / "home"
    home.mkdir(exist_ok=True)
    exports = year_inputs(args.work, args.year, scale, home)
    import duckdb

    con = duckdb.connect(str(args.warehouse), read_only=True)
    warehouse_referrals = con.execute("SELECT count(*) FROM fact_referral").fetchall()[0][0]
    con.close()
    revision = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True).stdout
    results = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "year": args.year,
        "warehouse_referrals": warehouse_referrals,
        "revision": revision + (" with uncommitted changes" if dirty.strip() else ""),
        "reference_revision": args.reference,
    }
    tree = fresh_tree(args.reference, args.work / "reference-tree")
    try:
        log(f"reference {args.reference}: grace compile ({setup_compile(tree):.0f} s); loading {args.year}")
        copy = copy_warehouse(args.warehouse, args.work / "reference")
        results["reference"] = load_year(tree, copy, exports, home)
    finally:
        remove_tree(tree)
    log(f"reference loaded in {results['reference']['wall_s']:.0f} s; this tree loading {args.year}")
    current_copy = copy_warehouse(args.warehouse, args.work / "current")
    results["current"] = load_year(REPO, current_copy, exports, home)
    log(f"this tree loaded in {results['current']['wall_s']:.0f} s; comparing the copies")
    results["differing_rows"] = differing_rows(copy, current_copy)
    (args.work / "results.json").write_text(json.dumps(results, indent=2))
    then, now = stage_totals(results["reference"]), stage_totals(results["current"])
    for stage in STAGES:
        print(f"{stage:12s} {then[stage]:8.1f} {now[stage]:8.1f}")
    print("differing rows:", {t: n for t, n in results["differing_rows"].items() if n} or "none")
    if args.write:
        write_markdown(results)
        log("wrote docs/BENCHMARKS.md")


if __name__ == "__main__":
    main()
