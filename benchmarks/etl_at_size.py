"""ETL cost by warehouse size: the same simulated year of deliveries loaded by this tree into warehouses of
different sizes, in the same run — microseconds per referral per stage at each size, and each size's cost ÷
the smallest's.

What it shows: how the ETL's cost per referral grows with the warehouse it loads into (the PDQ search among
every indexed hash, the rollups' reads of earlier facts), measured rather than extrapolated — including at
100 M referrals, on a replica (`benchmarks/replicate_warehouse.py`) whose copies' hashes are masked so that
new batches match only the original's, as in the original.

Steps: `grace simulate` of --year at --scale (Parquet, quarterly deliveries, seed as the other benchmarks),
kept under --work and reused while the options are the same; then for each --warehouse in the order given,
`grace etl run --json` of the year into a copy of it under --work (the file and its near-duplicate index), or
with --in-place into the warehouse itself (for a replica too large to copy: it is changed).

    .venv/bin/python benchmarks/etl_at_size.py --warehouse /work/bench10m/warehouse.duckdb \\
        --warehouse /work/bench100m/warehouse.duckdb --in-place-from 2 --year 2033 --scale 0.38
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import machine, referral_count  # noqa: E402
from benchmarks.dashboard import log  # noqa: E402
from benchmarks.etl_increment import copy_warehouse, load_year, stage_totals, year_inputs  # noqa: E402
from etl.pipeline import STAGES  # noqa: E402


def per_referral(run: dict) -> dict[str, float]:
    """Microseconds per loaded referral: each stage's, and the whole run's wall time."""
    referrals = sum(batch["referrals"] for batch in run["batches"]) or 1
    stages = stage_totals(run)
    costs = {stage: stages[stage] / referrals * 1e6 for stage in STAGES}
    costs["wall"] = run["wall_s"] / referrals * 1e6
    return {name: round(value, 1) for name, value in costs.items()}


def table(results: dict) -> str:
    """The runs side by side: µs per referral per stage, and each ÷ the first warehouse's."""
    runs = results["runs"]
    head = "| stage | " + " | ".join(f"{run['referrals_before'] / 1e6:.1f} M µs/ref" for run in runs)
    head += " | " + " | ".join(f"{run['referrals_before'] / 1e6:.1f} M ÷ first" for run in runs[1:]) + " |"
    lines = [head, "|---|" + "---:|" * (2 * len(runs) - 1)]
    for stage in [*STAGES, "wall"]:
        first = runs[0]["us_per_referral"][stage]
        cells = [f"{run['us_per_referral'][stage]:.1f}" for run in runs]
        ratios = [f"{run['us_per_referral'][stage] / first:.2f}" if first else "–" for run in runs[1:]]
        lines.append(f"| {stage} | " + " | ".join(cells + ratios) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, action="append", required=True, help="a warehouse (repeat)")
    parser.add_argument("--year", type=int, default=2033, help="simulated year to load [2033]")
    parser.add_argument("--scale", type=float, default=0.38, help="simulation scale [0.38: ~1.6 M referrals]")
    parser.add_argument("--work", type=Path, default=Path("/tmp/grace-bench-etl-size"), help="scratch folder")
    parser.add_argument(
        "--in-place-from",
        type=int,
        default=0,
        help="load into the warehouses themselves from this one on (1 = the first), not into copies",
    )
    args = parser.parse_args()
    for warehouse in args.warehouse:
        if not warehouse.is_file():
            parser.error(f"--warehouse {warehouse}: no such file")
    args.work.mkdir(parents=True, exist_ok=True)
    home = args.work / "home"
    home.mkdir(exist_ok=True)
    exports = year_inputs(args.work, args.year, args.scale, home)
    results: dict = {"date": date.today().isoformat(), "machine": machine(), "year": args.year, "runs": []}
    for number, warehouse in enumerate(args.warehouse, start=1):
        in_place = bool(args.in_place_from) and number >= args.in_place_from
        target = warehouse if in_place else copy_warehouse(warehouse, args.work / f"warehouse-{number}")
        before = referral_count(target)
        log(f"{warehouse}: {before:,} referrals; loading {args.year}" + (" in place" if in_place else " into a copy"))
        run = load_year(REPO, target, exports, home)
        run.update(warehouse=str(warehouse), in_place=in_place, referrals_before=before)
        run["us_per_referral"] = per_referral(run)
        results["runs"].append(run)
        log(f"loaded in {run['wall_s']:.0f} s: {run['us_per_referral']}")
        (args.work / "results.json").write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
