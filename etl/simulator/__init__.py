"""Deterministic simulated case systems for GRACE Trends (`grace simulate`).

Writes what agencies' case-management systems would deliver — referral and file exports
(CSV or Parquet, one folder per delivery period), NCMEC-style JSON referral packages, a known
hash set — plus a manifest, the ground truth of every injected event and the list of
deliberately malformed records. Metadata only: no media, category codes only, synthetic
identifiers on reserved example domains and documentation address ranges.

    from etl.simulator import SimulationConfig, simulate
    result = simulate(SimulationConfig(out="sim", scale=0.01, seed=7))
"""

from etl.simulator.config import SimulationConfig
from etl.simulator.runner import SIMULATOR_VERSION, SimulationResult, simulate

__all__ = ["SIMULATOR_VERSION", "SimulationConfig", "SimulationResult", "simulate"]
