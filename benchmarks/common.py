"""What every benchmark and validation script shares: a description of the machine, updating its own
section of docs/BENCHMARKS.md without touching the others, and rewriting a block between markers in
any document (the validation scripts' tables)."""

from __future__ import annotations

import os
import platform
import re
from datetime import date
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"
HEADER = """# Benchmarks

Each section is written by its script in `benchmarks/` and says when, on which machine and with
which command it was measured. Figures are ratios against a reference measured in the same run,
because these machines are shared and absolute timings drift. Timings are never unit tests.
"""


def machine() -> str:
    """One line: host, cores, CPU model, memory, Python."""
    cpu = "?"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as handle:
        mem_kib = next(int(line.split()[1]) for line in handle if line.startswith("MemTotal"))
    return f"{os.cpu_count()} cores ({cpu}), {mem_kib / 1024**2:.0f} GiB RAM, Python {platform.python_version()}"


def update_section(title: str, section: str) -> None:
    """Replace (or append) the `## <title> (` section of docs/BENCHMARKS.md."""
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else HEADER
    marker = f"## {title} ("
    start = text.find(marker)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section.rstrip("\n") + "\n" + (text[end:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    BENCHMARKS_MD.write_text(text)


def write_block(path: Path, part: str, body: str, template: str | None = None) -> None:
    """Replace the text between `<!-- validation:PART:start -->` and `...:end -->` in `path`; the prose
    around the markers is left as it is. A missing document is created from `template` (if given)."""
    text = path.read_text() if path.is_file() else (template or "")
    start, end = f"<!-- validation:{part}:start -->", f"<!-- validation:{part}:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"{path}: markers {start} / {end} not found")
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: f"{start}\n{body.strip()}\n{end}", text, count=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def simulated_warehouse(root: Path, scale: float, seed: int, start: date, end: date, drift: date | None = None) -> Path:
    """A warehouse from the real simulator (quarterly deliveries, optional outcome drift) loaded by the real
    ETL, at `root/warehouse.duckdb`."""
    from etl.runner import run_batches
    from etl.simulator import SimulationConfig, simulate
    from etl.sources import discover_batches
    from grace.config import PseudonymKey
    from warehouse import connect, ensure_schema

    out = root / "sim"
    simulate(
        SimulationConfig(
            out=out, seed=seed, scale=scale, start=start, end=end, delivery="quarter", outcome_drift_date=drift
        )
    )
    path = root / "warehouse.duckdb"
    con = connect(path)
    try:
        ensure_schema(con)
        summary = run_batches(con, discover_batches(out / "exports"), PseudonymKey(b"benchmark-key-not-secret", "b"))
        if not summary.ok:
            raise SystemExit(f"ETL failed: {summary.failures}")
    finally:
        con.close()
    return path


def referral_count(warehouse: Path) -> int:
    """How many referrals a warehouse holds (opened read-only)."""
    from warehouse import connect

    con = connect(warehouse, read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM fact_referral").fetchone()[0])
    finally:
        con.close()
