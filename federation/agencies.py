"""Simulated agencies that differ (non-IID), each with its own warehouse built through the normal ETL.

Federated learning is only interesting when the agencies are not alike. The default six:
- sizes that differ by more than 100× (the agency for Germany and Austria against a Maltese unit that
  handles 40 % of Malta's referrals: population drives volume);
- different platform mixes and label rates (each agency is simulated with its own seed, so its own
  country mix, random intercept and dated events, and one agency's case outcomes follow a drifted
  outcome model from 2024, `SimulationConfig.outcome_drift_date`);
- two label-scarce agencies, as small member states often are: the Maltese unit passes most cases on to
  local forces and learns the outcome of about one referral in ten (`outcome_feedback`), and the
  Luxembourg agency joined in July 2024 and hears back on one in ten as well. A few dozen labelled
  outcomes each, a handful of them positive (at the benchmark's scale 0.1); the outcome model itself is the one every agency shares
  (`etl.simulator.outcomes`: same coefficients, a random intercept per agency), so what holds them back
  is only the lack of labels.

Each agency is simulated on its own (its countries only), then loaded by the real ETL (`etl.runner`) into
its own DuckDB file, with its own pseudonymisation key. For a reproducible simulation the key is derived
from the seed and the agency code; a real agency's key is its own secret and never leaves it.

`build_evaluation_warehouse` loads a second, independent draw of the same agency (same seed, so the same
world; `SimulationConfig.draw`) with every outcome reported back, at a larger scale when the agency is
small: a test set from the agency's own distribution, big enough that AUC and F1 are not noise, and
disjoint from what it trains on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from etl.runner import run_batches
from etl.simulator import SimulationConfig, simulate
from etl.sources import discover_batches
from grace.config import PseudonymKey
from grace.errors import GraceError
from warehouse import connect, ensure_schema

START, END = date(2023, 1, 1), date(2024, 12, 31)


@dataclass(frozen=True)
class AgencySpec:
    """One simulated agency: its code, the countries whose referrals it receives, and how it differs."""

    code: str
    countries: tuple[str, ...]
    seed_offset: int
    start: date = START  # a later start: an agency that joined recently (few closed, labelled referrals)
    outcome_drift: date | None = None  # its case outcomes follow a drifted model from this date
    share: float = 1.0  # the part of its countries' referral volume it handles (a regional unit: < 1)
    outcome_feedback: float = 1.0  # the share of its referrals whose outcome it ever learns (labels)


DEFAULT_AGENCIES = (
    AgencySpec("AGY-DEU", ("DEU", "AUT"), 1),
    AgencySpec("AGY-FRA", ("FRA", "BEL"), 2),
    AgencySpec("AGY-POL", ("POL", "CZE"), 3, outcome_drift=date(2024, 1, 1)),
    AgencySpec("AGY-NLD", ("NLD",), 4),
    AgencySpec("AGY-MLT", ("MLT",), 5, share=0.4, outcome_feedback=0.1),
    AgencySpec("AGY-LUX", ("LUX",), 6, start=date(2024, 7, 1), outcome_feedback=0.1),
)


class AgencyBuildError(GraceError):
    """An agency's simulated deliveries did not load cleanly."""


def agency_key(code: str, seed: int) -> PseudonymKey:
    """A reproducible pseudonymisation key for a simulated agency (never for real data)."""
    secret = hashlib.sha256(f"grace-simulated-agency-key|{seed}|{code}".encode()).hexdigest().encode()
    return PseudonymKey(secret, f"simulated agency {code}")


def build_agency_warehouse(
    spec: AgencySpec, root: Path, scale: float, seed: int = 42, end: date = END, draw: int = 0, name: str = "warehouse"
) -> Path:
    """Simulate one agency's case system and load it through the ETL into `root/<code>/<name>.duckdb`.

    `draw` > 0 is an independent sample of the same agency (`SimulationConfig.draw`)."""
    folder = root / spec.code
    simulated = folder / ("sim" if name == "warehouse" else f"sim-{name}")
    simulate(
        SimulationConfig(
            out=simulated,
            seed=seed + spec.seed_offset,
            scale=scale * spec.share,
            start=spec.start,
            end=end,
            countries=spec.countries,
            delivery="year",
            outcome_drift_date=spec.outcome_drift,
            draw=draw,
            outcome_feedback=spec.outcome_feedback,
        )
    )
    path = folder / f"{name}.duckdb"
    con = connect(path)
    try:
        ensure_schema(con)
        summary = run_batches(con, discover_batches(simulated / "exports"), agency_key(spec.code, seed))
    finally:
        con.close()
    if not summary.ok:
        raise AgencyBuildError(f"{spec.code}: {len(summary.failures)} batch(es) failed to load: {summary.failures}")
    return path


def build_evaluation_warehouse(
    spec: AgencySpec, root: Path, scale: float, seed: int = 42, end: date = END, draw: int = 1
) -> Path:
    """A test set from the agency's own distribution: draw `draw` of the same agency (same world, other
    referrals) with every outcome reported back — feedback is missing at random, so its labelled referrals
    follow the same distribution as the agency's own — loaded like its warehouse into
    `root/<code>/evaluation-<draw>.duckdb`. `scale` may exceed the agency's, to give a small agency enough
    positives."""
    return build_agency_warehouse(
        replace(spec, outcome_feedback=1.0), root, scale, seed, end, draw=draw, name=f"evaluation-{draw}"
    )


def build_agency_warehouses(
    root: Path,
    scale: float,
    agencies: Sequence[AgencySpec] = DEFAULT_AGENCIES,
    seed: int = 42,
    on_built: Callable[[str, Path], None] | None = None,
) -> dict[str, Path]:
    """Every agency's warehouse (see the module docstring), in the order given."""
    built = {}
    for spec in agencies:
        built[spec.code] = build_agency_warehouse(spec, root, scale, seed)
        if on_built is not None:
            on_built(spec.code, built[spec.code])
    return built
