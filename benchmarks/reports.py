"""Report benchmark: how long a report run takes, from a warm warehouse, against the issue's targets.

One run: simulate two years for the EU-27 and load them through the real ETL (`--scale`), run
`grace analyse` (referrals, monthly and weekly), then time, each with its outputs written to an archive
folder:
  - the weekly operational brief in HTML, PDF and PPTX (+ the CSV annex) — target ≤ 60 s on 2 cores;
  - the strategic report for a quarter — target ≤ 3 min;
  - the Europol briefing deck.
Each time is given with its ratio to its target (below 1 = within it) and the number of checked numbers.
Prints JSON; with --write updates the "Reports" section of docs/BENCHMARKS.md.
With --warehouse, the reports are timed on an existing analysed warehouse instead (e.g. a large one).

    .venv/bin/python benchmarks/reports.py --write
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import machine, referral_count, simulated_warehouse, update_section  # noqa: E402
from grace.settings import reader_memory_limit  # noqa: E402

TARGETS = {"weekly-brief": 60.0, "strategic-quarterly": 180.0, "europol-deck": 180.0}


def build(root: Path, scale: float, seed: int) -> Path:
    """A warehouse from the simulator and the ETL, analysed (monthly and weekly referrals)."""
    from analytics.warehouse_run import run_analysis

    warehouse = simulated_warehouse(root, scale, seed, date(2023, 1, 1), date(2024, 12, 31))
    run_analysis(warehouse, metrics=["referrals"], grains=["month", "week"])
    return warehouse


def timed_run(name: str, warehouse: Path, out: Path) -> dict:
    from reporting.archive import write_run
    from reporting.content import build_report, verify
    from reporting.definition import load_definition
    from warehouse import WarehouseReader

    definition = load_definition("strategic-monthly" if name == "strategic-quarterly" else name)
    if name == "strategic-quarterly":
        definition = replace(definition, grain="quarter", name="strategic-quarterly")
    started = time.perf_counter()
    report = build_report(definition, WarehouseReader(warehouse), now=datetime.now(UTC))
    checked = verify(report)
    built = time.perf_counter()
    archived = write_run(report, definition, out, ("html", "pdf", "pptx", "csv"), checked, "benchmark")
    seconds = time.perf_counter() - started
    return {
        "report": name,
        "seconds": round(seconds, 1),
        "content_seconds": round(built - started, 1),
        "outputs_seconds": round(seconds - (built - started), 1),
        "target_seconds": TARGETS[name],
        "ratio_to_target": round(seconds / TARGETS[name], 2),
        "numbers_checked": checked,
        "charts": len(report.charts()),
        "bytes": {name: entry["bytes"] for name, entry in archived.manifest["files"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.02, help="simulator scale (the referral count is reported)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--warehouse",
        type=Path,
        help="time the reports on this existing, analysed warehouse instead (no build; not written with --write)",
    )
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    if args.warehouse and args.write:
        parser.error("--write describes the simulated build; run --warehouse without it")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        warehouse = args.warehouse or build(root, args.scale, args.seed)
        setup = time.perf_counter() - started
        referrals = referral_count(warehouse)
        timed_run("weekly-brief", warehouse, root / "warm-up")  # starts the renderer's Chromium: the warm state
        results = [timed_run(name, warehouse, root / "reports") for name in TARGETS]
    summary = {
        "machine": machine(),
        "scale": None if args.warehouse else args.scale,
        "reader_memory_limit": reader_memory_limit(),
        "referrals": referrals,
        "setup_seconds": round(setup, 1),
        "runs": results,
    }
    print(json.dumps(summary, indent=2))
    if args.write:
        rows = "\n".join(
            f"| {r['report']} | {r['seconds']} s ({r['content_seconds']} content + {r['outputs_seconds']} outputs) "
            f"| {r['target_seconds']:.0f} s | {r['ratio_to_target']} | {r['numbers_checked']} | {r['charts']} |"
            for r in results
        )
        update_section(
            "Reports",
            f"""## Reports ({date.today():%Y-%m-%d})
`benchmarks/reports.py --scale {args.scale}` on {machine()}: a warm warehouse (simulated EU-27, 2023–2024,
{referrals:,} referrals, analysed monthly and weekly; the renderer's Chromium already started), every output (HTML, PDF, PPTX, CSV
annex) written to its archive folder. Ratio = time / target (below 1 is within it).

| report | time | target | ratio | numbers checked | charts |
|---|---|---|---|---|---|
{rows}
""",
        )


if __name__ == "__main__":
    main()
