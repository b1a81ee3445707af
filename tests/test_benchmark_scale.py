"""The scale benchmark's ETL growth table, read from a warehouse's own batch records, and its summary of one
dashboard measurement."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.scale import dashboard_summary, etl_growth  # noqa: E402

INSERT_BATCH = """
INSERT INTO etl_batch (batch_id, source_kind, source_path, checksum, status, referrals_in, referrals_loaded,
    referrals_quarantined, referrals_duplicate, files_in, files_loaded, files_quarantined, files_duplicate,
    started_at, finished_at, duration_seconds, stage_seconds, code_version, contract_version)
VALUES (?, 'case_export', 'x', ?, ?, ?, ?, 0, 0, ?, ?, 0, 0, ?, ?, ?, ?, 'test', 'test')
"""


def add_batch(con, number: int, status: str, referrals: int, seconds: float, match: float, rollup: float) -> None:
    started = datetime(2026, 1, 1) + timedelta(hours=number)
    stages = json.dumps({"match": match, "rollup": rollup, "validate": 0.1})
    con.execute(
        INSERT_BATCH,
        [
            f"b{number}",
            f"c{number}",
            status,
            referrals,
            referrals,
            2 * referrals,
            2 * referrals,
            started,
            started,
            seconds,
            stages,
        ],
    )


def test_etl_growth_cuts_the_loaded_batches_into_runs_of_equal_referrals_in_the_order_they_ran(fresh_db, tmp_path):
    for number in range(4):  # 4 batches of 1,000 referrals; the match stage grows with the warehouse
        add_batch(fresh_db, number, "loaded", 1_000, seconds=1.0 + number, match=0.5 * (number + 1), rollup=0.2)
    add_batch(fresh_db, 9, "failed", 5_000, seconds=99.0, match=50.0, rollup=9.0)  # never loaded: not counted
    fresh_db.close()

    rows = etl_growth(tmp_path / "warehouse.duckdb", groups=2)

    assert [(row["referrals_before"], row["files_before"], row["batches"], row["referrals"]) for row in rows] == [
        (0, 0, 2, 2_000),
        (2_000, 4_000, 2, 2_000),
    ]
    assert [row["us_per_referral"] for row in rows] == [1_500.0, 3_500.0]  # (1 + 2) s and (3 + 4) s per 2,000
    assert [row["match_us"] for row in rows] == [750.0, 1_750.0]
    assert [row["rollup_us"] for row in rows] == [200.0, 200.0]
    assert [row["rest_us"] for row in rows] == [550.0, 1_550.0]


def test_the_dashboard_summary_names_the_worst_callback_and_page_and_counts_callbacks_above_300_ms():
    measured = {
        "peak_rss_gb": 1.234,
        "callbacks": [
            {"callback": "trends.draw", "p95_ms": 320.0},
            {"callback": "alerts.table", "p95_ms": 410.5},
            {"callback": "overview.kpis", "p95_ms": 12.0},
        ],
        "loads": [{"page": "/trends", "p95_ms": 900.0}, {"page": "/alerts", "p95_ms": 1_500.0}],
    }
    assert dashboard_summary(measured) == {
        "peak_rss_gb": 1.23,
        "worst_callback": "alerts.table",
        "worst_callback_p95_ms": 410.5,
        "slowest_load": "/alerts",
        "slowest_load_p95_s": 1.5,
        "callbacks_above_target": 2,
    }
