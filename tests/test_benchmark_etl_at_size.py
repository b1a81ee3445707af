"""The ETL-by-size benchmark's arithmetic: microseconds per referral per stage, and the side-by-side table."""

from __future__ import annotations

from benchmarks.etl_at_size import per_referral, table
from etl.pipeline import STAGES


def run(referrals_before: int, match_seconds: float) -> dict:
    stages = dict.fromkeys(STAGES, 1.0) | {"match": match_seconds}
    batch = {"path": "2033-Q1", "referrals": 500_000, "stage_seconds": stages}
    return {"wall_s": 20.0, "batches": [batch, batch], "referrals_before": referrals_before}


def test_costs_are_microseconds_per_loaded_referral_over_every_batch():
    costs = per_referral(run(0, match_seconds=5.0))
    assert costs["match"] == 10.0  # 2 × 5 s over 1 M referrals
    assert costs["rollup"] == 2.0
    assert costs["wall"] == 20.0


def test_the_table_gives_each_warehouse_and_its_ratio_to_the_first():
    runs = [run(10_000_000, 5.0), run(100_000_000, 15.0)]
    for each in runs:
        each["us_per_referral"] = per_referral(each)
    lines = table({"runs": runs}).splitlines()
    assert lines[0] == "| stage | 10.0 M µs/ref | 100.0 M µs/ref | 100.0 M ÷ first |"
    assert "| match | 10.0 | 30.0 | 3.00 |" in lines
    assert "| rollup | 2.0 | 2.0 | 1.00 |" in lines
